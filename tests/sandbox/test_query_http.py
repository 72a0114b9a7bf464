"""Query endpoint over HTTP: GET and POST forms, envelopes, errors (reference §3, §12.2).

Parser details are tested in test_query.py (owned by the query engine's author)."""

from __future__ import annotations

import requests

from .conftest import fault_of


def test_get_query_with_escaped_quote(api):
    resp = api.query("SELECT * FROM Customer WHERE DisplayName = 'Amy\\'s Bird Sanctuary'")
    body = resp.json()
    assert resp.status_code == 200 and body["QueryResponse"]["Customer"][0]["Id"] == "1"
    assert body["QueryResponse"]["startPosition"] == 1 and body["QueryResponse"]["maxResults"] == 1
    assert "time" in body


def test_post_application_text(api):
    resp = requests.post(
        api.url("query"),
        data="select count(*) from Item",
        timeout=10,
        headers=api.headers({"Content-Type": "application/text"}),
    )
    from qbo_sandbox.seed import ITEMS

    assert resp.json()["QueryResponse"]["totalCount"] == len(ITEMS)


def test_inactive_hidden_unless_asked_and_empty_envelope(api):
    cust = api.create("Customer", {"DisplayName": "Hidden One"})
    api.post("customer", {"Id": cust["Id"], "SyncToken": "0", "sparse": True, "Active": False})
    assert (
        api.query("select * from Customer where DisplayName = 'Hidden One'").json()["QueryResponse"]
        == {}
    )
    found = api.query("select * from Customer where Active = false").json()["QueryResponse"]
    assert [c["Id"] for c in found["Customer"]] == [cust["Id"]]


def test_paging(api):
    page = api.query("select * from Customer STARTPOSITION 11 MAXRESULTS 10").json()[
        "QueryResponse"
    ]
    assert page["startPosition"] == 11 and page["maxResults"] == 10


def test_parse_error_4000(api):
    resp = api.query("SELECT * FROM Customer WHERE DisplayName = 'Amy's'")
    err = fault_of(resp)
    assert (
        resp.status_code == 400
        and err["code"] == "4000"
        and err["Message"] == "Error parsing query"
    )


def test_sql_injection_and_unicode_are_just_strings(api):
    for text in (
        "select * from Customer where DisplayName = '\\' OR 1=1 --'",
        "select * from Customer where DisplayName = 'Zoë ☃'",
        "'; DROP TABLE entity; --",
    ):
        resp = api.query(text)
        assert resp.status_code in (200, 400), resp.text
        body = resp.json()
        assert body.get("QueryResponse") == {} or fault_of(resp)["code"] in ("4000", "4001")
    assert api.get("customer/1").status_code == 200
