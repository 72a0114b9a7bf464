"""Invoice from time (T3): grouping by category/type and rate, locking, refusals, unlocking."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portal.invoices.from_time import FromTimeError, generate_invoice_from_time
from portal.models import BillableCategory, BillableType, Invoice, TimeEntry, User
from tests.conftest import PASSWORD, user_of


@pytest.fixture
def catalogue(db, firm):
    """Firm catalogue: type Tax (TAX) with two categories; type Advisory with one."""
    tax = db.session.execute(
        db.select(BillableType).where(BillableType.firm_id == firm.id)
    ).scalar_one()
    ind = db.session.execute(
        db.select(BillableCategory).where(BillableCategory.firm_id == firm.id)
    ).scalar_one()
    biz = BillableCategory(firm_id=firm.id, type_id=tax.id, name="Business tax return",
                           code="TAX-BIZ")
    advisory = BillableType(firm_id=firm.id, name="Advisory", code="ADV")
    db.session.add_all([biz, advisory])
    db.session.flush()
    plan = BillableCategory(firm_id=firm.id, type_id=advisory.id, name="Planning", code="ADV-PL")
    db.session.add(plan)
    db.session.commit()
    return {"tax": tax, "ind": ind, "biz": biz, "advisory": advisory, "plan": plan}


@pytest.fixture
def make_entry(db):
    def make(firm, user, client, hours, category=None, **fields) -> TimeEntry:
        fields.setdefault("status", "approved")
        entry = TimeEntry(firm_id=firm.id, user_id=user.id, client_id=client.id,
                          entry_date=fields.pop("entry_date", date(2024, 4, 2)),
                          hours=Decimal(hours), category_id=category.id if category else None,
                          **fields)
        db.session.add(entry)
        db.session.commit()
        return entry

    return make


@pytest.fixture
def staff2(db, firm):
    user = User(firm_id=firm.id, email="staff-two@firm.example", name="Second Staff",
                role="staff", hourly_rate=Decimal("80"))
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()
    return user


def lines_of(invoice):
    return [(ln.description, ln.quantity, ln.rate, ln.amount, ln.category_id, ln.type_id)
            for ln in invoice.lines]


def test_groups_by_category_and_rate(db, firm, staff, staff2, manager, catalogue, make_client,
                                     make_entry):
    client = make_client(firm)
    ind, biz = catalogue["ind"], catalogue["biz"]
    entries = [
        make_entry(firm, staff, client, "1.25", ind),   # 100/h
        make_entry(firm, staff, client, "2.25", ind),   # 100/h
        make_entry(firm, staff2, client, "1.5", ind),   # 80/h -> its own line
        make_entry(firm, manager, client, "0.5", biz),  # 150/h
    ]
    invoice = generate_invoice_from_time(firm.id, client.id, [e.id for e in entries])
    db.session.commit()
    assert invoice.status == "draft" and invoice.number == "1001"
    assert lines_of(invoice) == [
        ("Business tax return — 0.50 h", Decimal("0.50"), Decimal("150.00"),
         Decimal("75.00"), biz.id, None),
        ("Individual tax return — 3.50 h at 100.00/h", Decimal("3.50"), Decimal("100.00"),
         Decimal("350.00"), ind.id, None),
        ("Individual tax return — 1.50 h at 80.00/h", Decimal("1.50"), Decimal("80.00"),
         Decimal("120.00"), ind.id, None),
    ]
    assert invoice.total == Decimal("545.00")
    for line in invoice.lines:
        assert line.quantity * line.rate == line.amount


def test_groups_by_type_when_firm_rolls_up_by_type(db, firm, staff, catalogue, make_client,
                                                   make_entry):
    firm.invoice_rollup = "type"
    db.session.commit()
    client = make_client(firm)
    entries = [
        make_entry(firm, staff, client, "1", catalogue["ind"]),
        make_entry(firm, staff, client, "2", catalogue["biz"]),
        make_entry(firm, staff, client, "0.5", catalogue["plan"]),
    ]
    invoice = generate_invoice_from_time(firm.id, client.id, [e.id for e in entries])
    assert lines_of(invoice) == [
        ("Advisory — 0.50 h", Decimal("0.50"), Decimal("100.00"), Decimal("50.00"), None,
         catalogue["advisory"].id),
        ("Tax — 3.00 h", Decimal("3.00"), Decimal("100.00"), Decimal("300.00"), None,
         catalogue["tax"].id),
    ]


def test_uncategorized_time_makes_its_own_line(db, firm, staff, make_client, make_entry):
    client = make_client(firm)
    entry = make_entry(firm, staff, client, "1.5")
    invoice = generate_invoice_from_time(firm.id, client.id, [entry.id])
    assert lines_of(invoice) == [("Professional services — 1.50 h", Decimal("1.50"),
                                  Decimal("100.00"), Decimal("150.00"), None, None)]


def test_generation_locks_entries_through_the_page(browser, manager, firm, staff, catalogue,
                                                   make_client, make_entry, db):
    client = make_client(firm, first_name="Jane", last_name="Doe")
    one = make_entry(firm, staff, client, "2", catalogue["ind"], description="Prep")
    two = make_entry(firm, staff, client, "1", catalogue["ind"])
    left = make_entry(firm, staff, client, "4", catalogue["biz"])
    not_billable = make_entry(firm, staff, client, "3", catalogue["ind"], billable=False)
    submitted = make_entry(firm, staff, client, "3", catalogue["ind"], status="submitted")
    browser.login(manager)

    page = browser.get(f"/invoices/from-time?client_id={client.id}").get_data(as_text=True)
    for entry in (one, two, left):
        assert f'name="entry_ids" value="{entry.id}"' in page
    for entry in (not_billable, submitted):
        assert f'value="{entry.id}"' not in page

    response = browser.post("/invoices/from-time",
                            {"client_id": client.id, "entry_ids": [one.id, two.id]})
    assert response.status_code == 302
    db.session.expire_all()
    invoice = db.session.execute(db.select(Invoice)).scalar_one()
    assert invoice.status == "draft" and invoice.client_id == client.id
    assert lines_of(invoice) == [("Individual tax return — 3.00 h", Decimal("3.00"),
                                  Decimal("100.00"), Decimal("300.00"), catalogue["ind"].id,
                                  None)]
    for entry in (one, two):
        assert (entry.locked, entry.invoice_id, entry.status) == (True, invoice.id, "approved")
    for entry in (left, not_billable, submitted):
        assert (entry.locked, entry.invoice_id) == (False, None)
    detail = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "Time billed on this invoice" in detail and "Prep" in detail


def test_locked_entry_refused_and_nothing_created(db, firm, staff, catalogue, make_client,
                                                  make_entry, browser, manager):
    client = make_client(firm)
    free = make_entry(firm, staff, client, "1", catalogue["ind"])
    locked = make_entry(firm, staff, client, "1", catalogue["ind"], locked=True)
    with pytest.raises(FromTimeError):
        generate_invoice_from_time(firm.id, client.id, [free.id, locked.id])
    db.session.rollback()

    browser.login(manager)
    response = browser.post("/invoices/from-time",
                            {"client_id": client.id, "entry_ids": [free.id, locked.id]},
                            follow_redirects=True)
    assert "can no longer be invoiced" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.execute(db.select(Invoice)).first() is None
    assert free.locked is False and free.invoice_id is None


def test_entry_changed_after_page_was_shown_is_refused(db, firm, staff, catalogue, make_client,
                                                       make_entry, browser, manager):
    client = make_client(firm)
    entry = make_entry(firm, staff, client, "1", catalogue["ind"])
    browser.login(manager)
    assert f'value="{entry.id}"' in browser.get(
        f"/invoices/from-time?client_id={client.id}").get_data(as_text=True)
    # Meanwhile someone else invoices it.
    first = browser.post("/invoices/from-time", {"client_id": client.id, "entry_ids": [entry.id]})
    assert first.status_code == 302
    second = browser.post("/invoices/from-time", {"client_id": client.id,
                                                  "entry_ids": [entry.id]},
                          follow_redirects=True)
    assert "Nothing was created" in second.get_data(as_text=True)
    assert db.session.execute(db.select(db.func.count()).select_from(Invoice)).scalar_one() == 1


def test_foreign_entries_refused(db, firm, make_firm, staff, catalogue, make_client, make_entry):
    client = make_client(firm)
    other_client = make_client(firm)
    mine = make_entry(firm, staff, client, "1", catalogue["ind"])
    of_other_client = make_entry(firm, staff, other_client, "1", catalogue["ind"])
    other_firm = make_firm("Other")
    foreign_client = make_client(other_firm)
    foreign = make_entry(other_firm, user_of(other_firm, "staff"), foreign_client, "1")

    for ids in ([mine.id, of_other_client.id], [mine.id, foreign.id], []):
        with pytest.raises(FromTimeError):
            generate_invoice_from_time(firm.id, client.id, ids)
        db.session.rollback()
    with pytest.raises(FromTimeError):  # another firm's client
        generate_invoice_from_time(firm.id, foreign_client.id, [foreign.id])
    db.session.rollback()
    assert db.session.execute(db.select(Invoice)).first() is None
    db.session.expire_all()
    assert not any(e.locked for e in (mine, of_other_client, foreign))


def test_other_firm_client_page_is_404_and_staff_403(browser, firm, make_firm, make_client,
                                                      staff):
    client = make_client(firm)
    browser.login(user_of(make_firm("Other"), "manager"))
    assert browser.get(f"/invoices/from-time?client_id={client.id}").status_code == 404
    browser.logout()
    browser.login(staff)
    assert browser.get("/invoices/from-time").status_code == 403
    assert browser.post("/invoices/from-time", {"client_id": client.id}).status_code == 403


def test_deleting_draft_unlocks_entries(browser, manager, firm, staff, catalogue, make_client,
                                        make_entry, db):
    client = make_client(firm)
    entries = [make_entry(firm, staff, client, "1", catalogue["ind"]) for _ in range(2)]
    invoice = generate_invoice_from_time(firm.id, client.id, [e.id for e in entries])
    db.session.commit()
    browser.login(manager)
    response = browser.post(f"/invoices/{invoice.id}/delete", follow_redirects=True)
    assert "2 time entries are unlocked" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.execute(db.select(Invoice)).first() is None
    for entry in entries:
        assert (entry.locked, entry.invoice_id, entry.status) == (False, None, "approved")
    # and they can be invoiced again
    assert f'value="{entries[0].id}"' in browser.get(
        f"/invoices/from-time?client_id={client.id}").get_data(as_text=True)


def test_processed_invoice_keeps_entries_locked(browser, manager, firm, staff, catalogue,
                                                make_client, make_entry, db):
    client = make_client(firm)
    entry = make_entry(firm, staff, client, "1", catalogue["ind"])
    invoice = generate_invoice_from_time(firm.id, client.id, [entry.id])
    invoice.status = "processed_externally"
    db.session.commit()
    browser.login(manager)
    assert browser.post(f"/invoices/{invoice.id}/delete").status_code == 409
    db.session.expire_all()
    assert entry.locked is True and entry.invoice_id == invoice.id


def test_voiding_releases_entries(browser, manager, firm, staff, catalogue, make_client,
                                  make_entry, db):
    client = make_client(firm)
    entry = make_entry(firm, staff, client, "1", catalogue["ind"])
    invoice = generate_invoice_from_time(firm.id, client.id, [entry.id])
    invoice.status = "new"
    db.session.commit()
    browser.login(manager)
    browser.post(f"/invoices/{invoice.id}/status", {"to": "void"})
    db.session.expire_all()
    assert invoice.status == "void"
    assert (entry.locked, entry.invoice_id) == (False, None)
