"""QBO's throttles: requests/min per realm, concurrency per realm+app, batch calls/min.

Windows are measured on the sandbox clock, so a time scale of 60 turns "500 per minute" into
500 per real second, keeping benchmarks proportional. A throttled call is not counted against
the window (it was refused).
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict, deque
from typing import TYPE_CHECKING

from .errors import throttled

if TYPE_CHECKING:
    from .core import Sandbox

WINDOW = 60.0


class Limiter:
    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self._windows: dict[tuple[str, ...], deque[float]] = defaultdict(deque)
        self._inflight: Counter[tuple[str, str]] = Counter()

    def _count(self, key: tuple[str, ...], now: float) -> int:
        window = self._windows[key]
        while window and window[0] <= now - WINDOW:
            window.popleft()
        return len(window)

    def admit(self, realm: str, client_id: str, is_batch: bool) -> None:
        """Reserve a slot or raise the 429 gateway fault. Pair with :meth:`release`."""
        cfg = self.sb.config["limits"]
        if not cfg.get("enabled", True):
            with self._lock:
                self._inflight[(realm, client_id)] += 1
            return
        now = self.sb.clock.timestamp()
        checks = [(("realm", realm), cfg["per_realm_per_minute"])]
        if is_batch:
            checks += [
                (("batch-app", realm, client_id), cfg["batch_per_realm_app_per_minute"]),
                (("batch-realm", realm), cfg["batch_per_realm_per_minute"]),
            ]
        with self._lock:
            over = self._inflight[(realm, client_id)] >= cfg["concurrent_per_realm_app"] or any(
                self._count(key, now) >= limit for key, limit in checks
            )
            if not over:
                for key, _ in checks:
                    self._windows[key].append(now)
                self._inflight[(realm, client_id)] += 1
        if over:
            self.sb.counters.bump("throttled", realm)
            raise throttled()

    def release(self, realm: str, client_id: str) -> None:
        with self._lock:
            self._inflight[(realm, client_id)] -= 1
            if self._inflight[(realm, client_id)] <= 0:
                del self._inflight[(realm, client_id)]
