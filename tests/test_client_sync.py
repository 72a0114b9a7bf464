"""Client push against the QBO sandbox over real HTTP: creates in batches, sparse updates,
the couple-aware duplicate check, review list, 6240 vendor/employee clashes, 5010 recovery,
name cleaning, exactly-once under dropped connections, 5xx/429 bursts, and zero calls when
nothing changed. Helpers here are shared by the other tests/test_client_sync_*.py modules."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from portal.models import Client, ClientReview, SyncEvent, SyncHold, SyncRun
from portal.qbo.client import QboClient
from portal.qbo.errors import TransportError
from portal.qbo.sync.customers import ensure_customer, push_clients
from qbo_sandbox import service as sandbox_service
from tests.qbo_support import (  # noqa: F401 - fixtures
    _connected,
    _sandbox_server,
    _sbx,
    connect_firm,
)


# -- helpers shared by the client sync tests ---------------------
@pytest.fixture(name="realm")
def _realm(sbx, firm) -> str:
    """The firm connected to the sandbox's empty company (no sample customers)."""
    connect_firm(firm, sbx, sbx.REALM_2)
    return sbx.REALM_2


def seed(sbx, realm_id: str, entity: str, body: dict[str, Any]) -> dict[str, Any]:
    """Create a record in the sandbox directly (as someone working in QuickBooks would)."""
    return sandbox_service.write(sbx.sandbox, realm_id, entity, dict(body), None)[entity]


def customers_named(sbx, realm_id: str, name: str) -> list[dict[str, Any]]:
    return [c for c in sbx.entities(realm_id, "Customer")
            if c["DisplayName"].casefold() == name.casefold()]


def requests(sbx) -> dict[str, int]:
    return dict(sbx.counters()["requests"])


def new_run(db, firm, kind: str = "clients") -> SyncRun:
    run = SyncRun(firm_id=firm.id, kind=kind, trigger="button", status="running", counts={})
    db.session.add(run)
    db.session.commit()
    return run


def push(db, firm, **kwargs) -> dict[str, int]:
    run = new_run(db, firm)
    counts = push_clients(firm.id, run, **kwargs)
    db.session.commit()
    db.session.expire_all()
    return counts


def events_of(db, client: Client) -> list[SyncEvent]:
    return list(db.session.execute(db.select(SyncEvent).where(
        SyncEvent.entity == "client", SyncEvent.entity_id == client.id).order_by(SyncEvent.id)
    ).scalars())


def edit(db, client: Client, **fields) -> None:
    for key, value in fields.items():
        setattr(client, key, value)
    client.touch()
    db.session.commit()


# -- creates and updates ---------------------
def test_new_clients_are_created_in_one_batch_and_linked(db, sbx, realm, firm, make_client):
    ann = make_client(firm, first_name="Ann", last_name="Lee", email="ann@lee.example")
    couple = make_client(firm, kind="joint", first_name="John", last_name="Smith",
                         spouse_first_name="Jane")
    acme = make_client(firm, kind="business", company_name="Acme & Sons LLC")
    sbx.reset_counters()

    counts = push(db, firm)

    assert counts == {"created": 3}
    for client in (ann, couple, acme):
        [customer] = customers_named(sbx, realm, client.display_name)
        assert client.qbo_customer_id == customer["Id"]
        assert client.qbo_pushed_version == client.version and not client.needs_push
        assert [e.action for e in events_of(db, client)] == ["created"]
    assert customers_named(sbx, realm, "Ann Lee")[0]["PrimaryEmailAddr"]["Address"] == \
        "ann@lee.example"
    calls = requests(sbx)
    assert calls.get("POST batch") == 1
    assert "POST customer" not in calls


def test_more_than_30_clients_use_several_batch_calls(db, sbx, realm, firm, make_client):
    clients = [make_client(firm, first_name="Pat", last_name=f"Batch{n:03d}") for n in range(65)]
    sbx.reset_counters()

    assert push(db, firm) == {"created": 65}

    assert requests(sbx)["POST batch"] == 3  # 30 + 30 + 5
    assert sbx.counters()["entities_created"]["Customer"] == 65
    assert all(c.qbo_customer_id for c in clients)
    assert len({c.qbo_customer_id for c in clients}) == 65


