"""Invoice push against the QBO sandbox over real HTTP: roll-up by category and by type, omitted
lines, holds (unknown, inactive, Category item), exact amounts (never 6070), DocNumber clash
(6140) reported once, client pushed first or held, batch when many, zero calls when nothing is
due. Helpers here are shared by tests/test_invoice_sync_*.py."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from portal.extensions import db as _db
from portal.models import (
    BillableCategory,
    BillableType,
    Invoice,
    InvoiceLine,
    SyncEvent,
    SyncHold,
    SyncRun,
)
from portal.qbo.sync.invoices import push_invoices
from qbo_sandbox import service as sandbox_service
from tests.qbo_support import (  # noqa: F401 - fixtures
    _connected,
    _sandbox_server,
    _sbx,
    connect_firm,
)


# -- helpers shared by the invoice sync tests ----------------------------------------------------
def seed(sbx, realm_id: str, entity: str, body: dict[str, Any]) -> dict[str, Any]:
    """Create a record in the sandbox directly (as someone working in QuickBooks would)."""
    return sandbox_service.write(sbx.sandbox, realm_id, entity, dict(body), None)[entity]


def seed_item(sbx, realm_id: str, name: str, kind: str = "Service", active: bool = True
              ) -> dict[str, Any]:
    body: dict[str, Any] = {"Name": name, "Type": kind}
    if kind != "Category":
        body.update(UnitPrice=100, IncomeAccountRef={"value": "1"})
    item = seed(sbx, realm_id, "Item", body)
    if not active:
        item = sandbox_service.write(sbx.sandbox, realm_id, "Item", {
            "Id": item["Id"], "SyncToken": item["SyncToken"], "sparse": True, "Active": False,
        }, None)["Item"]
    return item


@pytest.fixture(name="realm")
def _realm(sbx, firm) -> str:
    """The firm connected to the sandbox's empty company, with items TAX and TAX-IND."""
    connect_firm(firm, sbx, sbx.REALM_2)
    seed_item(sbx, sbx.REALM_2, "TAX")
    seed_item(sbx, sbx.REALM_2, "TAX-IND")
    return sbx.REALM_2


def category_of(firm) -> BillableCategory:
    return _db.session.execute(
        _db.select(BillableCategory).where(BillableCategory.firm_id == firm.id)
    ).scalars().first()


def type_of(firm) -> BillableType:
    return _db.session.execute(
        _db.select(BillableType).where(BillableType.firm_id == firm.id)
    ).scalars().first()


def make_invoice(firm, client, number: str, lines=(("Tax return", "2", "150"),),
                 status: str = "new", billed=None) -> Invoice:
    """A NEW invoice whose lines are billed under the firm's category (or ``billed``: a
    category, a type, or None per line)."""
    category = category_of(firm)
    invoice = Invoice(firm_id=firm.id, client_id=client.id, number=number,
                      issue_date=date(2024, 5, 1), due_date=date(2024, 5, 31), status=status)
    for pos, spec in enumerate(lines):
        desc, qty, rate = spec[:3]
        target = spec[3] if len(spec) > 3 else (billed if billed is not None else category)
        line = InvoiceLine(position=pos, description=desc, quantity=Decimal(qty),
                           rate=Decimal(rate))
        if isinstance(target, BillableCategory):
            line.category_id = target.id
        elif isinstance(target, BillableType):
            line.type_id = target.id
        invoice.lines.append(line)
    invoice.recompute_total()
    _db.session.add(invoice)
    _db.session.commit()
    return invoice


def linked_client(sbx, realm_id: str, firm, make_client, name: str = "Linked"):
    """A client already linked to a sandbox customer (no client push involved)."""
    customer = seed(sbx, realm_id, "Customer", {"DisplayName": f"{name} Client"})
    client = make_client(firm, first_name=name, last_name="Client")
    client.qbo_customer_id = customer["Id"]
    client.qbo_sync_token = customer["SyncToken"]
    client.qbo_pushed_version = client.version
    _db.session.commit()
    return client


def new_run(firm, kind: str = "invoices") -> SyncRun:
    run = SyncRun(firm_id=firm.id, kind=kind, trigger="button", status="running", counts={})
    _db.session.add(run)
    _db.session.commit()
    return run


