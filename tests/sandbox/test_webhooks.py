"""Webhooks over real HTTP (reference §7.2-7.4): payload shapes, intuit-signature, batching per
window, retries with backoff on the sandbox clock, Merge events, connected apps only.

A tiny werkzeug receiver stands in for the app's endpoint; it answers with scripted statuses.
Delivery is driven through the control API (``webhooks/deliver``), never by sleeping, except in
the one test that checks the background thread.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from qbo_sandbox.testing import SandboxHandle, run_sandbox

from .conftest import Api

HOOK_APP = "hook-app"
VERIFIER = "verifier-token-123"


class _Quiet(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """No access lines in test output."""


class Receiver:
    """An app's webhook endpoint: records each POST, answers with the next scripted status."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self._lock = threading.Lock()
        self.server = make_server("127.0.0.1", 0, self._app, threaded=True, request_handler=_Quiet)
        self.url = f"http://127.0.0.1:{self.server.port}/qbo/webhook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self._lock:
            status = self.statuses.pop(0) if self.statuses else 200
            self.received.append(
                {"headers": dict(request.headers), "body": request.get_data(), "status": status}
            )
        return Response("ok" if status == 200 else "nope", status=status)(environ, start_response)

    def reset(self) -> None:
        with self._lock:
            self.received.clear()
            self.statuses.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    yield rec
    rec.close()


@pytest.fixture(scope="module")
def hooks_server() -> Iterator[SandboxHandle]:
    config = {
        "limits": {"enabled": False},
        "webhooks": {"background": False, "batch_seconds": 60},
    }
    with run_sandbox(config) as handle:
        yield handle


def connect(sbx: SandboxHandle, url: str, fmt: str = "legacy", realm: str | None = None) -> Api:
    """Register the hook app with a webhook URL and connect it to a realm (OAuth grant)."""
    sbx.register_app(
        HOOK_APP,
        "hook-secret",
        ["http://127.0.0.1:9/cb"],
        webhook_url=url,
        verifier_token=VERIFIER,
        webhook_format=fmt,
    )
    realm = realm or sbx.REALM_1
    return Api(sbx, sbx.mint_tokens(realm, client_id=HOOK_APP)["access_token"], realm)


@pytest.fixture
def hooks(hooks_server: SandboxHandle, receiver: Receiver) -> SandboxHandle:
    hooks_server.reset()
    hooks_server.configure(webhooks={"batch_seconds": 60, "max_attempts": 20})
    receiver.reset()
    return hooks_server


def deliver(sbx: SandboxHandle, **opts: Any) -> list[dict[str, Any]]:
    return sbx.control("POST", "webhooks/deliver", opts)["attempted"]


def deliveries(sbx: SandboxHandle) -> list[dict[str, Any]]:
    return sbx.control("GET", "webhooks/deliveries")


def signature_of(body: bytes, token: str = VERIFIER) -> str:
    return base64.b64encode(hmac.new(token.encode(), body, hashlib.sha256).digest()).decode()


def test_legacy_payload_is_signed_and_batches_a_realms_changes(hooks, receiver):
    api = connect(hooks, receiver.url)
    cust = api.create("Customer", {"DisplayName": "Hooked Customer"})
    upd = api.post("customer", {"Id": cust["Id"], "SyncToken": "0", "sparse": True, "Notes": "x"})
    assert upd.status_code == 200
    assert receiver.received == []  # nothing is sent before the batch closes

    attempted = deliver(hooks)

    assert len(attempted) == 1 and len(receiver.received) == 1
    got = receiver.received[0]
    assert got["headers"]["Content-Type"] == "application/json"
    assert got["headers"]["Intuit-Signature"] == signature_of(got["body"])
    assert got["headers"]["Intuit-Signature"] != signature_of(got["body"], "wrong-token")
    body = json.loads(got["body"])
    assert list(body) == ["eventNotifications"]
    (note,) = body["eventNotifications"]
    assert note["realmId"] == hooks.REALM_1
    entities = note["dataChangeEvent"]["entities"]
    assert [(e["name"], e["id"], e["operation"]) for e in entities] == [
        ("Customer", cust["Id"], "Create"),
        ("Customer", cust["Id"], "Update"),
    ]
    for entity in entities:
        assert set(entity) == {"name", "id", "operation", "lastUpdated"}
        assert entity["lastUpdated"].endswith("Z") and len(entity["lastUpdated"]) == 24
    (record,) = deliveries(hooks)
    assert record["status"] == "delivered"
    assert record["attempts"] == 1 and record["last_status"] == 200
    assert record["client_id"] == HOOK_APP and record["realm_id"] == hooks.REALM_1
    assert record["payload"] == body and record["events"] == 2


