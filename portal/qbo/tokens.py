"""Stored QBO tokens: save, serve, refresh (serialized across processes), disconnect.

Rules (DESIGN C4/C5, reference §1.6): refresh only when the access token is expired or within
REFRESH_MARGIN; one refresh per connection at a time across every process (a Redis lock, plus
SELECT ... FOR UPDATE on PostgreSQL), re-reading the row inside the lock so a second worker
uses the token the first one got; the newest refresh token is stored in the same transaction
as the access token. ``invalid_grant`` -> re-read once, then ``needs_reconnect`` and
InvalidGrant; a connection in that state raises NotConnected without any HTTP call.

The refresh commits in a session of its own, so a caller's unfinished work is never committed
along with the new tokens (and a caller's rollback can never lose a rotated refresh token).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from redis.exceptions import LockError
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.models import QboConnection
from portal.models._common import utcnow
from portal.qbo import crypto, oauth
from portal.qbo.errors import InvalidGrant, NotConnected, TransportError
from portal.qbo.oauth import TokenSet
from portal.redis_conn import get_redis

log = logging.getLogger(__name__)

REFRESH_MARGIN = timedelta(minutes=5)  # refresh when the access token has less than this left
LOCK_TTL_SECONDS = 90  # a dead worker's refresh lock expires after this
LOCK_WAIT_SECONDS = 45  # how long a worker waits for another's refresh before giving up
INVALID_GRANT_MESSAGE = (
    "QuickBooks refused the saved authorization (invalid_grant). An admin must reconnect."
)


def save_tokens(conn: QboConnection, token: Mapping[str, Any] | TokenSet,
                now: datetime | None = None) -> None:
    """Encrypt and store a token answer on ``conn`` and bump token_version (caller commits).

    A token answer without a refresh token keeps the stored one (authlib's refresh contract).
    """
    data = token.as_dict() if isinstance(token, TokenSet) else dict(token)
    now = now or utcnow()
    conn.access_token_enc = crypto.encrypt(str(data["access_token"]))
    if data.get("refresh_token"):
        conn.refresh_token_enc = crypto.encrypt(str(data["refresh_token"]))
    conn.access_expires_at = now + timedelta(seconds=int(data.get("expires_in") or 3600))
    if data.get("x_refresh_token_expires_in") is not None:
        conn.refresh_expires_at = now + timedelta(seconds=int(data["x_refresh_token_expires_in"]))
    conn.token_version = (conn.token_version or 0) + 1


def record_connection(firm_id: int, token: TokenSet, realm_id: str, company_name: str | None,
                      connected_by_id: int | None) -> QboConnection:
    """Create or update the firm's connection after a successful consent (caller commits).

    The caller decides beforehand whether a realm change is allowed (C5).
    """
    conn = db.session.execute(
        select(QboConnection).where(QboConnection.firm_id == firm_id)
    ).scalar_one_or_none()
    if conn is None:
        conn = QboConnection(firm_id=firm_id, token_version=0)
        db.session.add(conn)
    conn.realm_id = realm_id
    conn.company_name = company_name
    conn.status = "connected"
    conn.connected_by_id = connected_by_id
    conn.connected_at = utcnow()
    conn.last_error = None
    save_tokens(conn, token)
    return conn


def clear_tokens(conn: QboConnection, status: str = "disconnected") -> None:
    """Forget the tokens; realm id, company name and every record's QBO ids are kept (C5)."""
    conn.access_token_enc = None
    conn.refresh_token_enc = None
    conn.access_expires_at = None
    conn.refresh_expires_at = None
    conn.token_version = (conn.token_version or 0) + 1
    conn.status = status


def disconnect(conn: QboConnection) -> bool:
    """Revoke at Intuit, then delete the tokens (caller commits). False if revoke failed.

    The tokens are deleted either way: an admin who clicks Disconnect gets disconnected even
    when Intuit is unreachable; the view can say that the revoke did not go through.
    """
    revoked = True
    if conn.refresh_token_enc:
        try:
            oauth.revoke(crypto.decrypt(conn.refresh_token_enc))
        except Exception as exc:  # noqa: BLE001 - any failure: still disconnect locally
            log.warning("qbo disconnect firm=%s revoke=failed reason=%s", conn.firm_id,
                        type(exc).__name__)
            revoked = False
    clear_tokens(conn)
    conn.last_error = None
    log.info("qbo disconnect firm=%s state=done revoked=%s", conn.firm_id, revoked)
    return revoked


def _fresh(conn: QboConnection, now: datetime) -> bool:
    return bool(conn.access_token_enc and conn.access_expires_at
                and conn.access_expires_at - now > REFRESH_MARGIN)


def _check_usable(conn: QboConnection | None, firm_id: int) -> QboConnection:
    if conn is None or conn.status != "connected" or not conn.refresh_token_enc:
        status = conn.status if conn is not None else "missing"
        raise NotConnected(f"QuickBooks is not connected for this firm (status {status}).",
                           code=status)
    return conn


@contextmanager
def _own_session() -> Iterator[Session]:
    session = Session(db.engine, expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()


def _load(session: Session, firm_id: int, lock: bool = False) -> QboConnection | None:
    stmt = select(QboConnection).where(QboConnection.firm_id == firm_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.execute(stmt.execution_options(populate_existing=True)).scalar_one_or_none()


def get_access_token(firm_id: int, force: bool = False, rejected: str | None = None) -> str:
    """A usable access token for the firm's realm, refreshing at most once across processes.

    ``force`` (after a 401) refreshes even if the clock says the token is valid, unless another
    worker has already replaced it (``rejected`` = the token QBO refused; default: the stored
    one). Raises NotConnected, InvalidGrant, TokenDecryptError, or a retryable
    ServerError/TransportError when Intuit cannot be reached.
    """
    with _own_session() as session:
        conn = _check_usable(_load(session, firm_id), firm_id)
        current = crypto.decrypt(conn.access_token_enc) if conn.access_token_enc else None
        if not force and current and _fresh(conn, utcnow()):
            return current
        seen_version, conn_id = conn.token_version, conn.id
    if force and rejected is None:
        rejected = current

    lock = get_redis().lock(f"qbo:token-refresh:{conn_id}", timeout=LOCK_TTL_SECONDS,
                            blocking_timeout=LOCK_WAIT_SECONDS)
    if not lock.acquire():
        raise TransportError("Timed out waiting for another worker's QuickBooks token refresh.")
    try:
        return _refresh_locked(firm_id, seen_version, force, rejected)
    finally:
        try:
            lock.release()
        except LockError:  # expired while we worked; the row lock still kept us consistent
            log.warning("qbo token firm=%s lock=expired_before_release", firm_id)


def _refresh_locked(firm_id: int, seen_version: int, force: bool, rejected: str | None) -> str:
    with _own_session() as session:
        conn = _check_usable(_load(session, firm_id, lock=True), firm_id)
        now = utcnow()
        stored = crypto.decrypt(conn.access_token_enc) if conn.access_token_enc else None
        someone_else_refreshed = conn.token_version != seen_version or (
            force and rejected is not None and stored != rejected)
        if stored and _fresh(conn, now) and (someone_else_refreshed or not force):
            session.rollback()
            log.debug("qbo token firm=%s refresh=skipped reason=already_refreshed", firm_id)
            return stored

        refresh_token = crypto.decrypt(conn.refresh_token_enc)
        try:
            new = oauth.refresh(refresh_token)
        except InvalidGrant:
            session.rollback()  # releases the row lock before the re-read
            return _after_invalid_grant(session, firm_id, refresh_token)
        save_tokens(conn, new, now)
        session.commit()
        log.info("qbo token firm=%s refresh=done version=%s rotated=%s", firm_id,
                 conn.token_version, new.refresh_token != refresh_token)
        return new.access_token


def _after_invalid_grant(session: Session, firm_id: int, used_refresh: str) -> str:
    """Re-read once: if another process stored a different refresh token, use or try it."""
    conn = _check_usable(_load(session, firm_id, lock=True), firm_id)
    newer = crypto.decrypt(conn.refresh_token_enc)
    if newer != used_refresh:
        if _fresh(conn, utcnow()) and conn.access_token_enc:
            session.rollback()
            return crypto.decrypt(conn.access_token_enc)
        try:
            token = oauth.refresh(newer)
        except InvalidGrant:
            pass
        else:
            save_tokens(conn, token)
            session.commit()
            log.info("qbo token firm=%s refresh=done_after_reread", firm_id)
            return token.access_token
    conn.status = "needs_reconnect"
    conn.last_error = INVALID_GRANT_MESSAGE
    session.commit()
    log.warning("qbo token firm=%s refresh=invalid_grant state=needs_reconnect", firm_id)
    raise InvalidGrant(INVALID_GRANT_MESSAGE, code="invalid_grant")