def push(firm, **kwargs) -> dict[str, int]:
    counts = push_invoices(firm.id, new_run(firm), **kwargs)
    _db.session.commit()
    _db.session.expire_all()
    return counts


def qbo_invoices(sbx, realm_id: str, number: str) -> list[dict[str, Any]]:
    return [i for i in sbx.entities(realm_id, "Invoice") if i.get("DocNumber") == number]


def events_of(invoice: Invoice) -> list[SyncEvent]:
    return list(_db.session.execute(_db.select(SyncEvent).where(
        SyncEvent.entity == "invoice", SyncEvent.entity_id == invoice.id).order_by(SyncEvent.id)
    ).scalars())


def requests(sbx) -> dict[str, int]:
    return dict(sbx.counters()["requests"])


def sales_lines(qbo_invoice: dict[str, Any]) -> list[dict[str, Any]]:
    return [ln for ln in qbo_invoice["Line"] if ln["DetailType"] == "SalesItemLineDetail"]


def item_id(sbx, realm_id: str, name: str) -> str:
    return next(i["Id"] for i in sbx.entities(realm_id, "Item") if i["Name"] == name)


# -- roll-up and lines ---------------------------------------------------------------------------
def test_rollup_by_category_pushes_with_the_category_item(sbx, realm, firm, make_client):
    client = linked_client(sbx, realm, firm, make_client)
    invoice = make_invoice(firm, client, "2001", lines=[("Tax return", "2", "150"),
                                                        ("Review", "1.5", "100")])
    sbx.reset_counters()

    assert push(firm) == {"pushed": 1}

    [qbo] = qbo_invoices(sbx, realm, "2001")
    assert invoice.status == "processed_externally"
    assert invoice.qbo_invoice_id == qbo["Id"] and invoice.qbo_doc_number == "2001"
    assert invoice.pushed_at is not None and invoice.sync_message is None
    assert qbo["CustomerRef"]["value"] == client.qbo_customer_id
    assert [ln["SalesItemLineDetail"]["ItemRef"]["value"] for ln in sales_lines(qbo)] == \
        [item_id(sbx, realm, "TAX-IND")] * 2
    assert Decimal(str(qbo["TotalAmt"])) == invoice.total == Decimal("450.00")
    assert [e.action for e in events_of(invoice)] == ["pushed"]
    calls = requests(sbx)
    assert calls["POST invoice"] == 1 and "POST batch" not in calls
    assert calls["GET query"] == 2  # one Item query for all codes + one DocNumber look-up


def test_rollup_by_type_uses_the_type_item(sbx, realm, firm, make_client):
    firm.invoice_rollup = "type"
    _db.session.commit()
    client = linked_client(sbx, realm, firm, make_client)
    make_invoice(firm, client, "2002")

    assert push(firm) == {"pushed": 1}

    [qbo] = qbo_invoices(sbx, realm, "2002")
    assert sales_lines(qbo)[0]["SalesItemLineDetail"]["ItemRef"]["value"] == \
        item_id(sbx, realm, "TAX")


def test_line_billed_under_a_type_uses_its_code(sbx, realm, firm, make_client):
    client = linked_client(sbx, realm, firm, make_client)
    make_invoice(firm, client, "2003", billed=type_of(firm))

    push(firm)

    [qbo] = qbo_invoices(sbx, realm, "2003")
    assert sales_lines(qbo)[0]["SalesItemLineDetail"]["ItemRef"]["value"] == \
        item_id(sbx, realm, "TAX")


def test_line_without_category_is_omitted_and_recorded(sbx, realm, firm, make_client):
    client = linked_client(sbx, realm, firm, make_client)
    invoice = make_invoice(firm, client, "2004", lines=[
        ("Tax return", "1", "300"), ("Courier fee", "1", "25", None)])

    counts = push(firm)

    assert counts == {"pushed": 1, "line_omitted": 1}
    [qbo] = qbo_invoices(sbx, realm, "2004")
    assert len(sales_lines(qbo)) == 1
    assert Decimal(str(qbo["TotalAmt"])) == Decimal("300.00")  # the lines sent
    assert invoice.status == "processed_externally"
    assert '"Courier fee"' in invoice.sync_message and "left out" in invoice.sync_message
    omitted = [e for e in events_of(invoice) if e.action == "line_omitted"]
    assert omitted and "Courier fee" in omitted[0].message


