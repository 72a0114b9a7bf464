"""Per-realm throttle governor shared by every process through Redis.

QBO allows 500 requests/min per realm, 10 in flight per app+realm and 40 batch calls/min
(reference §5); going over earns 429s and a 60 s wait. The governor keeps our own traffic
under those numbers so normal runs never see a 429: one Lua script atomically checks a
sliding-window log of request starts (a sorted set per realm), a batch-only log, and a set of
in-flight leases, and either takes a slot or says how long to wait. Leases expire, so a
worker that dies mid-request frees its slot. Limits come from config so benchmarks can scale
them (QBO_RATE_WINDOW_SECONDS shrinks "a minute" to match the sandbox's time scale).
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from redis import Redis

from portal.qbo.errors import Throttled

log = logging.getLogger(__name__)

# KEYS: 1 request log, 2 in-flight leases, 3 batch log.
# ARGV: 1 window ms, 2 rate limit, 3 max in flight, 4 lease ms, 5 member, 6 is batch,
#       7 batch limit, 8 poll ms. Returns 0 when the slot is taken, else ms to wait.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local wait = 0
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  wait = math.max(wait, tonumber(oldest[2]) + window - now + 1)
end
if ARGV[6] == '1' then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - window)
  if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[7]) then
    local oldest = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + window - now + 1)
  end
end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then
  wait = math.max(wait, tonumber(ARGV[8]))
end
if wait > 0 then
  return wait
end
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[5])
if ARGV[6] == '1' then
  redis.call('ZADD', KEYS[3], now, ARGV[5])
  redis.call('PEXPIRE', KEYS[3], window + 1000)
end
redis.call('PEXPIRE', KEYS[1], window + 1000)
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[4]) + 1000)
return 0
"""


@dataclass(frozen=True)
class Limits:
    """The governor's ceilings; defaults keep a small margin under QBO's published limits."""

    per_window: int = 480
    batch_per_window: int = 38
    max_in_flight: int = 10
    window_seconds: float = 60.0
    max_wait_seconds: float = 300.0
    enabled: bool = True

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> Limits:
        return cls(
            per_window=int(cfg.get("QBO_RATE_LIMIT_PER_MINUTE", cls.per_window)),
            batch_per_window=int(cfg.get("QBO_BATCH_LIMIT_PER_MINUTE", cls.batch_per_window)),
            max_in_flight=int(cfg.get("QBO_MAX_CONCURRENT", cls.max_in_flight)),
            window_seconds=float(cfg.get("QBO_RATE_WINDOW_SECONDS", cls.window_seconds)),
            max_wait_seconds=float(cfg.get("QBO_GOVERNOR_MAX_WAIT", cls.max_wait_seconds)),
            enabled=bool(cfg.get("QBO_GOVERNOR_ENABLED", True)),
        )


class Lease:
    """One taken slot. ``keep()`` leaves it to expire instead of freeing it at once (after a
    timeout QBO may still be working on the request, so it still counts as in flight)."""

    def __init__(self) -> None:
        self.kept = False

    def keep(self) -> None:
        self.kept = True


class Governor:
    """Slots for one realm's requests. Thread- and process-safe (all state lives in Redis)."""

    def __init__(self, redis: Redis, limits: Limits, lease_seconds: float = 60.0) -> None:
        self.redis = redis
        self.limits = limits
        self.lease_ms = int(lease_seconds * 1000)
        self._script = redis.register_script(_ACQUIRE)

    @staticmethod
    def _keys(realm_id: str) -> list[str]:
        return [f"qbo:gov:{realm_id}:req", f"qbo:gov:{realm_id}:inflight",
                f"qbo:gov:{realm_id}:batch"]

    @contextmanager
    def slot(self, realm_id: str, batch: bool = False) -> Iterator[Lease]:
        """Block until the realm has room, hold a slot for the body, then free it."""
        lease = Lease()
        if not self.limits.enabled:
            yield lease
            return
        keys = self._keys(realm_id)
        member = uuid.uuid4().hex
        window_ms = int(self.limits.window_seconds * 1000)
        poll_ms = max(5, min(50, window_ms // 1000))
        deadline = time.monotonic() + self.limits.max_wait_seconds
        waited = 0.0
        while True:
            wait_ms = int(self._script(keys=keys, args=[
                window_ms, self.limits.per_window, self.limits.max_in_flight, self.lease_ms,
                member, "1" if batch else "0", self.limits.batch_per_window, poll_ms,
            ]))
            if wait_ms <= 0:
                break
            if time.monotonic() >= deadline:
                raise Throttled(
                    f"The local throttle governor waited {waited:.0f}s for a QuickBooks slot.",
                    code="governor", retry_after=wait_ms / 1000,
                )
            pause = min(wait_ms / 1000, 1.0) * random.uniform(1.0, 1.2)  # noqa: S311
            waited += pause
            time.sleep(pause)
        if waited > 0.5:
            log.debug("qbo governor realm=%s waited_ms=%d batch=%s", realm_id, waited * 1000, batch)
        try:
            yield lease
        finally:
            if not lease.kept:
                self.redis.zrem(keys[1], member)

    def in_flight(self, realm_id: str) -> int:
        """How many slots are held now (for tests and the benchmark)."""
        key = self._keys(realm_id)[1]
        now_ms = int(time.time() * 1000)
        return int(self.redis.zcount(key, now_ms, "+inf"))
