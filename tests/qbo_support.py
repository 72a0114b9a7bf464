"""Fixtures shared by the portal.qbo tests: a real HTTP sandbox, the app pointed at it, a
connected firm, and a counter of refreshes the sandbox's token endpoint performed.

Import the fixtures by their private names (`from tests.qbo_support import _sbx  # noqa`);
pytest registers them under their `name=`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from portal.extensions import db
from portal.models import Firm, QboConnection
from portal.qbo import environments, tokens
from portal.qbo.oauth import TokenSet
from portal.redis_conn import get_redis
from qbo_sandbox import tokens as sandbox_tokens
from qbo_sandbox.testing import SandboxHandle, run_sandbox

REDIRECT_URI = "http://localhost/integrations/quickbooks/callback"
FAST_RETRIES = {
    "QBO_RETRY_BASE_SECONDS": 0.01,
    "QBO_RETRY_MAX_SECONDS": 0.05,
    "QBO_THROTTLE_WAIT_SECONDS": 0.05,
    "QBO_MAX_ATTEMPTS": 4,
}


def point_app_at(app: Flask, sbx: SandboxHandle, **extra: Any) -> None:
    """Configure the portal for QBO_ENVIRONMENT=local at this sandbox; forget cached state."""
    app.config.update(
        QBO_ENVIRONMENT="local",
        QBO_LOCAL_URL=sbx.base_url,
        QBO_REDIRECT_URI=REDIRECT_URI,
        QBO_CLIENT_ID=sbx.CLIENT_ID,
        QBO_CLIENT_SECRET=sbx.CLIENT_SECRET,
        **FAST_RETRIES,
    )
    app.config.update(extra)
    environments.clear_cache()
    redis = get_redis(app)
    for realm in (sbx.REALM_1, sbx.REALM_2):
        redis.delete(*[f"qbo:gov:{realm}:{k}" for k in ("req", "inflight", "batch")])


@pytest.fixture(scope="module", name="sandbox_server")
def _sandbox_server() -> Iterator[SandboxHandle]:
    with run_sandbox() as handle:
        yield handle


@pytest.fixture(name="sbx")
def _sbx(sandbox_server: SandboxHandle, app: Flask) -> SandboxHandle:
    sandbox_server.reset()
    sandbox_server.allow_redirect_uri(REDIRECT_URI)
    point_app_at(app, sandbox_server)
    return sandbox_server


def connect_firm(firm: Firm, sbx: SandboxHandle, realm_id: str | None = None) -> QboConnection:
    """Store sandbox-minted tokens for the firm exactly as the OAuth callback would."""
    realm = realm_id or sbx.REALM_1
    answer = sbx.mint_tokens(realm)
    conn = tokens.record_connection(
        firm.id, TokenSet.from_response(answer, realm), realm, "Sandbox Company_US_1", None
    )
    db.session.commit()
    return conn


@pytest.fixture(name="connected")
def _connected(sbx: SandboxHandle, firm: Firm) -> QboConnection:
    return connect_firm(firm, sbx)


class RefreshCounter:
    """Counts refresh grants the sandbox's token endpoint handled (it has no counter of its
    own), optionally slowing each one so concurrent callers really overlap."""

    def __init__(self) -> None:
        self.calls = 0
        self.delay = 0.0
        self._lock = threading.Lock()

    def wrap(self, original: Callable[..., Any]) -> Callable[..., Any]:
        counter = self

        def refresh(self_: Any, *args: Any, **kwargs: Any) -> Any:
            with counter._lock:
                counter.calls += 1
            if counter.delay:
                threading.Event().wait(counter.delay)
            return original(self_, *args, **kwargs)

        return refresh


@pytest.fixture(name="refreshes")
def _refreshes(monkeypatch: pytest.MonkeyPatch) -> RefreshCounter:
    counter = RefreshCounter()
    monkeypatch.setattr(sandbox_tokens.Tokens, "refresh",
                        counter.wrap(sandbox_tokens.Tokens.refresh))
    return counter


def reload_connection(firm_id: int) -> QboConnection:
    db.session.expire_all()
    return db.session.execute(
        db.select(QboConnection).where(QboConnection.firm_id == firm_id)
    ).scalar_one()


def hammer_realm(settings: dict[str, Any], realm_id: str, access_token: str, count: int) -> int:
    """Child-process body for governor tests: `count` reads through a fresh app; returns how
    many failed. Module-level so a spawned process can import it."""
    from portal import create_app
    from portal.qbo.client import QboClient
    from portal.qbo.errors import QboError

    app = create_app({"TESTING": True, **settings})
    failed = 0
    with app.app_context(), QboClient(realm_id=realm_id, access_token=access_token) as qbo:
        for _ in range(count):
            try:
                qbo.get("Customer", "1")
            except QboError:
                failed += 1
    return failed
