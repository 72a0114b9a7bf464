"""QboClient against the QBO sandbox over real HTTP: reads, writes, paging, batch, CDC, the
Fault -> typed error table (both shapes), retries with a stable requestid, and the governor."""

from __future__ import annotations

import multiprocessing
import threading
import time
import uuid

import pytest

from portal.qbo import errors
from portal.qbo.client import QboClient, escape
from portal.qbo.errors import (
    AuthFailed,
    DuplicateDocNumber,
    DuplicateName,
    Forbidden,
    NotConnected,
    NotFound,
    ServerError,
    StaleObject,
    Throttled,
    TransportError,
    ValidationFault,
    error_from_fault,
)
from portal.redis_conn import redis_url
from qbo_sandbox.testing import run_sandbox
from tests.qbo_support import (  # noqa: F401 - fixtures
    _connected,
    _refreshes,
    _sandbox_server,
    _sbx,
    connect_firm,
    hammer_realm,
    point_app_at,
)


def rid() -> str:
    return uuid.uuid4().hex


def requests_to(sbx, key: str) -> int:
    return sbx.counters()["requests"].get(key, 0)


# -- the error table, both shapes (pure) -----------------------------------------------------
def fault400(code: str, message: str = "m", detail: str = "d") -> dict:
    return {"Fault": {"Error": [{"Message": message, "Detail": detail, "code": code,
                                 "element": "DisplayName"}], "type": "ValidationFault"}}


def gateway(status: int, name: str, code: str, detail: str | None = None) -> dict:
    return {"fault": {"error": [{"message": f"message={name}; errorCode={int(code):06d}; "
                                            f"statusCode={status}",
                                 "detail": detail, "code": code, "element": None}],
                      "type": "SERVICE"}, "time": 1730024394085}


@pytest.mark.parametrize(("status", "body", "cls", "code"), [
    (400, fault400("6240", detail="The name supplied already exists. : Id=58"), DuplicateName,
     "6240"),
    (400, fault400("6140"), DuplicateDocNumber, "6140"),
    (400, fault400("5010"), StaleObject, "5010"),
    (400, fault400("610"), NotFound, "610"),
    (400, fault400("2010"), ValidationFault, "2010"),
    (400, fault400("2020"), ValidationFault, "2020"),
    (400, fault400("2040"), ValidationFault, "2040"),
    (400, fault400("2050"), ValidationFault, "2050"),
    (400, fault400("2500"), ValidationFault, "2500"),
    (400, fault400("6070"), ValidationFault, "6070"),
    (400, fault400("4000"), ValidationFault, "4000"),
    (500, fault400("10000"), ServerError, "10000"),
    (503, None, ServerError, None),
    (401, gateway(401, "AuthenticationFailed", "3200", "Token expired: AB0"), AuthFailed, "3200"),
    (403, gateway(403, "ApplicationAuthorizationFailed", "3100"), Forbidden, "3100"),
    (429, gateway(429, "ThrottleExceeded", "3001", "The request limit was reached."), Throttled,
     "3001"),
])
def test_fault_table_maps_both_shapes(status, body, cls, code):
    error = error_from_fault(body, status=status, intuit_tid="tid-1")
    assert type(error) is cls
    assert error.code == code
    assert error.status == status
    assert error.intuit_tid == "tid-1"


def test_gateway_message_is_unpacked_and_detail_kept():
    error = error_from_fault(gateway(401, "AuthenticationFailed", "3200", "Token expired: AB0"),
                             status=401)
    assert error.message == "AuthenticationFailed"
    assert error.detail == "Token expired: AB0"


@pytest.mark.parametrize(("detail", "existing"), [
    ("The name supplied already exists. : Id=123", "123"),
    ("The name supplied already exists. : Another customer, vendor or employee is already "
     "using this name. Please use a different name.", None),
    ("The name supplied already exists. : null", None),
])
def test_duplicate_name_exposes_existing_id_for_all_three_details(detail, existing):
    error = error_from_fault(fault400("6240", "Duplicate Name Exists Error", detail), status=400)
    assert isinstance(error, DuplicateName)
    assert error.existing_id == existing


def test_throttled_reads_retry_after():
    error = error_from_fault(gateway(429, "ThrottleExceeded", "3001"), status=429,
                             headers={"Retry-After": "7"})
    assert isinstance(error, Throttled) and error.retry_after == 7.0


