"""Batch: ≤30 independent items, per-item Fault, bId matching (reference §6, §12.4)."""

from __future__ import annotations

from .conftest import fault_of


def test_batch_mixes_success_fault_and_query(api):
    resp = api.post(
        "batch",
        {
            "BatchItemRequest": [
                {"bId": "c1", "operation": "create", "Customer": {"DisplayName": "Acme Ltd"}},
                {
                    "bId": "c2",
                    "operation": "create",
                    "Customer": {"DisplayName": "Amy's Bird Sanctuary"},
                },
                {"bId": "q1", "Query": "select * from Item where Name = 'Hours'"},
                {"bId": "d1", "operation": "delete", "Invoice": {"Id": "1", "SyncToken": "0"}},
            ]
        },
    )
    assert resp.status_code == 200
    items = {i["bId"]: i for i in resp.json()["BatchItemResponse"]}
    assert items["c1"]["Customer"]["DisplayName"] == "Acme Ltd"
    assert items["c2"]["Fault"]["type"] == "ValidationFault"
    assert items["c2"]["Fault"]["Error"][0]["code"] == "6240"
    assert items["c2"]["Fault"]["Error"][0]["Detail"] == "The name supplied already exists. : Id=1"
    assert items["q1"]["QueryResponse"]["Item"][0]["Id"] == "2"
    assert items["q1"]["QueryResponse"]["maxResults"] == 1
    assert items["d1"]["Invoice"]["status"] == "Deleted"
    assert "time" in resp.json()


def test_batch_item_failure_does_not_roll_back_others(api):
    api.post(
        "batch",
        {
            "BatchItemRequest": [
                {"bId": "a", "operation": "create", "Customer": {"DisplayName": "Keeper"}},
                {
                    "bId": "b",
                    "operation": "update",
                    "Customer": {"Id": "1", "SyncToken": "99", "sparse": True},
                },
            ]
        },
    )
    names = {c["DisplayName"] for c in api.sbx.entities(api.realm, "Customer")}
    assert "Keeper" in names


def test_batch_over_30_items_is_rejected(api):
    items = [
        {"bId": str(i), "operation": "create", "Customer": {"DisplayName": f"B{i}"}}
        for i in range(31)
    ]
    resp = api.post("batch", {"BatchItemRequest": items})
    assert resp.status_code == 400 and fault_of(resp)["code"] == "1040"
    assert not any(c["DisplayName"] == "B0" for c in api.sbx.entities(api.realm, "Customer"))


def test_batch_of_30_creates_all(api):
    items = [
        {"bId": f"b{i}", "operation": "create", "Customer": {"DisplayName": f"Batch {i}"}}
        for i in range(30)
    ]
    body = api.post("batch", {"BatchItemRequest": items}).json()
    assert [i["bId"] for i in body["BatchItemResponse"]] == [f"b{i}" for i in range(30)]
    assert all("Customer" in i for i in body["BatchItemResponse"])


def test_batch_bad_bodies(api):
    assert fault_of(api.post("batch", {"Nope": []}))["code"] in ("2010", "2020")
    resp = api.post(
        "batch",
        {
            "BatchItemRequest": [
                {"bId": "x", "operation": "explode", "Customer": {"DisplayName": "Z"}}
            ]
        },
    )
    assert resp.json()["BatchItemResponse"][0]["Fault"]["Error"][0]["code"] == "2170"
