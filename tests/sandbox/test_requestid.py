"""requestid replay: same realm + id -> the stored first answer, no side effects (§2.4)."""

from __future__ import annotations

from .conftest import fault_of


def count(api, entity):
    return len(api.sbx.entities(api.realm, entity))


def test_same_requestid_replays_without_second_create(api):
    before = count(api, "Customer")
    first = api.post("customer", {"DisplayName": "Once Only"}, requestid="rid-1")
    second = api.post("customer", {"DisplayName": "Once Only"}, requestid="rid-1")
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert count(api, "Customer") == before + 1


def test_worked_example_12_3(api):
    cust = api.create("Customer", {"DisplayName": "Deactivate Me"})
    body = {"Id": cust["Id"], "SyncToken": "0", "sparse": True, "Active": False}
    first = api.post("customer", body, requestid="6f1c-a")
    assert first.json()["Customer"]["SyncToken"] == "1"
    assert fault_of(api.post("customer", body, requestid="6f1c-b"))["code"] == "5010"
    assert api.post("customer", body, requestid="6f1c-a").json() == first.json()


def test_requestid_is_per_realm(api, sbx):
    from .conftest import Api

    other = Api(sbx, sbx.mint_tokens(sbx.REALM_2)["access_token"], sbx.REALM_2)
    api.post("customer", {"DisplayName": "Realm One"}, requestid="shared")
    resp = other.post("customer", {"DisplayName": "Realm Two"}, requestid="shared")
    assert resp.json()["Customer"]["DisplayName"] == "Realm Two"


def test_requestid_length_limits(api):
    assert (
        fault_of(api.post("customer", {"DisplayName": "Long"}, requestid="x" * 51))["code"]
        == "2050"
    )
    assert api.post("customer", {"DisplayName": "Ok Len"}, requestid="x" * 50).status_code == 200
    batch = {
        "BatchItemRequest": [
            {"bId": "b1", "operation": "create", "Customer": {"DisplayName": "Bb"}}
        ]
    }
    assert fault_of(api.post("batch", batch, requestid="y" * 37))["code"] == "2050"
    long_bid = {
        "BatchItemRequest": [
            {"bId": "b" * 11, "operation": "create", "Customer": {"DisplayName": "C"}}
        ]
    }
    assert fault_of(api.post("batch", long_bid, requestid="z" * 36))["code"] == "2050"


def test_batch_replay(api):
    batch = {
        "BatchItemRequest": [
            {"bId": "b1", "operation": "create", "Customer": {"DisplayName": "Bat Once"}}
        ]
    }
    first = api.post("batch", batch, requestid="batch-rid")
    again = api.post("batch", batch, requestid="batch-rid")
    assert first.json() == again.json()
    assert sum(c["DisplayName"] == "Bat Once" for c in api.sbx.entities(api.realm, "Customer")) == 1


def test_failed_write_is_not_replayed_by_default(api):
    assert fault_of(
        api.post("customer", {"DisplayName": "Amy's Bird Sanctuary"}, requestid="r-fail")
    )
    resp = api.post("customer", {"DisplayName": "Fixed Name"}, requestid="r-fail")
    assert resp.status_code == 200
