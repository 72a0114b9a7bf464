"""The Sandbox object: config, clock, store, counters and change listeners in one place.

One instance lives on ``app.extensions["qbo_sandbox"]``. Views, batch and the control API
all go through it, so tests (and the future webhook/UI layers) have a single seam.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from flask import current_app

from .clock import SandboxClock, iso_millis, iso_seconds
from .store import Store

log = logging.getLogger("qbo_sandbox")

ChangeListener = Callable[[str, str, str, str, str, "str | None"], None]


class Counters:
    """Thread-safe counters read by the control API and benchmarks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.requests: Counter[str] = Counter()
            self.requests_by_realm: Counter[str] = Counter()
            self.throttled: Counter[str] = Counter()
            self.created: Counter[str] = Counter()
            self.faults_injected: Counter[str] = Counter()

    def bump(self, name: str, key: str, n: int = 1) -> None:
        with self._lock:
            getattr(self, name)[key] += n

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": dict(self.requests),
                "requests_total": sum(self.requests.values()),
                "requests_by_realm": dict(self.requests_by_realm),
                "throttled": dict(self.throttled),
                "throttled_total": sum(self.throttled.values()),
                "entities_created": dict(self.created),
                "faults_injected": dict(self.faults_injected),
            }


class Sandbox:
    """Shared state of one running sandbox."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.clock = SandboxClock(config["time_scale"], config["clock_offset_seconds"])
        self.store = Store(config["db"])
        self.counters = Counters()
        self._listeners: list[ChangeListener] = []
        # limits and faults are attached by the factory (they need config only)
        from .faults import FaultInjector
        from .limits import Limiter

        self.limiter = Limiter(self)
        self.faults = FaultInjector()

    # -- change events ------------------------------------------------------------------------
    def add_change_listener(self, fn: ChangeListener) -> None:
        """Call ``fn(realm_id, entity, entity_id, operation, when_iso, merged_from_id)`` after
        every committed Create/Update/Delete/Void/Merge. Exceptions in listeners are logged,
        never propagated to the API client."""
        self._listeners.append(fn)

    def remove_change_listener(self, fn: ChangeListener) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def emit(self, events: list[tuple[str, str, str, str, str, str | None]]) -> None:
        for event in events:
            for fn in list(self._listeners):
                try:
                    fn(*event)
                except Exception:  # a broken listener must not break the API
                    log.exception(
                        "event=change_listener_failed entity=%s id=%s", event[1], event[2]
                    )

    # -- companies and time -------------------------------------------------------------------
    def company(self, realm: str) -> dict[str, Any] | None:
        return self.store.get("company", realm)

    def offset(self, realm: str | None) -> str:
        comp = self.company(realm) if realm else None
        return (comp or {}).get("offset") or self.config["company_offset"]

    def stamp(self, realm: str | None) -> str:
        """MetaData timestamp in the company's offset (seconds precision)."""
        return iso_seconds(self.clock.now(), self.offset(realm))

    def time_field(self, realm: str | None) -> str:
        """The top-level ``time`` of every response (milliseconds)."""
        return iso_millis(self.clock.now(), self.offset(realm))

    def today(self, realm: str) -> str:
        return self.stamp(realm)[:10]

    @staticmethod
    def new_tid() -> str:
        return str(uuid.uuid4())


def current_sandbox() -> Sandbox:
    return current_app.extensions["qbo_sandbox"]
