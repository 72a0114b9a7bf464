"""Webhooks (reference §7.2-7.4): change events POSTed to each connected app's webhook URL.

Flow: the core's change listener hands us every committed change. Events are queued per
(realm, app) for apps that have a live grant on the realm and a ``webhook_url`` at the time of
the change ("only events after connection"). A queue is closed into one *delivery* once it has
been open ``batch_seconds`` (sandbox clock), then POSTed in the app's ``webhook_format``
(``legacy`` eventNotifications or ``cloudevents``), signed with ``intuit-signature``. Anything
but HTTP 200 (or a timeout) is retried on ``retry_schedule`` (sandbox seconds), up to
``max_attempts``.

A background thread does the closing and sending; tests call :meth:`Webhooks.run` through the
control API instead of sleeping. One run lock serialises both, so a synchronous run never
overlaps a background pass and every attempt happens exactly once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from .config import merge
from .core import Sandbox

log = logging.getLogger("qbo_sandbox.webhooks")

DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "background": True,  # deliver from a thread; False = only when the control API says so
    "batch_seconds": 1.0,  # sandbox seconds a realm's events are collected into one POST
    # Intuit: 10 s, 20 s, 30 s, 5 min, 20 min, 2 h, 4 h, 6 h, then every 6 h (sandbox seconds)
    "retry_schedule": [10, 20, 30, 300, 1200, 7200, 14400, 21600],
    "max_attempts": 20,  # then the delivery is "failed" (UNCONFIRMED: Intuit's cap unknown)
    "timeout_seconds": 3.0,  # real seconds: Intuit wants a 200 within 3 s
    "poll_seconds": 0.2,  # real seconds between background passes
    "keep": 1000,  # finished deliveries kept for the control API
}
VERBS = {
    "Create": "created",
    "Update": "updated",
    "Delete": "deleted",
    "Merge": "merged",
    "Void": "voided",
    "Emailed": "emailed",
}
OPEN = ("pending", "retrying")


def sign(verifier_token: str, body: bytes) -> str:
    """``intuit-signature``: base64(HMAC-SHA256(verifier token, raw body))."""
    digest = hmac.new(verifier_token.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def legacy_payload(realm: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    entities = []
    for ev in events:
        item = {
            "name": ev["entity"],
            "id": ev["id"],
            "operation": ev["operation"],
            "lastUpdated": ev["when"],
        }
        if ev.get("merged_from"):
            item["deletedId"] = ev["merged_from"]
        entities.append(item)
    return {"eventNotifications": [{"realmId": realm, "dataChangeEvent": {"entities": entities}}]}


def cloud_events(realm: str, client_id: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One CloudEvent per change. ``source`` is an opaque per-app value (ours: a hash of the
    client id); a Merge carries ``data.deletedId`` (our choice; Intuit's is UNCONFIRMED)."""
    source = "intuit." + base64.b64encode(hashlib.sha256(client_id.encode()).digest()).decode()
    out = []
    for ev in events:
        verb = VERBS.get(ev["operation"], ev["operation"].lower())
        out.append(
            {
                "specversion": "1.0",
                "id": str(uuid.uuid4()),
                "source": source,
                "type": f"qbo.{ev['entity'].lower()}.{verb}.v1",
                "datacontenttype": "application/json",
                "time": ev["when"],
                "intuitentityid": ev["id"],
                "intuitaccountid": realm,
                "data": {"deletedId": ev["merged_from"]} if ev.get("merged_from") else {},
            }
        )
    return out


@dataclass
class Delivery:
    """One POST of one batch to one app, with its attempts."""

    id: int
    client_id: str
    realm_id: str
    url: str
    format: str
    body: bytes
    signature: str
    events: int
    created_at: float
    next_attempt_at: float
    status: str = "pending"  # pending | retrying | delivered | failed
    attempts: int = 0
    last_status: int | None = None
    last_error: str | None = None
    delivered_at: float | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "client_id": self.client_id,
            "realm_id": self.realm_id,
            "url": self.url,
            "format": self.format,
            "status": self.status,
            "attempts": self.attempts,
            "last_status": self.last_status,
            "last_error": self.last_error,
            "events": self.events,
            "created_at": _iso(self.created_at),
            "next_attempt_at": _iso(self.next_attempt_at) if self.status in OPEN else None,
            "delivered_at": _iso(self.delivered_at) if self.delivered_at else None,
            "signature": self.signature,
            "payload": json.loads(self.body),
            "history": list(self.history),
        }


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="milliseconds")


@dataclass
class _Batch:
    opened_at: float
    events: list[dict[str, Any]] = field(default_factory=list)


