"""A per-firm Redis lock so two syncs for one firm never overlap (DESIGN J2).

The lock is a redis-py Lock: SET NX PX with a random token, released only by its owner (Lua
compare-and-delete). Its TTL (SYNC_LOCK_TTL) is longer than the job timeout, so a lock left by
a worker that died mid-run expires on its own instead of blocking the firm forever.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app
from redis.exceptions import LockError
from redis.lock import Lock

from portal.jobs import kv
from portal.redis_conn import get_redis

log = logging.getLogger("portal.jobs")


def firm_lock_name(firm_id: int) -> str:
    return f"portal:lock:firm-sync:{firm_id}"


def firm_lock(firm_id: int, app: Flask | None = None) -> Lock:
    """The (unacquired) lock object for one firm's syncs."""
    app = app or current_app
    return get_redis(app).lock(
        firm_lock_name(firm_id),
        timeout=app.config["SYNC_LOCK_TTL"],
        blocking=False,
        thread_local=False,
    )


@contextmanager
def hold_firm_lock(firm_id: int, app: Flask | None = None) -> Iterator[bool]:
    """Try once to take the firm's lock; yield whether we got it; release it if we did.

    Never waits: a busy lock means "someone else is syncing this firm" and the caller skips.
    """
    lock = firm_lock(firm_id, app)
    acquired = bool(lock.acquire(blocking=False))
    try:
        yield acquired
    finally:
        if acquired:
            try:
                lock.release()
            except LockError:
                # Expired (the run outlived SYNC_LOCK_TTL) and maybe re-taken: not ours to free.
                log.warning(kv(lock="firm_sync", firm=firm_id, state="expired_before_release"))


def firm_sync_running(firm_id: int, app: Flask | None = None) -> bool:
    """True while some worker holds the firm's sync lock (for "a sync is running" in the UI)."""
    return bool(firm_lock(firm_id, app).locked())