def test_a_changed_client_gets_a_sparse_update(db, sbx, realm, firm, make_client):
    ann = make_client(firm, first_name="Ann", last_name="Lee")
    push(db, firm)
    edit(db, ann, email="ann.new@lee.example", phone="555-0199")
    sbx.reset_counters()

    assert push(db, firm) == {"updated": 1}

    [customer] = customers_named(sbx, realm, "Ann Lee")
    assert customer["PrimaryEmailAddr"]["Address"] == "ann.new@lee.example"
    assert customer["SyncToken"] == "1" and ann.qbo_sync_token == "1"
    assert requests(sbx) == {"POST customer": 1}
    assert [e.action for e in events_of(db, ann)] == ["created", "updated"]


def test_an_hour_with_no_changes_spends_no_qbo_calls(db, sbx, realm, firm, make_client):
    for n in range(3):
        make_client(firm, first_name="Quiet", last_name=f"Client{n}")
    push(db, firm)
    sbx.reset_counters()

    assert push(db, firm) == {}
    assert sum(requests(sbx).values()) == 0


def test_only_the_named_client_is_pushed(db, sbx, realm, firm, make_client):
    one, two = (make_client(firm, first_name="Only", last_name=n) for n in ("One", "Two"))

    assert push(db, firm, client_ids=[one.id]) == {"created": 1}

    assert one.is_linked and not two.is_linked
    assert customers_named(sbx, realm, "Only Two") == []


def test_ensure_customer_links_or_creates_and_returns_the_id(db, sbx, realm, firm, make_client):
    seed(sbx, realm, "Customer", {"DisplayName": "Lee, Ann"})
    ann = make_client(firm, first_name="Ann", last_name="Lee")
    bob = make_client(firm, first_name="Bob", last_name="Ray")
    run = new_run(db, firm, "invoices")
    with QboClient(firm.id) as qbo:
        ann_id = ensure_customer(qbo, ann, run)
        bob_id = ensure_customer(qbo, bob, run)
        sbx.reset_counters()
        assert ensure_customer(qbo, ann, run) == ann_id
    db.session.commit()
    assert sum(requests(sbx).values()) == 0
    assert ann_id == customers_named(sbx, realm, "Lee, Ann")[0]["Id"]
    assert bob_id == customers_named(sbx, realm, "Bob Ray")[0]["Id"]
    assert len(sbx.entities(realm, "Customer")) == 2


# -- the duplicate check ---------------------
@pytest.mark.parametrize(("in_qbo", "fields"), [
    ("Smith, John and Jane", dict(kind="joint", first_name="John", last_name="Smith",
                                  spouse_first_name="Jane")),
    ("Jane & John Smith", dict(kind="joint", first_name="John", last_name="Smith",
                               spouse_first_name="Jane")),
    ("John and Jane Smith", dict(kind="joint", first_name="John", last_name="Smith",
                                 spouse_first_name="Jane")),
    ("Jane Doe & John Smith", dict(kind="joint", first_name="John", last_name="Smith",
                                   spouse_first_name="Jane", spouse_last_name="Doe")),
    ("Pat OBrien", dict(first_name="Pat", last_name="O'Brien")),
    ("O'Brien, Pat", dict(first_name="Pat", last_name="O'Brien")),
    ("Zoe Adams", dict(first_name="Zoë", last_name="Adams")),
    ("Smith and Jones LLP", dict(kind="business", company_name="Smith & Jones LLP")),
    ("ann lee", dict(first_name="Ann ", last_name=" Lee ")),
    ("LEE, ANN", dict(first_name="Ann", last_name="Lee")),
])
def test_an_existing_customer_under_a_variant_name_is_linked_not_duplicated(
        db, sbx, realm, firm, make_client, in_qbo, fields):
    existing = seed(sbx, realm, "Customer", {"DisplayName": in_qbo})
    client = make_client(firm, **fields)
    sbx.reset_counters()

    assert push(db, firm) == {"linked": 1}

    assert client.qbo_customer_id == existing["Id"]
    assert len(sbx.entities(realm, "Customer")) == 1
    assert sbx.counters()["entities_created"].get("Customer", 0) == 0
    [event] = events_of(db, client)
    assert event.action == "linked" and in_qbo in event.message
    assert "POST batch" not in requests(sbx) and "POST customer" not in requests(sbx)