def test_cloudevents_payload_shape(hooks, receiver):
    api = connect(hooks, receiver.url, fmt="cloudevents")
    cust = api.create("Customer", {"DisplayName": "Cloud Customer"})
    inv = api.create(
        "Invoice",
        {
            "CustomerRef": {"value": cust["Id"]},
            "Line": [
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": 10,
                    "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
                }
            ],
        },
    )
    deliver(hooks)

    (got,) = receiver.received
    assert got["headers"]["Intuit-Signature"] == signature_of(got["body"])
    events = json.loads(got["body"])
    assert isinstance(events, list)
    assert [(e["type"], e["intuitentityid"]) for e in events] == [
        ("qbo.customer.created.v1", cust["Id"]),
        ("qbo.invoice.created.v1", inv["Id"]),
    ]
    for event in events:
        assert event["specversion"] == "1.0"
        assert event["datacontenttype"] == "application/json"
        assert event["intuitaccountid"] == hooks.REALM_1
        assert event["source"].startswith("intuit.")
        assert event["data"] == {}
        uuid.UUID(event["id"])
        assert event["time"].endswith("Z")
    assert len({e["id"] for e in events}) == 2


def test_batch_closes_after_its_window_on_the_sandbox_clock(hooks, receiver):
    api = connect(hooks, receiver.url)
    api.create("Customer", {"DisplayName": "Window One"})
    assert deliver(hooks, flush=False) == []  # window (60 sandbox s) still open
    hooks.advance_clock(30)
    api.create("Customer", {"DisplayName": "Window Two"})
    assert deliver(hooks, flush=False) == []
    hooks.advance_clock(31)
    (first,) = deliver(hooks, flush=False)
    assert first["events"] == 2  # both changes of the window in one POST
    api.create("Customer", {"DisplayName": "Next Window"})
    hooks.advance_clock(61)
    (second,) = deliver(hooks, flush=False)
    assert second["events"] == 1
    assert len(receiver.received) == 2


def test_non_200_is_retried_with_backoff_then_delivered(hooks, receiver):
    api = connect(hooks, receiver.url)
    api.create("Customer", {"DisplayName": "Retry Me"})
    receiver.statuses[:] = [500, 503]

    (first,) = deliver(hooks)
    assert first["status"] == "retrying" and first["attempts"] == 1
    assert first["last_status"] == 500
    assert deliver(hooks) == []  # the 10 s backoff has not passed
    hooks.advance_clock(10)
    (second,) = deliver(hooks)
    assert second["attempts"] == 2 and second["last_status"] == 503
    hooks.advance_clock(19)
    assert deliver(hooks) == []  # second backoff is 20 s
    hooks.advance_clock(1)
    (third,) = deliver(hooks)
    assert third["status"] == "delivered" and third["attempts"] == 3
    assert third["last_status"] == 200
    assert [h["status"] for h in third["history"]] == [500, 503, 200]
    bodies = {r["body"] for r in receiver.received}
    signatures = {r["headers"]["Intuit-Signature"] for r in receiver.received}
    assert len(receiver.received) == 3 and len(bodies) == 1 and len(signatures) == 1


def test_gives_up_after_max_attempts(hooks, receiver):
    hooks.configure(webhooks={"max_attempts": 2})
    api = connect(hooks, receiver.url)
    api.create("Customer", {"DisplayName": "Never Acked"})
    receiver.statuses[:] = [500, 404, 500]
    deliver(hooks)
    (last,) = deliver(hooks, ignore_backoff=True)
    assert last["status"] == "failed" and last["attempts"] == 2 and last["last_status"] == 404
    assert deliver(hooks, ignore_backoff=True) == []
    assert hooks.control("GET", "webhooks/deliveries?status=failed")[0]["id"] == last["id"]


def test_unreachable_endpoint_is_recorded_and_retried(hooks, receiver):
    api = connect(hooks, "http://127.0.0.1:9/nothing-listens-here")
    api.create("Customer", {"DisplayName": "Nobody Home"})
    (attempt,) = deliver(hooks)
    assert attempt["status"] == "retrying"
    assert attempt["last_status"] is None and attempt["last_error"]