def test_multiple_errors_are_all_kept():
    body = {"Fault": {"Error": [
        {"Message": "Duplicate Document Number Error", "Detail": "DocNumber=1", "code": "6140"},
        {"Message": "Required param missing", "Detail": "Line", "code": "2020"}],
        "type": "ValidationFault"}}
    error = error_from_fault(body, status=400)
    assert isinstance(error, DuplicateDocNumber)
    assert [e.code for e in error.errors] == ["6140", "2020"]


# -- reads and writes -------------------------------------------------------------------------
def test_create_read_update_and_query_a_customer(app, sbx, connected, firm):
    with QboClient(firm.id) as qbo:
        created = qbo.create("Customer", {"DisplayName": "O'Neil & Sons"}, rid())
        assert created["Id"] and created["SyncToken"] == "0"
        assert qbo.get("Customer", created["Id"])["DisplayName"] == "O'Neil & Sons"
        updated = qbo.update("Customer", {"Id": created["Id"], "SyncToken": "0",
                                          "CompanyName": "O'Neil & Sons Ltd"}, rid())
        assert updated["SyncToken"] == "1"
        assert updated["DisplayName"] == "O'Neil & Sons"  # sparse: untouched fields kept
        name = escape(updated["DisplayName"])
        found = qbo.query(f"SELECT * FROM Customer WHERE DisplayName = {name}")  # noqa: S608
        assert [c["Id"] for c in found["Customer"]] == [created["Id"]]
        assert qbo.query("SELECT * FROM Customer WHERE DisplayName = 'Nobody Here'") == {}
        assert qbo.company_info()["CompanyName"] == "Sandbox Company_US_1"


def test_every_request_sends_minorversion_json_and_writes_send_requestid(app, sbx, connected,
                                                                         firm, monkeypatch):
    seen: list[tuple[str, dict, dict]] = []
    with QboClient(firm.id) as qbo:
        original = qbo.http.request

        def spy(method, url, **kwargs):
            seen.append((method, dict(kwargs["params"]), dict(qbo.http.headers)))
            assert kwargs["timeout"]
            return original(method, url, **kwargs)

        monkeypatch.setattr(qbo.http, "request", spy)
        qbo.get("Customer", "1")
        qbo.create("Customer", {"DisplayName": "Spy Check"}, "rid-spy-1")
    assert all(params["minorversion"] == 75 for _, params, _ in seen)
    assert all(headers["Accept"] == "application/json" for _, _, headers in seen)
    assert "requestid" not in seen[0][1]
    assert seen[1][1]["requestid"] == "rid-spy-1"


def test_query_all_pages_until_a_short_page(app, sbx, connected, firm):
    expected = {c["Id"] for c in sbx.entities(sbx.REALM_1, "Customer") if c.get("Active", True)}
    before = requests_to(sbx, "GET query")
    with QboClient(firm.id) as qbo:
        rows = qbo.query_all("Customer", page_size=5)
    assert {c["Id"] for c in rows} == expected
    assert len(rows) == len(expected)
    assert requests_to(sbx, "GET query") - before == len(expected) // 5 + 1


def test_request_ids_are_validated(app, sbx, connected, firm):
    with QboClient(firm.id) as qbo:
        with pytest.raises(ValueError):
            qbo.create("Customer", {"DisplayName": "X"}, "x" * 51)
        with pytest.raises(ValueError):
            qbo.batch([{"bId": "1", "Query": "select * from Item"}], "y" * 37)


def test_delete_a_transaction_and_cdc_reports_changes(app, sbx, connected, firm):
    with QboClient(firm.id) as qbo:
        since = qbo.company_info()["MetaData"]["LastUpdatedTime"]
        customer = qbo.create("Customer", {"DisplayName": "CDC Person"}, rid())
        activity = qbo.create("TimeActivity", {
            "NameOf": "Employee", "EmployeeRef": {"value": "54"}, "TxnDate": "2024-06-01",
            "Hours": 1, "Minutes": 0, "Description": "call"}, rid())
        deleted = qbo.delete("TimeActivity", activity["Id"], activity["SyncToken"], rid())
        assert deleted["status"] == "Deleted"
        changes = qbo.cdc(["Customer", "TimeActivity"], since)
    assert customer["Id"] in {c["Id"] for c in changes["Customer"]}
    gone = [a for a in changes["TimeActivity"] if a["Id"] == activity["Id"]]
    assert [a.get("status") for a in gone] == ["Deleted"]