def test_a_family_name_catches_an_unusual_display_name(db, sbx, realm, firm, make_client):
    """QBO customer displayed as "The Smiths" but with GivenName/FamilyName of the couple."""
    existing = seed(sbx, realm, "Customer", {"DisplayName": "The Smiths", "GivenName":
                                             "John & Jane", "FamilyName": "Smith"})
    client = make_client(firm, kind="joint", first_name="Jane", last_name="Smith",
                         spouse_first_name="John")
    assert push(db, firm) == {"linked": 1}
    assert client.qbo_customer_id == existing["Id"]


def test_lookups_are_a_few_in_queries_per_batch(db, sbx, realm, firm, make_client):
    for n in range(30):
        make_client(firm, kind="joint", first_name="Al", last_name=f"Couple{n:02d}",
                    spouse_first_name="Bea")
    sbx.reset_counters()
    push(db, firm)
    assert requests(sbx)["GET query"] <= 6
    assert requests(sbx)["POST batch"] == 1


def test_several_matches_go_to_the_review_list(db, sbx, realm, firm, make_client):
    first = seed(sbx, realm, "Customer", {"DisplayName": "John & Jane Smith"})
    second = seed(sbx, realm, "Customer", {"DisplayName": "Smith, Jane and John"})
    client = make_client(firm, kind="joint", first_name="John", last_name="Smith",
                         spouse_first_name="Jane")

    assert push(db, firm) == {"review": 1}

    assert not client.is_linked
    reviews = db.session.execute(db.select(ClientReview).order_by(ClientReview.id)).scalars()
    rows = list(reviews)
    assert {r.qbo_customer_id for r in rows} == {first["Id"], second["Id"]}
    assert all(r.status == "pending" and r.candidate_client_ids == [client.id] for r in rows)
    [event] = events_of(db, client)
    assert event.result == "held" and "review list" in event.message
    assert len(sbx.entities(realm, "Customer")) == 2
    sbx.reset_counters()
    assert push(db, firm) == {}  # held until someone decides: no calls, no new rows
    assert sum(requests(sbx).values()) == 0


# -- 6240 vendor / employee clashes ---------------------
@pytest.mark.parametrize(("entity", "body", "name", "what"), [
    ("Vendor", {"DisplayName": "Acme Supplies"}, "Acme Supplies", "vendor"),
    ("Employee", {"GivenName": "Emily", "FamilyName": "Platt"}, "Emily Platt", "employee"),
])
def test_a_name_clash_with_a_vendor_or_employee_is_held_with_the_fix(
        db, sbx, realm, firm, make_client, entity, body, name, what):
    seed(sbx, realm, entity, body)
    if entity == "Vendor":
        client = make_client(firm, kind="business", company_name=name)
    else:
        client = make_client(firm, first_name="Emily", last_name="Platt")

    assert push(db, firm) == {"name_clash": 1}

    assert not client.is_linked and customers_named(sbx, realm, name) == []
    [event] = events_of(db, client)
    assert event.result == "held"
    assert f"QuickBooks already has a {what} named \"{name}\"" in event.message
    assert f"rename the client or the {what}" in event.message
    hold = db.session.execute(db.select(SyncHold)).scalar_one()
    assert (hold.entity_id, hold.version) == (client.id, client.version)

    sbx.reset_counters()
    assert push(db, firm) == {}  # not retried every hour
    assert sum(requests(sbx).values()) == 0

    if entity == "Vendor":
        edit(db, client, company_name="Acme Supplies (client)")
    else:
        edit(db, client, first_name="Emily J.")
    assert push(db, firm) == {"created": 1}
    assert client.is_linked
    assert db.session.execute(db.select(SyncHold)).scalar_one_or_none() is None


