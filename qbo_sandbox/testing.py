"""Run the sandbox over real HTTP inside a test process, plus control-API helpers.

    from qbo_sandbox.testing import run_sandbox

    with run_sandbox({"limits": {"enabled": False}}) as sbx:
        tokens = sbx.mint_tokens(sbx.REALM_1)
        requests.get(f"{sbx.base_url}/v3/company/{sbx.REALM_1}/customer/1",
                     headers={"Authorization": f"Bearer {tokens['access_token']}",
                              "Accept": "application/json"})

The server listens on 127.0.0.1 on an ephemeral port in a daemon thread (werkzeug,
threaded). State is in-memory and private to the handle.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from werkzeug.serving import WSGIRequestHandler, make_server

from .app import create_app
from .config import DEV_APP
from .core import Sandbox
from .seed import DEMO_USER, REALM_1, REALM_2


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Access lines are noise in test output; errors are still logged."""


class SandboxHandle:
    """A running sandbox: its URL, its control secret and helpers for the control API."""

    REALM_1 = REALM_1
    REALM_2 = REALM_2
    CLIENT_ID = DEV_APP["client_id"]
    CLIENT_SECRET = DEV_APP["client_secret"]
    USER_EMAIL = DEMO_USER["email"]
    USER_PASSWORD = DEMO_USER["password"]

    def __init__(self, base_url: str, control_secret: str, sandbox: Sandbox) -> None:
        self.base_url = base_url
        self.control_secret = control_secret
        self.sandbox = sandbox  # in-process access, e.g. sandbox.add_change_listener(fn)
        self.http = requests.Session()

    def close(self) -> None:
        self.http.close()

    @property
    def discovery_url(self) -> str:
        return f"{self.base_url}/.well-known/openid_sandbox_configuration"

    def api_url(self, realm_id: str, path: str = "") -> str:
        return f"{self.base_url}/v3/company/{realm_id}/{path.lstrip('/')}"

    # -- control API ----------------------------------------------------------------------------
    def control(self, method: str, path: str, json: Any = None) -> Any:
        """Call ``/_sandbox/api/<path>`` and return its JSON (raises on HTTP errors)."""
        resp = self.http.request(
            method,
            f"{self.base_url}/_sandbox/api/{path.lstrip('/')}",
            json=json,
            headers={"X-Sandbox-Secret": self.control_secret},
            timeout=30,
        )
        resp.raise_for_status()
        return resp.json()

    def reset(self, seed: bool = True) -> Any:
        return self.control("POST", "reset", {"seed": seed})

    def create_company(
        self,
        name: str,
        sample: bool = False,
        owner: str | None = DEMO_USER["email"],
        realm_id: str | None = None,
    ) -> str:
        body = {"name": name, "sample": sample, "owner": owner, "realm_id": realm_id}
        return self.control("POST", "companies", body)["realm_id"]

    def create_user(self, email: str, password: str, companies: list[str] | None = None) -> Any:
        return self.control(
            "POST", "users", {"email": email, "password": password, "companies": companies or []}
        )

    def register_app(
        self, client_id: str, client_secret: str, redirect_uris: list[str], **extra: Any
    ) -> Any:
        body = {
            "client_id": client_id,
            "client_secret": client_secret,
            "redirect_uris": redirect_uris,
            **extra,
        }
        return self.control("POST", "apps", body)

    def allow_redirect_uri(self, uri: str, client_id: str = DEV_APP["client_id"]) -> Any:
        """Add a redirect URI (e.g. a test server's ephemeral port) to a registered app."""
        apps = {a["client_id"]: a for a in self.control("GET", "apps")}
        app = apps[client_id]
        secret = self.sandbox.store.get("app", client_id)["client_secret"]  # type: ignore[index]
        uris = sorted(set(app["redirect_uris"]) | {uri})
        return self.register_app(
            client_id,
            secret,
            uris,
            name=app["name"],
            webhook_url=app.get("webhook_url"),
            verifier_token=app.get("verifier_token"),
        )

    def mint_tokens(
        self,
        realm_id: str = REALM_1,
        client_id: str = DEV_APP["client_id"],
        scope: str = "com.intuit.quickbooks.accounting",
    ) -> dict[str, Any]:
        """A token response as if the consent flow had run (no browser needed)."""
        return self.control(
            "POST", "tokens", {"client_id": client_id, "realm_id": realm_id, "scope": scope}
        )

    def expire_tokens(
        self, which: str = "access", realm_id: str | None = None, token: str | None = None
    ) -> int:
        return self.control(
            "POST", "tokens/expire", {"which": which, "realm_id": realm_id, "token": token}
        )["expired"]

    def revoke_tokens(self, realm_id: str | None = None, client_id: str | None = None) -> int:
        return self.control(
            "POST", "tokens/revoke", {"realm_id": realm_id, "client_id": client_id}
        )["revoked"]

    def advance_clock(self, seconds: float) -> Any:
        return self.control("POST", "clock", {"advance_seconds": seconds})

    def set_time_scale(self, scale: float) -> Any:
        return self.control("POST", "clock", {"scale": scale})

    def inject_fault(self, kind: str, count: int = 1, **match: Any) -> Any:
        """kind: 500, 503, 429, 401, hang, commit_then_drop; match: method, path, realm_id,
        hang_seconds, drop ('reset' | '502')."""
        return self.control("POST", "faults", {"kind": kind, "count": count, **match})

    def clear_faults(self) -> Any:
        return self.control("DELETE", "faults")

    def counters(self) -> dict[str, Any]:
        return self.control("GET", "counters")

    def reset_counters(self) -> Any:
        return self.control("POST", "counters/reset")

    def configure(self, **settings: Any) -> Any:
        """Runtime settings: limits={...}, latency_ms, batch_item_latency_ms, refresh_grace..."""
        return self.control("POST", "config", settings)

    def entities(self, realm_id: str, entity: str) -> list[dict[str, Any]]:
        """Every live entity of a type, unfiltered (no query language involved)."""
        return self.control("GET", f"companies/{realm_id}/entities/{entity}")

    # -- OAuth as a user would do it -------------------------------------------------------------
    def authorize(
        self,
        redirect_uri: str,
        state: str = "state-1",
        realm_id: str | None = None,
        scope: str = "com.intuit.quickbooks.accounting",
        client_id: str = DEV_APP["client_id"],
        email: str = DEMO_USER["email"],
        password: str = DEMO_USER["password"],
        allow: bool = True,
    ) -> dict[str, str]:
        """Run the consent pages (sign in, choose company, Allow/Deny) with a fresh browser
        session and return the query parameters of the redirect back to the app."""
        params = {
            "client_id": client_id,
            "response_type": "code",
            "scope": scope,
            "redirect_uri": redirect_uri,
            "state": state,
        }
        with requests.Session() as browser:
            page = browser.get(f"{self.base_url}/connect/oauth2", params=params, timeout=30)
            page.raise_for_status()
            page = browser.post(
                f"{self.base_url}/connect/oauth2/signin",
                data={**params, "email": email, "password": password},
                timeout=30,
            )
            page.raise_for_status()
            if realm_id:
                page = browser.get(
                    f"{self.base_url}/connect/oauth2",
                    params={**params, "company": realm_id},
                    timeout=30,
                )
            csrf = _hidden(page.text, "csrf")
            realm = _hidden(page.text, "realm")
            resp = browser.post(
                f"{self.base_url}/connect/oauth2/consent",
                allow_redirects=False,
                timeout=30,
                data={
                    **params,
                    "realm": realm,
                    "csrf": csrf,
                    "decision": "allow" if allow else "deny",
                },
            )
        location = resp.headers.get("Location", "")
        return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def _hidden(html: str, name: str) -> str:
    marker = f'name="{name}" value="'
    start = html.find(marker)
    if start < 0:
        return ""
    start += len(marker)
    return html[start : html.index('"', start)]


@contextmanager
def run_sandbox(config: dict[str, Any] | None = None) -> Iterator[SandboxHandle]:
    """Serve a fresh sandbox on 127.0.0.1:<ephemeral port> for the duration of the block."""
    app = create_app(config)
    sandbox: Sandbox = app.extensions["qbo_sandbox"]
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="qbo-sandbox", daemon=True)
    thread.start()
    handle = SandboxHandle(
        f"http://127.0.0.1:{server.port}", sandbox.config["control_secret"], sandbox
    )
    try:
        yield handle
    finally:
        handle.close()
        app.extensions["qbo_webhooks"].stop()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
