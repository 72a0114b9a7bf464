"""CDC: changes since a moment, deletes as status Deleted, 30-day lookback (reference §7.1)."""

from __future__ import annotations

from datetime import datetime, timedelta

from .conftest import fault_of


def sandbox_now(sbx) -> datetime:
    return datetime.fromisoformat(sbx.control("GET", "clock")["now"])


def test_cdc_returns_changes_and_deletions(api, sbx):
    sbx.advance_clock(10)
    since = sandbox_now(sbx).isoformat(timespec="seconds")
    sbx.advance_clock(10)
    cust = api.create("Customer", {"DisplayName": "Changed Recently"})
    api.post("invoice", {"Id": "1", "SyncToken": "0"}, operation="delete")
    body = api.get("cdc", entities="Customer,Invoice,TimeActivity", changedSince=since).json()
    blocks = body["CDCResponse"][0]["QueryResponse"]
    assert [c["Id"] for c in blocks[0]["Customer"]] == [cust["Id"]]
    assert blocks[0]["maxResults"] == 1 and blocks[0]["startPosition"] == 1
    deleted = blocks[1]["Invoice"][0]
    assert (
        deleted["status"] == "Deleted"
        and deleted["Id"] == "1"
        and "LastUpdatedTime" in deleted["MetaData"]
    )
    assert blocks[2] == {}


def test_cdc_lookback_and_required_params(api, sbx):
    old = (sandbox_now(sbx) - timedelta(days=31)).isoformat(timespec="seconds")
    assert fault_of(api.get("cdc", entities="Customer", changedSince=old))["code"] == "4001"
    assert fault_of(api.get("cdc", entities="Customer"))["code"] == "2020"