def test_batch_matches_results_by_bid_with_per_item_errors(app, sbx, connected, firm):
    items = [{"bId": f"c{n}", "operation": "create", "Customer": {"DisplayName": f"Batch {n}"}}
             for n in range(33)]
    items.append({"bId": "dup", "operation": "create",
                  "Customer": {"DisplayName": "Amy's Bird Sanctuary"}})
    items.append({"bId": "q1", "Query": "select * from Item where Name = 'Hours'"})
    with QboClient(firm.id) as qbo:
        results = qbo.batch(items, "batch-" + uuid.uuid4().hex[:20])
    assert list(results) == [item["bId"] for item in items]
    assert all(results[f"c{n}"].ok and results[f"c{n}"].data["DisplayName"] == f"Batch {n}"
               for n in range(33))
    assert isinstance(results["dup"].error, DuplicateName)
    assert results["dup"].error.existing_id == "1"
    assert results["q1"].entity == "QueryResponse"
    assert requests_to(sbx, "POST batch") == 2  # chunked at 30


# -- typed errors from the sandbox --------------------------------------------------------------
def test_duplicate_name_from_qbo(app, sbx, connected, firm):
    with QboClient(firm.id) as qbo, pytest.raises(DuplicateName) as caught:
        qbo.create("Customer", {"DisplayName": "Amy's Bird Sanctuary"}, rid())
    assert caught.value.existing_id == "1"
    assert caught.value.status == 400
    assert caught.value.intuit_tid


def test_stale_sync_token_is_stale_object(app, sbx, connected, firm):
    with QboClient(firm.id) as qbo:
        customer = qbo.create("Customer", {"DisplayName": "Stale Test"}, rid())
        qbo.update("Customer", {"Id": customer["Id"], "SyncToken": "0", "Notes": "a"}, rid())
        with pytest.raises(StaleObject) as caught:
            qbo.update("Customer", {"Id": customer["Id"], "SyncToken": "0", "Notes": "b"}, rid())
    assert caught.value.code == "5010"


def test_unknown_property_is_a_validation_fault_and_not_retried(app, sbx, connected, firm):
    with QboClient(firm.id) as qbo, pytest.raises(ValidationFault) as caught:
        qbo.create("Customer", {"DisplayName": "Bad Field", "Nickname": "x"}, rid())
    assert caught.value.code == "2010"
    assert "Nickname" in caught.value.detail
    assert requests_to(sbx, "POST customer") == 1


def test_missing_object_is_not_found(app, sbx, connected, firm):
    with QboClient(firm.id) as qbo, pytest.raises(NotFound):
        qbo.get("Customer", "987654")


def test_other_realm_is_forbidden(app, sbx, connected, firm):
    with QboClient(firm.id, realm_id=sbx.REALM_2) as qbo, pytest.raises(Forbidden) as caught:
        qbo.get("Customer", "1")
    assert caught.value.code == "3100"


def test_not_connected_firm_costs_no_request(app, sbx, firm):
    with pytest.raises(NotConnected):
        QboClient(firm.id)
    assert sbx.counters()["requests_total"] == 0


# -- retries ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["500", "503", "429"])
def test_retryable_answers_are_retried_then_succeed(app, sbx, connected, firm, kind):
    sbx.inject_fault(kind, count=2, method="POST", path="/customer")
    with QboClient(firm.id) as qbo:
        created = qbo.create("Customer", {"DisplayName": f"Retry {kind}"}, rid())
    assert sbx.counters()["faults_injected"] == {kind: 2}  # two refused attempts ...
    assert requests_to(sbx, "POST customer") == 1  # ... and one that got through
    names = [c["DisplayName"] for c in sbx.entities(sbx.REALM_1, "Customer")]
    assert names.count(f"Retry {kind}") == 1
    assert created["DisplayName"] == f"Retry {kind}"


def test_lost_answer_is_retried_with_the_same_requestid_and_creates_once(app, sbx, connected,
                                                                          firm):
    sbx.inject_fault("commit_then_drop", count=1, method="POST", path="/customer")
    with QboClient(firm.id) as qbo:
        created = qbo.create("Customer", {"DisplayName": "Exactly Once"}, "rid-exactly-once")
    matches = [c for c in sbx.entities(sbx.REALM_1, "Customer")
               if c["DisplayName"] == "Exactly Once"]
    assert [c["Id"] for c in matches] == [created["Id"]]
    assert requests_to(sbx, "POST customer") == 2
    assert sbx.counters()["entities_created"].get("Customer") == 1


def test_hang_times_out_and_is_retried(app, sbx, connected, firm):
    app.config["QBO_HTTP_TIMEOUT"] = 0.5
    sbx.inject_fault("hang", count=1, method="GET", path="/v3/", hang_seconds=3)
    with QboClient(firm.id) as qbo:
        assert qbo.get("Customer", "1")["Id"] == "1"
    assert sbx.counters()["faults_injected"] == {"hang": 1}
    assert requests_to(sbx, "GET customer/{id}") == 1