# -- holds ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("setup", "words"), [
    ("missing", ['QuickBooks has no Product/Service named "TAX-BOOK"']),
    ("inactive", ['the QuickBooks Product/Service "TAX-BOOK" is inactive', "make it active"]),
    ("category", ['"TAX-BOOK" is a Category in QuickBooks, not a Product/Service']),
])
def test_unusable_code_holds_the_whole_invoice(sbx, realm, firm, make_client, setup, words):
    book = BillableCategory(firm_id=firm.id, type_id=type_of(firm).id, name="Bookkeeping",
                            code="TAX-BOOK")
    _db.session.add(book)
    _db.session.commit()
    if setup == "inactive":
        seed_item(sbx, realm, "TAX-BOOK", active=False)
    elif setup == "category":
        seed_item(sbx, realm, "TAX-BOOK", kind="Category")
    client = linked_client(sbx, realm, firm, make_client)
    invoice = make_invoice(firm, client, "2010", lines=[
        ("Tax return", "1", "300"), ("Books", "2", "90", book)])
    sbx.reset_counters()

    assert push(firm) == {"held": 1}

    assert invoice.status == "new" and invoice.qbo_invoice_id is None
    assert qbo_invoices(sbx, realm, "2010") == []
    assert "POST invoice" not in requests(sbx) and "POST batch" not in requests(sbx)
    assert 'The category "Bookkeeping" uses code TAX-BOOK' in invoice.sync_message
    assert "Fix:" in invoice.sync_message
    for word in words:
        assert word in invoice.sync_message
    [event] = events_of(invoice)
    assert (event.action, event.result) == ("held", "held")
    assert "TAX-BOOK" in event.message and "Bookkeeping" in event.message

    # The next hourly run checks again but does not repeat the same event.
    assert push(firm) == {"held": 1}
    assert len(events_of(invoice)) == 1


def test_held_invoice_goes_once_the_item_exists(sbx, realm, firm, make_client):
    book = BillableCategory(firm_id=firm.id, type_id=type_of(firm).id, name="Bookkeeping",
                            code="BOOKS")
    _db.session.add(book)
    _db.session.commit()
    client = linked_client(sbx, realm, firm, make_client)
    invoice = make_invoice(firm, client, "2011", billed=book)
    assert push(firm) == {"held": 1}

    seed_item(sbx, realm, "BOOKS")  # the admin creates the Product/Service in QuickBooks

    assert push(firm) == {"pushed": 1}
    assert invoice.status == "processed_externally" and invoice.sync_message is None
    assert len(qbo_invoices(sbx, realm, "2011")) == 1


# -- amounts -------------------------------------------------------------------------------------
def test_awkward_quantities_match_qbo_total_to_the_cent(sbx, realm, firm, make_client):
    client = linked_client(sbx, realm, firm, make_client)
    lines = [("A", "0.25", "133.33"), ("B", "0.33", "150.00"), ("C", "0.33", "133.33"),
             ("D", "1.13", "99.99"), ("E", "7.77", "0.05"), ("F", "0.01", "0.50")]
    invoice = make_invoice(firm, client, "2020", lines=lines)

    assert push(firm) == {"pushed": 1}  # no 6070

    [qbo] = qbo_invoices(sbx, realm, "2020")
    assert Decimal(str(qbo["TotalAmt"])).quantize(Decimal("0.01")) == invoice.total
    for sent, line in zip(sales_lines(qbo), invoice.lines, strict=True):
        assert Decimal(str(sent["Amount"])).quantize(Decimal("0.01")) == line.amount


