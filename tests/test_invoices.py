"""Invoices: list, detail, create/edit with lines, numbering, status changes, read-only rule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portal.invoices.numbering import suggest_next
from portal.models import BillableCategory, BillableType, Invoice, InvoiceLine, line_amount
from tests.conftest import user_of

PROCESSED = "This invoice was processed in QuickBooks and can no longer be changed."


def category_of(firm) -> BillableCategory:
    from portal.extensions import db

    return db.session.execute(
        db.select(BillableCategory).where(BillableCategory.firm_id == firm.id)
    ).scalars().first()


def type_of(firm) -> BillableType:
    from portal.extensions import db

    return db.session.execute(
        db.select(BillableType).where(BillableType.firm_id == firm.id)
    ).scalars().first()


@pytest.fixture
def make_invoice(db):
    def make(firm, client, number="1001", status="draft", lines=(("Advice", "2", "100"),),
             **fields) -> Invoice:
        invoice = Invoice(firm_id=firm.id, client_id=client.id, number=number,
                          issue_date=fields.pop("issue_date", date(2024, 3, 1)),
                          due_date=fields.pop("due_date", date(2024, 3, 31)), status=status,
                          **fields)
        for pos, (desc, qty, rate) in enumerate(lines):
            invoice.lines.append(InvoiceLine(position=pos, description=desc,
                                             quantity=Decimal(qty), rate=Decimal(rate)))
        invoice.recompute_total()
        db.session.add(invoice)
        db.session.commit()
        return invoice

    return make


def form_data(client, number="1001", action="draft", lines=None, **overrides) -> dict:
    data = {
        "client_id": str(client.id),
        "number": number,
        "issue_date": "2024-05-01",
        "due_date": "2024-05-31",
        "memo": "",
        "action": action,
    }
    for i, row in enumerate(lines if lines is not None else [("Tax return", "1", "250")]):
        desc, qty, rate, *billable = row
        data[f"lines-{i}-description"] = desc
        data[f"lines-{i}-quantity"] = qty
        data[f"lines-{i}-rate"] = rate
        data[f"lines-{i}-billable"] = billable[0] if billable else ""
    data.update(overrides)
    return data


def only_invoice(db) -> Invoice:
    db.session.expire_all()
    return db.session.execute(db.select(Invoice)).scalar_one()


# --- amounts and numbering (pure) ---------------------------------------------------------

@pytest.mark.parametrize(
    ("qty", "rate", "amount"),
    [("1.5", "33.33", "50.00"), ("1", "0.005", "0.01"), ("0.25", "10.01", "2.50"),
     ("3", "0", "0.00"), ("2.5", "120", "300.00"), ("0.33", "0.5", "0.17")],
)
def test_line_amount_rounds_half_up_to_cents(qty, rate, amount):
    assert line_amount(Decimal(qty), Decimal(rate)) == Decimal(amount)


@pytest.mark.parametrize(
    ("existing", "expected"),
    [([], "1001"), (["1001", "1002"], "1003"), (["INV-0099", "INV-0007"], "INV-0100"),
     (["ABC", "7"], "8"), (["2024-9", "2024-10"], "2024-11"), (["1001", "1002", "X-5"], "1003"),
     (["9" * 21], "1001")],
)
def test_suggest_next_number(existing, expected):
    assert suggest_next(existing) == expected


# --- list ----------------------------------------------------------------------------------

def test_list_filters_by_status_client_and_number(browser, admin, firm, make_client, make_invoice):
    alice = make_client(firm, first_name="Alice", last_name="Ames")
    bob = make_client(firm, first_name="Bob", last_name="Burns")
    make_invoice(firm, alice, "1001", status="draft")
    make_invoice(firm, bob, "1002", status="processed_externally", qbo_invoice_id="77",
                 qbo_doc_number="1002")
    make_invoice(firm, bob, "2050", status="void")
    browser.login(admin)

    page = browser.get("/invoices/").get_data(as_text=True)
    assert all(n in page for n in ("1001", "1002", "2050"))
    assert "Processed Externally" in page and "#77" in page
    assert "600.00" in page  # page total of three 200.00 invoices

    page = browser.get("/invoices/?status=processed_externally").get_data(as_text=True)
    assert ">1002<" in page and ">1001<" not in page and ">2050<" not in page

    page = browser.get(f"/invoices/?client_id={alice.id}").get_data(as_text=True)
    assert ">1001<" in page and ">1002<" not in page

    page = browser.get("/invoices/?q=205").get_data(as_text=True)
    assert ">2050<" in page and ">1001<" not in page


def test_list_empty_state_and_no_match(browser, admin):
    browser.login(admin)
    assert "No invoices yet" in browser.get("/invoices/").get_data(as_text=True)
    assert "No invoices match" in browser.get("/invoices/?q=zzz").get_data(as_text=True)


def test_list_is_paginated(app, browser, admin, firm, make_client, make_invoice):
    app.config["PAGE_SIZE"] = 2
    client = make_client(firm)
    for n in range(5):
        make_invoice(firm, client, f"{1001 + n}", issue_date=date(2024, 1, 1 + n))
    browser.login(admin)
    first = browser.get("/invoices/").get_data(as_text=True)
    assert "Page 1 of 3" in first and ">1005<" in first and ">1001<" not in first
    last = browser.get("/invoices/?page=3").get_data(as_text=True)
    assert ">1001<" in last and ">1005<" not in last


# --- create / edit -------------------------------------------------------------------------

def test_new_form_suggests_next_number_and_shows_blank_rows(browser, admin, firm, make_client,
                                                            make_invoice):
    make_invoice(firm, make_client(firm), "INV-0041")
    browser.login(admin)
    page = browser.get("/invoices/new").get_data(as_text=True)
    assert 'value="INV-0042"' in page
    assert 'name="lines-4-description"' in page  # five blank rows without JS
    assert 'name="lines-5-description"' not in page
    assert 'name="lines-__index__-quantity"' in page  # the row template the JS copies
    assert 'optgroup label="Categories"' in page and 'optgroup label="Types"' in page


def test_create_invoice_with_lines(browser, admin, firm, make_client, db):
    client = make_client(firm)
    cat, typ = category_of(firm), type_of(firm)
    browser.login(admin)
    response = browser.post("/invoices/new", form_data(client, "1001", action="new", lines=[
        ("Individual return", "1.5", "33.33", f"cat:{cat.id}"),
        ("", "", "", ""),  # blank row ignored
        ("Planning", "2", "100", f"type:{typ.id}"),
    ]))
    assert response.status_code == 302
    invoice = only_invoice(db)
    assert invoice.status == "new" and invoice.number == "1001"
    assert [(ln.description, ln.amount) for ln in invoice.lines] == [
        ("Individual return", Decimal("50.00")), ("Planning", Decimal("200.00"))]
    assert invoice.lines[0].category_id == cat.id and invoice.lines[1].type_id == typ.id
    assert invoice.total == Decimal("250.00")
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "Invoice 1001" in page and "250.00" in page and "TAX-IND" in page


@pytest.mark.parametrize(
    ("lines", "overrides", "message"),
    [
        ([("Work", "0.333", "10")], {}, "Use at most 2 decimal places for the quantity."),
        ([("Work", "1", "10.005")], {}, "Use at most 2 decimal places for the rate."),
        ([("Work", "-1", "10")], {}, "The quantity cannot be negative."),
        ([("Work", "abc", "10")], {}, "Enter a number, e.g. 1.50."),
        ([("Work", "NaN", "10")], {}, "Enter a number, e.g. 1.50."),
        ([("", "1", "10")], {}, "Enter a description."),
        ([("Work", "", "10")], {}, "Enter a quantity."),
        ([("", "", "")], {}, "Add at least one line with a description."),
        ([("Work", "1", "10", "cat:999999")], {}, "Choose a category or type from the list."),
        ([("Work", "1", "10", "bogus")], {}, "Choose a category or type from the list."),
        (None, {"number": ""}, "Enter an invoice number."),
        (None, {"number": "X" * 22}, "Use at most 21 characters"),
        (None, {"number": "10 01!"}, "Use letters, digits"),
        (None, {"due_date": "2024-04-01"}, "The due date cannot be before the issue date."),
        (None, {"issue_date": "2024-13-45"}, "Not a valid date value."),
        (None, {"client_id": ""}, "Choose a client."),
        (None, {"client_id": "999999"}, "Choose one of your firm&#39;s clients."),
    ],
)
def test_create_validation_messages(browser, admin, firm, make_client, db, lines, overrides,
                                    message):
    client = make_client(firm)
    browser.login(admin)
    response = browser.post("/invoices/new", form_data(client, lines=lines, **overrides))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.execute(db.select(Invoice)).first() is None


def test_category_of_another_firm_is_refused(browser, admin, firm, make_firm, make_client, db):
    other_cat = category_of(make_firm("Other"))
    browser.login(admin)
    response = browser.post("/invoices/new", form_data(
        make_client(firm), lines=[("Work", "1", "10", f"cat:{other_cat.id}")]))
    assert response.status_code == 422
    assert db.session.execute(db.select(Invoice)).first() is None


def test_number_unique_per_firm_but_reusable_in_another(browser, admin, firm, make_firm,
                                                        make_client, make_invoice, db):
    make_invoice(firm, make_client(firm), "1001")
    other = make_firm("Other")
    browser.login(admin)
    response = browser.post("/invoices/new", form_data(make_client(firm), "1001"))
    assert response.status_code == 422
    assert "Invoice number 1001 is already used in your firm." in response.get_data(as_text=True)

    browser.logout()
    browser.login(user_of(other, "admin"))
    response = browser.post("/invoices/new", form_data(make_client(other), "1001"))
    assert response.status_code == 302
    assert db.session.execute(
        db.select(db.func.count()).select_from(Invoice).where(Invoice.number == "1001")
    ).scalar_one() == 2


def test_edit_replaces_lines_and_keeps_own_number(browser, admin, firm, make_client,
                                                  make_invoice, db):
    client = make_client(firm)
    invoice = make_invoice(firm, client, "1001", lines=[("Old", "1", "10"), ("Older", "1", "5")])
    browser.login(admin)
    page = browser.get(f"/invoices/{invoice.id}/edit").get_data(as_text=True)
    assert 'value="Old"' in page and 'value="Older"' in page
    response = browser.post(f"/invoices/{invoice.id}/edit",
                            form_data(client, "1001", lines=[("New work", "3", "20")],
                                      memo="Thanks"))
    assert response.status_code == 302
    invoice = only_invoice(db)
    assert [ln.description for ln in invoice.lines] == ["New work"]
    assert invoice.total == Decimal("60.00") and invoice.memo == "Thanks"
    assert db.session.execute(db.select(db.func.count()).select_from(InvoiceLine)).scalar_one() == 1


def test_add_line_on_detail_page(browser, admin, firm, make_client, make_invoice, db):
    invoice = make_invoice(firm, make_client(firm))
    browser.login(admin)
    response = browser.post(f"/invoices/{invoice.id}/lines",
                            {"description": "Extra", "quantity": "1", "rate": "50"})
    assert response.status_code == 302
    assert only_invoice(db).total == Decimal("250.00")
    response = browser.post(f"/invoices/{invoice.id}/lines",
                            {"description": "", "quantity": "1", "rate": "0.001"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Enter a description." in body and "Use at most 2 decimal places for the rate." in body


# --- statuses --------------------------------------------------------------------------------

def test_status_transitions(browser, admin, firm, make_client, make_invoice, db):
    invoice = make_invoice(firm, make_client(firm))
    browser.login(admin)
    page = browser.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    assert "Mark as New (ready for QuickBooks)" in page and "Delete" in page

    browser.post(f"/invoices/{invoice.id}/status", {"to": "new"})
    assert only_invoice(db).status == "new"
    page = browser.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    assert "Back to draft" in page and "Void" in page

    browser.post(f"/invoices/{invoice.id}/status", {"to": "draft"})
    assert only_invoice(db).status == "draft"

    response = browser.post(f"/invoices/{invoice.id}/status", {"to": "void"})
    assert response.status_code == 302 and only_invoice(db).status == "draft"  # not from draft

    browser.post(f"/invoices/{invoice.id}/status", {"to": "new"})
    browser.post(f"/invoices/{invoice.id}/delete")  # only drafts are deleted
    assert only_invoice(db).status == "new"
    browser.post(f"/invoices/{invoice.id}/status", {"to": "void"})
    assert only_invoice(db).status == "void"
    page = browser.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    assert "This invoice is void" in page and "/edit" not in page


def test_delete_draft(browser, admin, firm, make_client, make_invoice, db):
    invoice = make_invoice(firm, make_client(firm))
    browser.login(admin)
    response = browser.post(f"/invoices/{invoice.id}/delete", follow_redirects=True)
    assert "Draft invoice 1001 deleted." in response.get_data(as_text=True)
    assert db.session.execute(db.select(Invoice)).first() is None
    assert db.session.execute(db.select(InvoiceLine)).first() is None


# --- read-only rule (I3) -----------------------------------------------------------------------

@pytest.fixture
def processed(firm, make_client, make_invoice, db):
    invoice = make_invoice(firm, make_client(firm), "1001", status="new")
    invoice.status = "processed_externally"  # as the sync would, directly in the DB
    invoice.qbo_invoice_id = "145"
    invoice.qbo_doc_number = "1001"
    db.session.commit()
    return invoice


def _snapshot(db, invoice_id):
    db.session.expire_all()
    inv = db.session.get(Invoice, invoice_id)
    return (inv.status, inv.number, inv.total, inv.memo,
            [(ln.description, ln.quantity, ln.rate) for ln in inv.lines])


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("edit", "FORM"),
        ("delete", {}),
        ("status", {"to": "draft"}),
        ("status", {"to": "void"}),
        ("lines", {"description": "Sneaky", "quantity": "1", "rate": "1"}),
    ],
)
def test_processed_invoice_refuses_changes(browser, admin, processed, db, path, data):
    before = _snapshot(db, processed.id)
    browser.login(admin)
    if data == "FORM":
        data = form_data(processed.client, "1001", lines=[("Changed", "9", "9")], memo="x")
    response = browser.post(f"/invoices/{processed.id}/{path}", data)
    assert response.status_code == 409
    assert PROCESSED in response.get_data(as_text=True)
    assert _snapshot(db, processed.id) == before


def test_processed_invoice_edit_page_is_409_and_detail_has_no_controls(browser, admin,
                                                                       processed):
    browser.login(admin)
    assert browser.get(f"/invoices/{processed.id}/edit").status_code == 409
    page = browser.get(f"/invoices/{processed.id}").get_data(as_text=True)
    assert "Processed in QuickBooks: payments are managed there." in page
    assert "QuickBooks invoice Id 145" in page
    for control in ("/edit", "/delete", "/status", "/lines", "Mark as New"):
        assert control not in page


def test_void_invoice_refuses_edits(browser, admin, firm, make_client, make_invoice, db):
    invoice = make_invoice(firm, make_client(firm), status="void")
    browser.login(admin)
    assert browser.get(f"/invoices/{invoice.id}/edit").status_code == 409
    response = browser.post(f"/invoices/{invoice.id}/edit", form_data(invoice.client, "1001"))
    assert response.status_code == 409
    assert browser.post(f"/invoices/{invoice.id}/delete").status_code == 409
    assert only_invoice(db).status == "void"


def test_sync_message_shown(browser, admin, firm, make_client, make_invoice):
    invoice = make_invoice(firm, make_client(firm), status="new",
                           sync_message="Held: code TAX-IND has no QuickBooks item.")
    browser.login(admin)
    page = browser.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    assert "Held: code TAX-IND has no QuickBooks item." in page


# --- isolation and roles -----------------------------------------------------------------------

def test_other_firm_gets_404(browser, firm, make_firm, make_client, make_invoice, db):
    invoice = make_invoice(firm, make_client(firm))
    browser.login(user_of(make_firm("Other"), "admin"))
    assert browser.get(f"/invoices/{invoice.id}").status_code == 404
    assert browser.get(f"/invoices/{invoice.id}/edit").status_code == 404
    assert browser.post(f"/invoices/{invoice.id}/delete").status_code == 404
    assert browser.post(f"/invoices/{invoice.id}/status", {"to": "new"}).status_code == 404
    assert ">1001<" not in browser.get("/invoices/").get_data(as_text=True)
    assert only_invoice(db).status == "draft"


def test_staff_can_view_but_not_change(browser, staff, firm, make_client, make_invoice, db):
    invoice = make_invoice(firm, make_client(firm))
    browser.login(staff)
    page = browser.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    assert page.count("Invoice 1001") and "Mark as New" not in page
    assert browser.get("/invoices/new").status_code == 403
    assert browser.post(f"/invoices/{invoice.id}/delete").status_code == 403
    assert browser.post(f"/invoices/{invoice.id}/status", {"to": "new"}).status_code == 403
    assert only_invoice(db).status == "draft"


def test_post_without_csrf_is_refused(browser, admin, firm, make_client, make_invoice, db):
    invoice = make_invoice(firm, make_client(firm))
    browser.login(admin)
    assert browser.post(f"/invoices/{invoice.id}/delete", csrf=False).status_code == 400
    assert only_invoice(db).id == invoice.id