def test_gives_up_after_max_attempts(app, sbx, connected, firm):
    sbx.inject_fault("503", count=10, method="GET", path="/v3/")
    with QboClient(firm.id) as qbo, pytest.raises(ServerError):
        qbo.get("Customer", "1")
    assert sbx.counters()["faults_injected"] == {"503": app.config["QBO_MAX_ATTEMPTS"]}


def test_transport_error_when_nothing_listens(app, sbx, connected, firm):
    app.config["QBO_MAX_ATTEMPTS"] = 2
    with QboClient(firm.id) as qbo:
        qbo.base_url = "http://127.0.0.1:9/v3/company/1"
        with pytest.raises(TransportError):
            qbo.get("Customer", "1")


def test_401_refreshes_once_and_retries(app, sbx, connected, firm, refreshes):
    sbx.inject_fault("401", count=1, method="GET", path="/v3/")
    with QboClient(firm.id) as qbo:
        assert qbo.get("Customer", "1")["Id"] == "1"
    assert refreshes.calls == 1
    assert sbx.counters()["faults_injected"] == {"401": 1}
    assert requests_to(sbx, "GET customer/{id}") == 1


def test_401_twice_is_raised_after_one_refresh(app, sbx, connected, firm, refreshes):
    sbx.inject_fault("401", count=5, method="GET", path="/v3/")
    with QboClient(firm.id) as qbo, pytest.raises(AuthFailed):
        qbo.get("Customer", "1")
    assert refreshes.calls == 1
    assert sbx.counters()["faults_injected"] == {"401": 2}


# -- governor -------------------------------------------------------------------------------------
def test_governor_keeps_parallel_workers_under_the_sandbox_limits(app, firm):
    """4 threads, 60 requests, limits scaled 20x: the sandbox serves zero 429s."""
    scale = 20.0
    limits = {"per_realm_per_minute": 30, "concurrent_per_realm_app": 2}
    with run_sandbox({"time_scale": scale, "limits": limits, "latency_ms": 200}) as sbx:
        point_app_at(app, sbx, QBO_RATE_LIMIT_PER_MINUTE=25, QBO_MAX_CONCURRENT=2,
                     QBO_RATE_WINDOW_SECONDS=60 / scale, QBO_MAX_ATTEMPTS=1)
        connect_firm(firm, sbx)
        firm_id = firm.id  # threads must not lazy-load through the test's session
        sbx.reset_counters()
        failures: list[BaseException] = []

        def worker() -> None:
            with app.app_context(), QboClient(firm_id) as qbo:
                for _ in range(15):
                    try:
                        qbo.get("Customer", "1")
                    except errors.QboError as exc:
                        failures.append(exc)

        started = time.monotonic()
        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        elapsed = time.monotonic() - started
        counters = sbx.counters()
    assert failures == []
    assert counters["throttled_total"] == 0
    assert counters["requests"]["GET customer/{id}"] == 60
    assert elapsed >= 2 * (60 / scale) * 0.9  # 60 requests at 25/window need 3 windows


def test_governor_is_shared_by_worker_processes(app):
    """Three processes (sharing only Redis) push 20 reads each: zero 429s at the sandbox."""
    scale = 20.0
    limits = {"per_realm_per_minute": 30, "concurrent_per_realm_app": 2}
    with run_sandbox({"time_scale": scale, "limits": limits, "latency_ms": 200}) as sbx:
        point_app_at(app, sbx)
        token = sbx.mint_tokens(sbx.REALM_1)["access_token"]
        settings = {
            "REDIS_URL": redis_url(app), "QBO_ENVIRONMENT": "local", "QBO_LOCAL_URL": sbx.base_url,
            "QBO_RATE_LIMIT_PER_MINUTE": 25, "QBO_MAX_CONCURRENT": 2,
            "QBO_RATE_WINDOW_SECONDS": 60 / scale, "QBO_MAX_ATTEMPTS": 1,
        }
        sbx.reset_counters()
        with multiprocessing.get_context("spawn").Pool(3) as pool:
            failed = pool.starmap(hammer_realm, [(settings, sbx.REALM_1, token, 20)] * 3)
        counters = sbx.counters()
    assert failed == [0, 0, 0]
    assert counters["throttled_total"] == 0
    assert counters["requests"]["GET customer/{id}"] == 60
