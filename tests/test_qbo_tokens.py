"""Stored tokens: encryption at rest and key rotation, refresh only when due, serialized
refreshes, rotation persisted, invalid_grant -> needs_reconnect, disconnect."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from portal.models._common import utcnow
from portal.qbo import crypto, oauth, tokens
from portal.qbo.client import QboClient
from portal.qbo.errors import InvalidGrant, NotConnected, TokenDecryptError
from portal.qbo.oauth import TokenSet
from tests.qbo_support import (  # noqa: F401 - fixtures
    _connected,
    _refreshes,
    _sandbox_server,
    _sbx,
    reload_connection,
)


def expire_locally(db, conn, minutes_left: float = -1) -> None:
    conn.access_expires_at = utcnow() + timedelta(minutes=minutes_left)
    db.session.commit()


def raw_columns(db, conn_id: int) -> tuple[bytes, bytes]:
    row = db.session.execute(
        text("SELECT access_token_enc, refresh_token_enc FROM qbo_connections WHERE id = :id"),
        {"id": conn_id},
    ).one()
    return bytes(row[0]), bytes(row[1])


# -- at rest ---------------------------------------------------------------------------------------
def test_tokens_are_encrypted_at_rest(app, db, sbx, firm):
    answer = sbx.mint_tokens(sbx.REALM_1)
    conn = tokens.record_connection(firm.id, TokenSet.from_response(answer, sbx.REALM_1),
                                    sbx.REALM_1, "Sandbox Company_US_1", None)
    db.session.commit()
    access_col, refresh_col = raw_columns(db, conn.id)
    assert answer["access_token"].encode() not in access_col
    assert answer["refresh_token"].encode() not in refresh_col
    assert answer["refresh_token"][:12].encode() not in refresh_col
    assert crypto.decrypt(refresh_col) == answer["refresh_token"]
    assert conn.status == "connected" and conn.token_version == 1
    assert conn.refresh_expires_at > utcnow() + timedelta(days=100)


def test_token_values_never_appear_in_reprs():
    tokens_ = TokenSet(access_token="eyJ-secret-access", refresh_token="AB11-secret-refresh",
                       expires_in=3600, refresh_expires_in=100)
    assert "secret" not in repr(tokens_)
    assert "secret" not in str(tokens_)


def test_key_rotation_old_key_still_decrypts_and_rotate_moves_to_new(app, db, sbx, connected):
    old_key = app.config["TOKEN_ENCRYPTION_KEYS"][0]
    new_key = Fernet.generate_key().decode()
    plaintext = crypto.decrypt(connected.refresh_token_enc)

    app.config["TOKEN_ENCRYPTION_KEYS"] = [new_key, old_key]
    assert crypto.decrypt(connected.refresh_token_enc) == plaintext  # old ciphertext still reads
    with pytest.raises(TokenDecryptError):
        crypto.decrypt(connected.refresh_token_enc, [new_key])

    assert crypto.rotate_connection(connected)
    db.session.commit()
    assert crypto.decrypt(connected.refresh_token_enc, [new_key]) == plaintext
    with pytest.raises(TokenDecryptError):
        crypto.decrypt(connected.refresh_token_enc, [old_key])
    # the rotated row still serves a working token with only the new key configured
    app.config["TOKEN_ENCRYPTION_KEYS"] = [new_key]
    with QboClient(connected.firm_id) as qbo:
        assert qbo.get("Customer", "1")["Id"] == "1"


# -- refresh when due, and only then ---------------------------------------------------------------
def test_valid_token_is_served_without_refresh(app, sbx, connected, refreshes):
    stored = crypto.decrypt(connected.access_token_enc)
    assert tokens.get_access_token(connected.firm_id) == stored
    assert refreshes.calls == 0


@pytest.mark.parametrize("minutes_left", [-5, 2])
def test_expired_or_nearly_expired_token_refreshes_once(app, db, sbx, connected, refreshes,
                                                        minutes_left):
    old_access = crypto.decrypt(connected.access_token_enc)
    expire_locally(db, connected, minutes_left)
    fresh = tokens.get_access_token(connected.firm_id)
    assert fresh != old_access
    assert tokens.get_access_token(connected.firm_id) == fresh  # now valid: no second refresh
    assert refreshes.calls == 1
    conn = reload_connection(connected.firm_id)
    assert conn.token_version == 2
    assert conn.access_expires_at > utcnow() + timedelta(minutes=55)


def test_sandbox_clock_past_an_hour_refreshes_once_and_the_call_succeeds(app, sbx, connected,
                                                                          refreshes):
    sbx.advance_clock(3601)  # QBO now refuses the access token; our row still thinks it valid
    with QboClient(connected.firm_id) as qbo:
        assert qbo.get("Customer", "1")["Id"] == "1"
        assert qbo.get("Customer", "2")["Id"] == "2"
    assert refreshes.calls == 1


def test_rotated_refresh_token_is_persisted_and_the_old_one_never_used(app, db, sbx, connected,
                                                                        refreshes):
    sbx.configure(refresh_rotation_seconds=0)  # every refresh hands out a new refresh token
    first_refresh = crypto.decrypt(connected.refresh_token_enc)
    expire_locally(db, connected)
    tokens.get_access_token(connected.firm_id)
    conn = reload_connection(connected.firm_id)
    second_refresh = crypto.decrypt(conn.refresh_token_enc)
    assert second_refresh != first_refresh
    with pytest.raises(InvalidGrant):  # the old one is dead at Intuit ...
        oauth.refresh(first_refresh)
    expire_locally(db, conn)
    tokens.get_access_token(connected.firm_id)  # ... and we used the new one
    conn = reload_connection(connected.firm_id)
    assert conn.status == "connected"
    assert crypto.decrypt(conn.refresh_token_enc) not in (first_refresh, second_refresh)
    assert refreshes.calls == 3


def test_concurrent_refreshes_produce_exactly_one_refresh(app, db, sbx, connected, refreshes):
    sbx.configure(refresh_rotation_seconds=0)  # a second refresh with the old token would fail
    refreshes.delay = 0.3  # both workers see the expired token before the first one finishes
    expire_locally(db, connected)
    firm_id = connected.firm_id
    barrier = threading.Barrier(2)
    got: list[str] = []
    failures: list[BaseException] = []

    def worker() -> None:
        with app.app_context():
            barrier.wait()
            try:
                token = tokens.get_access_token(firm_id)
                with QboClient(firm_id) as qbo:
                    qbo.get("Customer", "1")
                got.append(token)
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert failures == []
    assert refreshes.calls == 1
    assert len(got) == 2 and got[0] == got[1]
    assert reload_connection(firm_id).status == "connected"


# -- invalid_grant ---------------------------------------------------------------------------------
def test_invalid_grant_marks_needs_reconnect_and_stops_calls(app, db, sbx, connected, refreshes):
    sbx.revoke_tokens(sbx.REALM_1)
    expire_locally(db, connected)
    with pytest.raises(InvalidGrant):
        tokens.get_access_token(connected.firm_id)
    conn = reload_connection(connected.firm_id)
    assert conn.status == "needs_reconnect"
    assert conn.last_error == tokens.INVALID_GRANT_MESSAGE
    assert refreshes.calls == 1
    requests_before = sbx.counters()["requests_total"]
    with pytest.raises(NotConnected):
        tokens.get_access_token(connected.firm_id)
    with pytest.raises(NotConnected):
        QboClient(connected.firm_id)
    assert refreshes.calls == 1  # no retry storm
    assert sbx.counters()["requests_total"] == requests_before


def test_revoked_in_qbo_is_detected_by_an_api_call(app, sbx, connected, refreshes):
    sbx.revoke_tokens(sbx.REALM_1)
    with QboClient(connected.firm_id) as qbo, pytest.raises(InvalidGrant):
        qbo.get("Customer", "1")
    assert reload_connection(connected.firm_id).status == "needs_reconnect"
    assert refreshes.calls == 1


def test_invalid_grant_rereads_a_token_another_process_stored(app, db, sbx, connected,
                                                               monkeypatch):
    """A refresh token rotated by someone outside our lock (e.g. a reconnect) is picked up."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("simulating a writer inside our row lock would block on PostgreSQL")
    sbx.configure(refresh_rotation_seconds=0)
    firm_id = connected.firm_id
    original = crypto.decrypt(connected.refresh_token_enc)
    real_refresh = oauth.refresh
    calls: list[str] = []

    def racing_refresh(refresh_token: str, app_config=None) -> TokenSet:
        calls.append(refresh_token)
        if len(calls) == 1:  # another process rotates first and stores its result
            newer = real_refresh(refresh_token)
            with app.app_context():
                other = reload_connection(firm_id)
                tokens.save_tokens(other, newer)
                other.access_expires_at = utcnow() - timedelta(minutes=1)
                db.session.commit()
        return real_refresh(refresh_token)

    monkeypatch.setattr(oauth, "refresh", racing_refresh)
    expire_locally(db, connected)
    token = tokens.get_access_token(firm_id)
    assert calls[0] == original and calls[1] != original  # retried with the newer token
    conn = reload_connection(firm_id)
    assert conn.status == "connected"
    assert crypto.decrypt(conn.access_token_enc) == token


# -- disconnect ------------------------------------------------------------------------------------
def test_disconnect_revokes_at_intuit_and_deletes_tokens(app, db, sbx, connected):
    access = crypto.decrypt(connected.access_token_enc)
    assert tokens.disconnect(connected) is True
    db.session.commit()
    conn = reload_connection(connected.firm_id)
    assert conn.status == "disconnected"
    assert conn.access_token_enc is None and conn.refresh_token_enc is None
    assert conn.realm_id == sbx.REALM_1  # kept, so reconnecting resumes
    answer = sbx.http.get(sbx.api_url(sbx.REALM_1, "customer/1"),
                          headers={"Authorization": f"Bearer {access}",
                                   "Accept": "application/json"}, timeout=10)
    assert answer.status_code == 401  # the grant is gone at Intuit


def test_disconnect_still_clears_tokens_when_intuit_is_unreachable(app, db, sbx, connected):
    app.config["QBO_LOCAL_URL"] = "http://127.0.0.1:9"
    from portal.qbo import environments

    environments.clear_cache()
    assert tokens.disconnect(connected) is False
    db.session.commit()
    assert reload_connection(connected.firm_id).refresh_token_enc is None
