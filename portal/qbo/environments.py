"""Endpoints per QBO_ENVIRONMENT: ``local`` (the qbo_sandbox), ``sandbox`` and ``production``.

OAuth endpoints come from the environment's discovery document (reference §1.1), cached per
process for a short TTL, so Intuit can move an endpoint without a deploy. For Intuit's real
environments the documented URLs are the fallback when discovery cannot be fetched (the
portal must still start and show its pages); for ``local`` the sandbox *is* the source of
truth, so a failed fetch is an error. API and web-UI bases are fixed per environment (§2.1).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from flask import current_app

from portal.qbo.errors import TransportError

log = logging.getLogger(__name__)

DISCOVERY_TTL_SECONDS = 300.0
DISCOVERY_TIMEOUT = (5.0, 10.0)  # (connect, read) seconds

INTUIT_OAUTH = {
    "authorization_endpoint": "https://appcenter.intuit.com/connect/oauth2",
    "token_endpoint": "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
    "revocation_endpoint": "https://developer.api.intuit.com/v2/oauth2/tokens/revoke",
}
INTUIT = {
    "sandbox": {
        "discovery": "https://developer.intuit.com/.well-known/openid_sandbox_configuration/",
        "userinfo_endpoint": (
            "https://sandbox-accounts.platform.intuit.com/v1/openid_connect/userinfo"
        ),
        "api_base": "https://sandbox-quickbooks.api.intuit.com/v3",
        "app_base": "https://app.sandbox.qbo.intuit.com/app/",
    },
    "production": {
        "discovery": "https://developer.intuit.com/.well-known/openid_configuration/",
        "userinfo_endpoint": "https://accounts.platform.intuit.com/v1/openid_connect/userinfo",
        "api_base": "https://quickbooks.api.intuit.com/v3",
        "app_base": "https://qbo.intuit.com/app/",
    },
}
ENVIRONMENTS = ("local", "sandbox", "production")


@dataclass(frozen=True)
class Endpoints:
    """Every URL the portal needs for one environment."""

    environment: str
    authorize_url: str
    token_url: str
    revoke_url: str
    userinfo_url: str | None
    api_base: str  # ends in /v3; company paths are api_base + "/company/<realm>/..."
    app_base: str  # QBO web UI, for deep links; ends in "/"

    def company_url(self, realm_id: str) -> str:
        return f"{self.api_base}/company/{realm_id}"

    def deep_link(self, entity: str, entity_id: str, realm_id: str | None = None) -> str:
        """A link that opens one record in QBO's web UI (Customer, Invoice, TimeActivity).

        Intuit's web UI opens it in the company the browser has open; the local sandbox's UI
        is addressed per company, so there the realm is part of the path.
        """
        if self.environment == "local" and realm_id:
            local_pages = {"customer": "customers", "invoice": "invoices"}
            page = local_pages.get(entity.lower())
            if page:
                return f"{self.app_base}company/{realm_id}/{page}/{entity_id}"
            return f"{self.app_base}company/{realm_id}/time"
        pages = {
            "customer": f"customerdetail?nameId={entity_id}",
            "invoice": f"invoice?txnId={entity_id}",
            "timeactivity": f"timeactivity?txnId={entity_id}",
            "employee": f"employeedetail?nameId={entity_id}",
            "item": f"items?itemId={entity_id}",
        }
        return self.app_base + pages.get(entity.lower(), "homepage")


_cache: dict[str, tuple[float, dict[str, Any]]] = {}
_cache_lock = threading.Lock()


def clear_cache() -> None:
    """Forget cached discovery documents (tests, or after changing QBO_LOCAL_URL)."""
    with _cache_lock:
        _cache.clear()


def fetch_discovery(url: str, ttl: float = DISCOVERY_TTL_SECONDS) -> dict[str, Any]:
    """The discovery JSON at ``url``, cached for ``ttl`` seconds. Raises TransportError."""
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(url)
        if hit and hit[0] > now:
            return hit[1]
    try:
        response = requests.get(url, headers={"Accept": "application/json"},
                                timeout=DISCOVERY_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise TransportError(f"Could not read the QuickBooks discovery document at {url}: "
                             f"{type(exc).__name__}") from exc
    if not isinstance(document, Mapping) or "token_endpoint" not in document:
        raise TransportError(f"The discovery document at {url} has no token_endpoint")
    with _cache_lock:
        _cache[url] = (now + ttl, dict(document))
    return dict(document)


def endpoints(config: Mapping[str, Any] | None = None) -> Endpoints:
    """The endpoints for the app's QBO_ENVIRONMENT (config defaults to current_app.config)."""
    cfg = config if config is not None else current_app.config
    env = str(cfg.get("QBO_ENVIRONMENT") or "local")
    if env not in ENVIRONMENTS:
        raise ValueError(f"QBO_ENVIRONMENT must be one of {', '.join(ENVIRONMENTS)}; got {env!r}")
    if env == "local":
        base = str(cfg.get("QBO_LOCAL_URL") or "").rstrip("/")
        doc = fetch_discovery(base + "/.well-known/openid_sandbox_configuration")
        return Endpoints(
            environment=env,
            authorize_url=doc["authorization_endpoint"],
            token_url=doc["token_endpoint"],
            revoke_url=doc.get("revocation_endpoint") or base + "/v2/oauth2/tokens/revoke",
            userinfo_url=doc.get("userinfo_endpoint"),
            api_base=base + "/v3",
            app_base=base + "/_sandbox/",
        )
    fixed = INTUIT[env]
    try:
        doc = fetch_discovery(fixed["discovery"])
    except TransportError as exc:
        log.warning("qbo discovery env=%s state=fallback reason=%s", env, exc.message)
        doc = dict(INTUIT_OAUTH, userinfo_endpoint=fixed["userinfo_endpoint"])
        with _cache_lock:  # do not pay a connect timeout on every call while Intuit is away
            _cache[fixed["discovery"]] = (time.monotonic() + 60.0, doc)
    return Endpoints(
        environment=env,
        authorize_url=doc.get("authorization_endpoint") or INTUIT_OAUTH["authorization_endpoint"],
        token_url=doc.get("token_endpoint") or INTUIT_OAUTH["token_endpoint"],
        revoke_url=doc.get("revocation_endpoint") or INTUIT_OAUTH["revocation_endpoint"],
        userinfo_url=doc.get("userinfo_endpoint") or fixed["userinfo_endpoint"],
        api_base=fixed["api_base"],
        app_base=fixed["app_base"],
    )
