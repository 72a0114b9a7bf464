"""Sign-in rate limits kept in Redis.

Failures are counted per (account, IP) and per IP. An attacker hammering one account from
their own addresses blocks only those addresses; the real user, signing in from elsewhere, is
never locked out. Successful sign-in clears the (account, IP) counter. If Redis is unavailable
the check fails open (logged): availability of sign-in beats rate limiting.
"""

from __future__ import annotations

import hashlib
import logging

from flask import current_app

from portal.redis_conn import get_redis

log = logging.getLogger(__name__)

WINDOW_SECONDS = 15 * 60
MAX_PER_ACCOUNT_AND_IP = 5
MAX_PER_IP = 30


def _keys(email: str, ip: str) -> tuple[str, str]:
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:24]
    return f"portal:login:acct-ip:{account}:{ip}", f"portal:login:ip:{ip}"


def is_blocked(email: str, ip: str) -> bool:
    pair_key, ip_key = _keys(email, ip)
    try:
        redis = get_redis(current_app)
        pair, per_ip = redis.mget(pair_key, ip_key)
    except Exception:  # noqa: BLE001 - fail open, see module docstring
        log.warning("event=login_throttle state=unavailable")
        return False
    return int(pair or 0) >= MAX_PER_ACCOUNT_AND_IP or int(per_ip or 0) >= MAX_PER_IP


def record_failure(email: str, ip: str) -> None:
    try:
        redis = get_redis(current_app)
        pipe = redis.pipeline()
        for key in _keys(email, ip):
            # The window starts at the first failure (SET NX); Redis 6 has no EXPIRE NX.
            pipe.set(key, 0, ex=WINDOW_SECONDS, nx=True)
            pipe.incr(key)
        pipe.execute()
    except Exception:  # noqa: BLE001
        log.warning("event=login_throttle state=unavailable")


def record_success(email: str, ip: str) -> None:
    try:
        get_redis(current_app).delete(_keys(email, ip)[0])
    except Exception:  # noqa: BLE001
        log.warning("event=login_throttle state=unavailable")
