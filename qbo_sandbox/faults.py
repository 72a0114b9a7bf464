"""Fault injection: make the next N matching requests fail the way real networks and QBO do.

Kinds: ``500``/``503`` (SystemFault), ``429`` (throttle), ``401`` (token rejected), ``hang``
(wait ``hang_seconds`` sandbox seconds, then drop the connection without doing anything) and
``commit_then_drop`` (run the request for real, store its requestid answer, then drop the
connection or answer 502). The last is how exactly-once promises get tested.
"""

from __future__ import annotations

import itertools
import socket
import threading
from dataclasses import asdict, dataclass
from typing import Any

KINDS = ("500", "503", "429", "401", "hang", "commit_then_drop")
DROP_KEY = "qbo_sandbox.drop"


@dataclass
class FaultRule:
    id: int
    kind: str
    remaining: int
    method: str | None = None
    path: str | None = None  # substring of the request path, e.g. "/customer" or "/batch"
    realm_id: str | None = None
    hang_seconds: float | None = None
    drop: str = "reset"  # "reset" (connection closed, no answer) or "502"

    def matches(self, method: str, path: str, realm: str | None) -> bool:
        return (
            self.remaining > 0
            and (self.method is None or self.method.upper() == method.upper())
            and (self.path is None or self.path.lower() in path.lower())
            and (self.realm_id is None or self.realm_id == realm)
        )


class FaultInjector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)

    def add(self, spec: dict[str, Any]) -> FaultRule:
        kind = str(spec.get("kind", ""))
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        drop = spec.get("drop", "reset")
        if drop not in ("reset", "502"):
            raise ValueError("drop must be 'reset' or '502'")
        rule = FaultRule(
            id=next(self._ids),
            kind=kind,
            remaining=int(spec.get("count", 1)),
            method=spec.get("method"),
            path=spec.get("path"),
            realm_id=spec.get("realm_id"),
            hang_seconds=spec.get("hang_seconds"),
            drop=drop,
        )
        with self._lock:
            self._rules.append(rule)
        return rule

    def take(self, method: str, path: str, realm: str | None) -> FaultRule | None:
        """Consume one use of the first matching rule."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path, realm):
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._rules.remove(rule)
                    return rule
        return None

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(r) for r in self._rules]

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()


BAD_GATEWAY = b"<html><body><h1>502 Bad Gateway</h1></body></html>"


class DropMiddleware:
    """WSGI wrapper that turns a request flagged with ``DROP_KEY`` into a dropped connection.

    Under werkzeug's server the socket is shut down and ``ConnectionResetError`` raised before
    any byte is written (werkzeug treats that as a client disconnect, silently). Elsewhere, or
    when the rule asks for it, the client gets a bare 502 instead.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        captured: list[Any] = []

        def deferred(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured[:] = [status, headers, exc_info]
            return lambda data: None

        result = self.app(environ, deferred)
        mode = environ.get(DROP_KEY)
        if not mode:
            start_response(*captured)
            return result
        if hasattr(result, "close"):
            result.close()
        sock = environ.get("werkzeug.socket")
        if mode == "reset" and sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            raise ConnectionResetError("qbo_sandbox: injected connection drop")
        start_response(
            "502 Bad Gateway",
            [("Content-Type", "text/html"), ("Content-Length", str(len(BAD_GATEWAY)))],
        )
        return [BAD_GATEWAY]