def test_only_connected_apps_with_a_webhook_url_get_events(hooks, receiver):
    api = connect(hooks, receiver.url)
    other = Api(hooks, hooks.mint_tokens(hooks.REALM_2)["access_token"], hooks.REALM_2)
    other.create("Customer", {"DisplayName": "Realm Two Person"})  # hook app not connected
    api.create("Customer", {"DisplayName": "Before Revoke"})
    hooks.revoke_tokens(hooks.REALM_1, HOOK_APP)
    dev = Api(hooks, hooks.mint_tokens(hooks.REALM_1)["access_token"], hooks.REALM_1)
    dev.create("Customer", {"DisplayName": "After Revoke"})
    deliver(hooks)
    (got,) = receiver.received
    entities = json.loads(got["body"])["eventNotifications"][0]["dataChangeEvent"]["entities"]
    assert [e["operation"] for e in entities] == ["Create"]
    assert len(deliveries(hooks)) == 1


def test_merge_event_carries_the_merged_away_id(hooks, receiver):
    connect(hooks, receiver.url)
    merged = hooks.control(
        "POST", f"companies/{hooks.REALM_1}/merge", {"from_id": "1", "into_id": "5"}
    )
    assert merged["Customer"]["Id"] == "5"
    assert merged["Customer"]["Balance"] == 100  # invoice 1001 moved with its balance
    deliver(hooks)
    (got,) = receiver.received
    entities = json.loads(got["body"])["eventNotifications"][0]["dataChangeEvent"]["entities"]
    merge = [e for e in entities if e["operation"] == "Merge"]
    assert merge == [
        {
            "name": "Customer",
            "id": "5",
            "operation": "Merge",
            "lastUpdated": merge[0]["lastUpdated"],
            "deletedId": "1",
        }
    ]
    moved = {(e["name"], e["operation"]) for e in entities if e["operation"] != "Merge"}
    assert moved == {("Invoice", "Update"), ("TimeActivity", "Update")}
    customers = {c["Id"]: c for c in hooks.entities(hooks.REALM_1, "Customer")}
    assert customers["1"]["Active"] is False and customers["1"]["Balance"] == 0
    invoices = hooks.entities(hooks.REALM_1, "Invoice")
    assert {i["CustomerRef"]["value"] for i in invoices} >= {"5"}
    assert "1" not in {i["CustomerRef"]["value"] for i in invoices}


def test_merge_as_cloudevent_and_merge_errors(hooks, receiver):
    connect(hooks, receiver.url, fmt="cloudevents")
    bad = hooks.http.post(
        f"{hooks.base_url}/_sandbox/api/companies/{hooks.REALM_1}/merge",
        json={"from_id": "2", "into_id": "2"},
        headers={"X-Sandbox-Secret": hooks.control_secret},
        timeout=10,
    )
    assert bad.status_code == 400 and bad.json()["Fault"]["Error"][0]["code"] == "6000"
    hooks.control("POST", f"companies/{hooks.REALM_1}/merge", {"from_id": "2", "into_id": "3"})
    deliver(hooks)
    events = json.loads(receiver.received[0]["body"])
    (merge,) = [e for e in events if e["type"] == "qbo.customer.merged.v1"]
    assert merge["intuitentityid"] == "3" and merge["data"] == {"deletedId": "2"}


def test_background_thread_delivers_without_being_asked(receiver):
    receiver.reset()
    config = {"limits": {"enabled": False}, "webhooks": {"batch_seconds": 0.2}}
    with run_sandbox(config) as sbx:
        dispatcher = next(fn.__self__ for fn in sbx.sandbox._listeners if hasattr(fn, "__self__"))
        try:
            api = connect(sbx, receiver.url)
            api.create("Customer", {"DisplayName": "Background Delivery"})
            # Poll for the outcome the thread records AFTER the receiver answered (waiting only
            # for the receiver raced with that bookkeeping).
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                recorded = deliveries(sbx)
                if recorded and recorded[0]["status"] != "pending":
                    break
                time.sleep(0.05)
            assert len(receiver.received) == 1
            assert deliveries(sbx)[0]["status"] == "delivered"
        finally:
            dispatcher.stop()
        assert dispatcher._thread is not None and not dispatcher._thread.is_alive()
