"""Two worker processes find the same expired access token at once: exactly one refresh at
Intuit, no invalid_grant, both calls succeed (issue 4, C4). The processes share only the
database and Redis, as real workers on different machines would."""

from __future__ import annotations

import multiprocessing
import os
from datetime import timedelta
from typing import Any

from portal import create_app
from portal.extensions import db
from portal.models import Firm, QboConnection
from portal.models._common import utcnow
from portal.qbo import tokens
from portal.qbo.oauth import TokenSet
from portal.redis_conn import redis_url
from tests.qbo_support import (  # noqa: F401 - fixtures
    FAST_RETRIES,
    REDIRECT_URI,
    _refreshes,
    _sandbox_server,
)


def refresh_and_call(settings: dict[str, Any], firm_id: int, start: Any) -> str:
    """Child process: wait for the start signal, then get a token and make one API call."""
    from portal.qbo.client import QboClient

    app = create_app({"TESTING": True, **settings})
    with app.app_context():
        start.wait(30)
        token = tokens.get_access_token(firm_id)
        with QboClient(firm_id) as qbo:
            qbo.get("Customer", "1")
        db.session.remove()
        return token


def test_two_processes_refresh_an_expired_token_exactly_once(tmp_path, sandbox_server,
                                                              refreshes):
    sbx = sandbox_server
    sbx.reset()
    sbx.configure(refresh_rotation_seconds=0)  # a second refresh with the old token would fail
    refreshes.delay = 0.5  # both processes reach Intuit's door before the first refresh ends
    database = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path / 'portal.db'}"
    settings = {
        "SQLALCHEMY_DATABASE_URI": database,
        "QBO_ENVIRONMENT": "local",
        "QBO_LOCAL_URL": sbx.base_url,
        "QBO_REDIRECT_URI": REDIRECT_URI,
        "QBO_CLIENT_ID": sbx.CLIENT_ID,
        "QBO_CLIENT_SECRET": sbx.CLIENT_SECRET,
        **FAST_RETRIES,
    }
    app = create_app({"TESTING": True, **settings})
    settings["REDIS_URL"] = redis_url(app)  # the children share this process's Redis
    with app.app_context():
        db.drop_all()
        db.create_all()
        firm = Firm(name="Two Workers LLP")
        db.session.add(firm)
        db.session.commit()
        answer = sbx.mint_tokens(sbx.REALM_1)
        conn = tokens.record_connection(firm.id, TokenSet.from_response(answer, sbx.REALM_1),
                                        sbx.REALM_1, "Sandbox Company_US_1", None)
        conn.access_expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        firm_id = firm.id
        try:
            ctx = multiprocessing.get_context("spawn")
            with ctx.Manager() as manager:
                start = manager.Event()
                with ctx.Pool(2) as pool:
                    pending = [pool.apply_async(refresh_and_call, (settings, firm_id, start))
                               for _ in range(2)]
                    start.set()
                    got = [result.get(timeout=60) for result in pending]
            db.session.expire_all()
            conn = db.session.execute(
                db.select(QboConnection).where(QboConnection.firm_id == firm_id)
            ).scalar_one()
            assert refreshes.calls == 1
            assert got[0] == got[1]
            assert conn.status == "connected"
            assert conn.access_expires_at > utcnow() + timedelta(minutes=50)
        finally:
            db.session.remove()
            db.drop_all()
            db.engine.dispose()
