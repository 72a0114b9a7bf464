"""The store's in-memory mirror (indexes for name checks and queries) never disagrees with
SQLite: after creates, renames, deletes, raw doc rewrites and rolled-back transactions, and
indexed queries answer exactly what a full scan answers."""

from __future__ import annotations

import random

import pytest

from qbo_sandbox import queries, query
from qbo_sandbox.config import load
from qbo_sandbox.core import Sandbox
from qbo_sandbox.store import Store

REALM = "42"


def _put(store: Store, eid: int, name: str, etype: str = "Customer", **extra: object) -> None:
    store.put_entity(REALM, etype, eid, {"Id": str(eid), "DisplayName": name, **extra}, 1.0)


def test_find_by_name_follows_renames_deletes_and_rewrites() -> None:
    store = Store()
    _put(store, 1, "Acme LLC")
    _put(store, 2, "Bob Vance", etype="Vendor")
    assert store.find_by_name(REALM, ("Customer", "Vendor"), "DisplayName", " acme llc ") == [
        ("Customer", "1")
    ]
    _put(store, 1, "Acme Inc")  # rename
    assert store.find_by_name(REALM, ("Customer",), "DisplayName", "Acme LLC") == []
    assert store.find_by_name(REALM, ("Customer",), "DisplayName", "ACME INC") == [
        ("Customer", "1")
    ]
    store.replace_doc(REALM, "Customer", 1, {"Id": "1", "DisplayName": "Acme Rewritten"})
    assert store.find_by_name(REALM, ("Customer",), "DisplayName", "acme rewritten") == [
        ("Customer", "1")
    ]
    store.put_entity(REALM, "Vendor", 2, {"Id": "2", "status": "Deleted"}, 2.0, deleted=True)
    assert store.find_by_name(REALM, ("Vendor",), "DisplayName", "Bob Vance") == []
    _put(store, 3, "Bob Vance")
    assert store.find_by_name(REALM, ("Vendor", "Customer"), "DisplayName", "bob vance") == [
        ("Customer", "3")
    ]
    assert store.find_by_name("other-realm", ("Customer",), "DisplayName", "Acme Inc") == []


def test_rolled_back_writes_leave_no_trace_in_the_mirror() -> None:
    store = Store()
    _put(store, 1, "Kept")
    assert len(store.select(REALM, "Customer")) == 1  # mirror loaded before the transaction
    with pytest.raises(RuntimeError), store.transaction():
        _put(store, 2, "Ghost")
        _put(store, 1, "Renamed in vain")
        assert store.find_by_name(REALM, ("Customer",), "DisplayName", "Ghost") == [
            ("Customer", "2")
        ]  # visible inside the transaction, like SQLite's own rows
        raise RuntimeError("fail the write")
    assert store.find_by_name(REALM, ("Customer",), "DisplayName", "Ghost") == []
    assert store.find_by_name(REALM, ("Customer",), "DisplayName", "Kept") == [("Customer", "1")]
    assert [d["DisplayName"] for d in store.select(REALM, "Customer")] == ["Kept"]


def test_wipe_empties_the_mirror() -> None:
    store = Store()
    _put(store, 1, "Acme")
    assert store.find_by_name(REALM, ("Customer",), "DisplayName", "Acme")
    store.wipe()
    assert store.find_by_name(REALM, ("Customer",), "DisplayName", "Acme") == []
    assert store.select(REALM, "Customer") == []


NAMES = ["Smith", "smith ", "O'Brien", "José Núñez", "A & B", "Zed", "", "Ann Lee", "ANN LEE"]


def _sandbox_with_random_customers(seed: int) -> Sandbox:
    sb = Sandbox(load({"seed": False}))
    rng = random.Random(seed)
    for eid in range(1, 80):
        doc: dict[str, object] = {"Id": str(eid), "Active": rng.random() > 0.2}
        name = rng.choice(NAMES)
        if name:
            doc["DisplayName"] = f"{name}{rng.choice(['', '', ' 1', ' 2'])}".rstrip() or name
        if rng.random() > 0.3:
            doc["FamilyName"] = rng.choice(NAMES)
        if rng.random() > 0.5:
            doc["PrimaryEmailAddr"] = {"Address": rng.choice(["a@x.example", "A@X.example "])}
        sb.store.put_entity(REALM, "Customer", eid, doc, float(eid))
        invoice = {"Id": str(eid), "CustomerRef": {"value": str(rng.randint(1, 5))},
                   "DocNumber": str(rng.randint(1000, 1010))}
        sb.store.put_entity(REALM, "Invoice", eid, invoice, float(eid))
    for eid in rng.sample(range(1, 80), 10):  # some renames and deletes after indexing
        sb.store.put_entity(REALM, "Customer", eid, {"Id": str(eid), "DisplayName": "Zed"}, 99.0)
    for eid in rng.sample(range(1, 80), 5):
        sb.store.put_entity(REALM, "Customer", eid, {"Id": str(eid)}, 99.0, deleted=True)
    return sb


QUERIES = [
    "SELECT * FROM Customer WHERE DisplayName = 'smith'",
    "SELECT * FROM Customer WHERE DisplayName IN ('Smith 1', 'ann lee', 'A & B', 'nobody')",
    "SELECT * FROM Customer WHERE DisplayName = 'Zed' AND Active IN (true, false)",
    "SELECT * FROM Customer WHERE FamilyName IN ('O\\'Brien', 'josé núñez') MAXRESULTS 3",
    "SELECT * FROM Customer WHERE DisplayName = ' '",
    "SELECT * FROM Customer WHERE Id IN ('3', '007', '12', '500')",
    "SELECT * FROM Customer WHERE PrimaryEmailAddr = 'a@x.example' ORDERBY DisplayName DESC",
    "SELECT * FROM Invoice WHERE CustomerRef IN ('2', '04') AND DocNumber = '1003'",
    "SELECT COUNT(*) FROM Customer WHERE DisplayName = 'Zed'",
    "SELECT * FROM Customer WHERE DisplayName LIKE 'Sm%' AND FamilyName = 'Zed'",
    "SELECT * FROM Customer STARTPOSITION 5 MAXRESULTS 10",
]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("text", QUERIES)
def test_indexed_queries_answer_like_a_full_scan(seed: int, text: str) -> None:
    sb = _sandbox_with_random_customers(seed)
    parsed = query.parse(text)
    expected = query.execute(parsed, sb.store.list_entities(REALM, parsed.entity))
    assert queries.query_response(sb, REALM, text) == expected


def test_query_rows_are_copies() -> None:
    sb = _sandbox_with_random_customers(1)
    text = "SELECT * FROM Customer WHERE DisplayName = 'Zed'"
    rows = queries.query_response(sb, REALM, text)["Customer"]
    rows[0]["DisplayName"] = "Tampered"
    assert queries.query_response(sb, REALM, text)["Customer"][0]["DisplayName"] == "Zed"
    assert sb.store.find_by_name(REALM, ("Customer",), "DisplayName", "Tampered") == []