# -- DocNumber clash -----------------------------------------------------------------------------
def test_doc_number_clash_is_reported_not_retried(sbx, realm, firm, make_client):
    other = seed(sbx, realm, "Customer", {"DisplayName": "Someone Else"})
    seed(sbx, realm, "Invoice", {
        "CustomerRef": {"value": other["Id"]}, "DocNumber": "2030",
        "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 5,
                  "SalesItemLineDetail": {"ItemRef": {"value": item_id(sbx, realm, "TAX")}}}]})
    client = linked_client(sbx, realm, firm, make_client)
    invoice = make_invoice(firm, client, "2030")

    assert push(firm) == {"doc_number_clash": 1}

    assert invoice.status == "new"
    assert "QuickBooks already has invoice number 2030" in invoice.sync_message
    assert "customer Someone Else" in invoice.sync_message
    assert "change this invoice's number" in invoice.sync_message
    assert len(qbo_invoices(sbx, realm, "2030")) == 1  # theirs only
    hold = _db.session.execute(_db.select(SyncHold).where(SyncHold.entity == "invoice")).scalar()
    assert hold.entity_id == invoice.id

    # Not retried hourly (no calls at all) until the invoice changes...
    sbx.reset_counters()
    assert push(firm) == {}
    assert requests(sbx) == {}
    # ...then renumbered, it goes.
    invoice.number, invoice.version = "2031", invoice.version + 1
    _db.session.commit()
    assert push(firm) == {"pushed": 1}
    assert len(qbo_invoices(sbx, realm, "2031")) == 1


def test_6140_from_create_is_reported_not_retried(sbx, realm, firm, make_client, monkeypatch):
    from portal.qbo.sync import invoices as flow

    seed(sbx, realm, "Invoice", {
        "CustomerRef": {"value": seed(sbx, realm, "Customer", {"DisplayName": "X"})["Id"]},
        "DocNumber": "2032",
        "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 5,
                  "SalesItemLineDetail": {"ItemRef": {"value": item_id(sbx, realm, "TAX")}}}]})
    monkeypatch.setattr(flow, "find_existing", lambda qbo, numbers: {})  # look-up misses it
    client = linked_client(sbx, realm, firm, make_client)
    invoice = make_invoice(firm, client, "2032")
    sbx.reset_counters()

    assert push(firm) == {"doc_number_clash": 1}

    assert requests(sbx)["POST invoice"] == 1  # reported, not retried
    assert "already used" in invoice.sync_message and "6140" in invoice.sync_message
    assert invoice.status == "new"


# -- clients -------------------------------------------------------------------------------------
def test_unlinked_client_is_pushed_first(sbx, realm, firm, make_client):
    client = make_client(firm, first_name="Nora", last_name="Unlinked")
    invoice = make_invoice(firm, client, "2040")

    counts = push(firm)

    assert counts["pushed"] == 1
    [customer] = [c for c in sbx.entities(realm, "Customer")
                  if c["DisplayName"] == "Nora Unlinked"]
    assert client.qbo_customer_id == customer["Id"]
    [qbo] = qbo_invoices(sbx, realm, "2040")
    assert qbo["CustomerRef"]["value"] == customer["Id"]
    assert invoice.status == "processed_externally"


def test_client_that_cannot_be_pushed_holds_the_invoice(sbx, realm, firm, make_client):
    seed(sbx, realm, "Vendor", {"DisplayName": "Vic Vendor"})
    client = make_client(firm, first_name="Vic", last_name="Vendor")
    invoice = make_invoice(firm, client, "2041")

    counts = push(firm)

    assert counts == {"held": 1}
    assert invoice.status == "new" and qbo_invoices(sbx, realm, "2041") == []
    assert 'The client "Vic Vendor" is not linked to a QuickBooks customer' in \
        invoice.sync_message
    assert "vendor" in invoice.sync_message.lower()
    assert [e.action for e in events_of(invoice)] == ["held"]


# -- volume and quiet hours ----------------------------------------------------------------------
def test_many_invoices_go_in_batches_of_30(sbx, realm, firm, make_client):
    client = linked_client(sbx, realm, firm, make_client)
    invoices = [make_invoice(firm, client, f"3{n:03d}") for n in range(65)]
    sbx.reset_counters()

    assert push(firm) == {"pushed": 65}

    calls = requests(sbx)
    assert calls["POST batch"] == 3 and "POST invoice" not in calls
    assert calls["GET query"] == 1 + 3  # items once, DocNumber look-up per chunk
    assert sbx.counters()["entities_created"]["Invoice"] == 65
    assert all(inv.status == "processed_externally" for inv in invoices)
    assert len({inv.qbo_invoice_id for inv in invoices}) == 65


def test_nothing_due_costs_no_calls(sbx, realm, firm, make_client):
    client = linked_client(sbx, realm, firm, make_client)
    make_invoice(firm, client, "2050", status="draft")
    sbx.reset_counters()

    assert push(firm) == {}

    assert requests(sbx) == {}