# -- 5010 stale SyncToken ---------------------
def test_a_stale_sync_token_is_reread_and_the_update_retried(db, sbx, realm, firm, make_client):
    ann, bob = (make_client(firm, first_name=n, last_name="Stale") for n in ("Ann", "Bob"))
    push(db, firm)
    with QboClient(firm.id) as qbo:  # someone edits Ann in QuickBooks meanwhile
        qbo.update("Customer", {"Id": ann.qbo_customer_id, "SyncToken": ann.qbo_sync_token,
                                "Notes": "edited in QBO"}, request_id=uuid.uuid4().hex)
    edit(db, ann, email="ann@stale.example")
    edit(db, bob, email="bob@stale.example")
    sbx.reset_counters()

    assert push(db, firm) == {"updated": 2}

    [customer] = customers_named(sbx, realm, "Ann Stale")
    assert customer["PrimaryEmailAddr"]["Address"] == "ann@stale.example"
    assert customer["Notes"] == "edited in QBO"  # sparse: QBO's own change survives
    assert ann.qbo_sync_token == customer["SyncToken"] == "2"
    calls = requests(sbx)
    assert calls["POST batch"] == 1 and calls["POST customer"] == 1
    assert calls.get("GET customer/{id}") == 1


# -- names QBO refuses ---------------------
def test_forbidden_characters_and_long_names_are_cleaned(db, sbx, realm, firm, make_client):
    colon = make_client(firm, kind="business", company_name="Acme: Holdings\tInc")
    newline = make_client(firm, first_name="Ann\nMarie", last_name="Lee")
    # The longest name the portal can hold (the column is 200) goes through whole; the cut at
    # QBO's 500 is pinned by test_client_mapping (no portal name can reach it).
    long = make_client(firm, kind="business", company_name="Long " + "x" * 195)

    assert push(db, firm) == {"created": 3}

    names = {c["Id"]: c["DisplayName"] for c in sbx.entities(realm, "Customer")}
    assert names[colon.qbo_customer_id] == "Acme - Holdings Inc"
    assert names[newline.qbo_customer_id] == "Ann Marie Lee"
    assert names[long.qbo_customer_id] == "Long " + "x" * 195
    assert colon.display_name == "Acme: Holdings Inc"  # the portal keeps its own name


# -- exactly once ---------------------
def test_commit_then_drop_on_a_create_leaves_exactly_one_customer(db, sbx, realm, firm,
                                                                 make_client):
    client = make_client(firm, first_name="Drop", last_name="Once")
    sbx.inject_fault("commit_then_drop", count=1, path="/customer", method="POST")

    assert push(db, firm) == {"created": 1}

    [customer] = customers_named(sbx, realm, "Drop Once")
    assert client.qbo_customer_id == customer["Id"]
    assert sbx.counters()["faults_injected"]["commit_then_drop"] == 1


def test_a_crash_after_qbo_answered_links_on_the_next_run(app, db, sbx, realm, firm,
                                                         make_client):
    """The create reached QBO but the worker never saw the answer (every retry dropped too):
    the run fails; the next run looks the name up first and links instead of creating."""
    clients = [make_client(firm, first_name="Lost", last_name=f"Answer{n}") for n in range(3)]
    app.config["QBO_MAX_ATTEMPTS"] = 1
    sbx.inject_fault("commit_then_drop", count=1, path="/batch", method="POST")
    with pytest.raises(TransportError):
        push(db, firm)
    db.session.rollback()
    db.session.expire_all()
    assert not any(c.is_linked for c in clients)
    assert len(sbx.entities(realm, "Customer")) == 3  # QBO did create them

    app.config["QBO_MAX_ATTEMPTS"] = 4
    assert push(db, firm) == {"linked": 3}

    for client in clients:
        [customer] = customers_named(sbx, realm, client.display_name)
        assert client.qbo_customer_id == customer["Id"]
    assert len(sbx.entities(realm, "Customer")) == 3


@pytest.mark.parametrize("kind", ["503", "500", "429"])
def test_bursts_of_5xx_and_429_do_not_stop_the_run(db, sbx, realm, firm, make_client, kind):
    clients = [make_client(firm, first_name="Burst", last_name=f"N{n:02d}") for n in range(35)]
    sbx.inject_fault(kind, count=3, path="/v3/company/")

    assert push(db, firm) == {"created": 35}

    assert all(c.is_linked for c in clients)
    assert len(sbx.entities(realm, "Customer")) == 35
    assert sbx.counters()["faults_injected"][kind] == 3