class Webhooks:
    """Queues, batches, signs, sends and retries webhook deliveries for one sandbox."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self._lock = threading.Lock()  # guards _open and _deliveries
        self._run_lock = threading.Lock()  # one delivery pass at a time
        self._open: dict[tuple[str, str], _Batch] = {}
        self._deliveries: list[Delivery] = []
        self._ids = itertools.count(1)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._http = requests.Session()
        self._http.trust_env = False  # webhook URLs are local; never route them via a proxy

    @property
    def cfg(self) -> dict[str, Any]:
        return self.sb.config["webhooks"]

    # -- intake ----------------------------------------------------------------------------------
    def on_change(
        self,
        realm: str,
        entity: str,
        entity_id: str,
        operation: str,
        when: str,
        merged_from: str | None,
    ) -> None:
        """The core's change listener: queue the event for every subscribed app."""
        if not self.cfg["enabled"]:
            return
        targets = self._subscribers(realm)
        if not targets:
            return
        event = {
            "entity": entity,
            "id": entity_id,
            "operation": operation,
            "when": when,
            "merged_from": merged_from,
        }
        now = self.sb.clock.timestamp()
        with self._lock:
            for client_id in targets:
                batch = self._open.setdefault((realm, client_id), _Batch(opened_at=now))
                batch.events.append(event)
        self._ensure_thread()

    def _subscribers(self, realm: str) -> list[str]:
        """Apps with a webhook URL and a live (not revoked) connection to the realm."""
        connected = {
            grant["client_id"]
            for _, grant in self.sb.store.items("grant")
            if grant.get("realm") == realm and not grant.get("revoked")
        }
        out = []
        for client_id in sorted(connected):
            app = self.sb.store.get("app", client_id)
            if app and app.get("webhook_url"):
                out.append(client_id)
        return out

    # -- delivery --------------------------------------------------------------------------------
    def run(self, flush: bool = False, ignore_backoff: bool = False) -> list[dict[str, Any]]:
        """Close due batches (all of them when ``flush``) and send every due delivery (every
        open one when ``ignore_backoff``). Returns the deliveries attempted in this pass."""
        with self._run_lock:
            now = self.sb.clock.timestamp()
            with self._lock:
                self._close_batches(now, flush)
                due = [
                    d
                    for d in self._deliveries
                    if d.status in OPEN and (ignore_backoff or d.next_attempt_at <= now)
                ]
            for delivery in due:
                self._attempt(delivery)
            return [d.as_dict() for d in due]

    def _close_batches(self, now: float, flush: bool) -> None:
        window = float(self.cfg["batch_seconds"])
        for key in list(self._open):
            batch = self._open[key]
            if not flush and now - batch.opened_at < window:
                continue
            del self._open[key]
            realm, client_id = key
            app = self.sb.store.get("app", client_id)
            if not app or not app.get("webhook_url"):
                continue
            fmt = "cloudevents" if app.get("webhook_format") == "cloudevents" else "legacy"
            payload: Any = (
                cloud_events(realm, client_id, batch.events)
                if fmt == "cloudevents"
                else legacy_payload(realm, batch.events)
            )
            body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
            self._deliveries.append(
                Delivery(
                    id=next(self._ids),
                    client_id=client_id,
                    realm_id=realm,
                    url=app["webhook_url"],
                    format=fmt,
                    body=body,
                    signature=sign(app.get("verifier_token") or "", body),
                    events=len(batch.events),
                    created_at=now,
                    next_attempt_at=now,
                )
            )
        self._trim()

    def _trim(self) -> None:
        extra = len(self._deliveries) - int(self.cfg["keep"])
        if extra > 0:
            done = [d for d in self._deliveries if d.status not in OPEN][:extra]
            drop = {id(d) for d in done}
            self._deliveries = [d for d in self._deliveries if id(d) not in drop]

    def _attempt(self, delivery: Delivery) -> None:
        headers = {
            "Content-Type": "application/json",
            "intuit-signature": delivery.signature,
            "User-Agent": "qbo-sandbox-webhooks/1.0",
        }
        status: int | None = None
        error: str | None = None
        try:
            resp = self._http.post(
                delivery.url,
                data=delivery.body,
                headers=headers,
                timeout=float(self.cfg["timeout_seconds"]),
                allow_redirects=False,
            )
            status = resp.status_code
            resp.close()
            if status != 200:
                error = f"HTTP {status}"
        except requests.RequestException as exc:
            error = type(exc).__name__
        now = self.sb.clock.timestamp()
        with self._lock:
            delivery.attempts += 1
            delivery.last_status = status
            delivery.last_error = error
            delivery.history.append({"at": _iso(now), "status": status, "error": error})
            if error is None:
                delivery.status = "delivered"
                delivery.delivered_at = now
            elif delivery.attempts >= int(self.cfg["max_attempts"]):
                delivery.status = "failed"
            else:
                schedule = list(self.cfg["retry_schedule"]) or [60]
                delay = float(schedule[min(delivery.attempts - 1, len(schedule) - 1)])
                delivery.status = "retrying"
                delivery.next_attempt_at = now + delay
        log.info(
            "event=webhook_attempt delivery=%s client=%s realm=%s attempt=%s status=%s state=%s",
            delivery.id,
            delivery.client_id,
            delivery.realm_id,
            delivery.attempts,
            status,
            delivery.status,
        )

    # -- inspection ------------------------------------------------------------------------------
    def deliveries(
        self, realm: str | None = None, status: str | None = None
    ) -> list[dict[str, Any]]:
        with self._lock:
            rows = [
                d
                for d in self._deliveries
                if (realm is None or d.realm_id == realm) and (status is None or d.status == status)
            ]
            return [d.as_dict() for d in rows]

    def pending_events(self) -> int:
        with self._lock:
            return sum(len(b.events) for b in self._open.values())

    def clear(self) -> None:
        with self._lock:
            self._open.clear()
            self._deliveries.clear()

    # -- background thread -----------------------------------------------------------------------
    def _ensure_thread(self) -> None:
        if not self.cfg["background"] or self._stop.is_set():
            return
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(
                target=self._loop, name="qbo-sandbox-webhooks", daemon=True
            )
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(float(self.cfg["poll_seconds"])):
            if not self.cfg["background"]:
                continue
            try:
                self.run()
            except Exception:  # keep delivering whatever one bad pass did
                log.exception("event=webhook_pass_failed")

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the delivery thread (idempotent); pending deliveries stay listed."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._http.close()


def install(sb: Sandbox) -> Webhooks:
    """Merge the ``webhooks`` config section and attach a dispatcher to the change hook."""
    sb.config["webhooks"] = merge(DEFAULTS, sb.config.get("webhooks"))
    hooks = Webhooks(sb)
    sb.add_change_listener(hooks.on_change)
    return hooks
