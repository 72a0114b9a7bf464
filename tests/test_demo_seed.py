"""The demo seed: idempotent, and it produces the promised firm, people, codes, awkward
client names, and invoices and time in every status."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest

from portal.demo_seed import DEMO_PASSWORD, FIRM_NAME, seed_demo_firm
from portal.models import (
    BillableCategory,
    BillableType,
    Client,
    Firm,
    Invoice,
    TimeEntry,
    User,
)


@pytest.fixture
def demo(db) -> Firm:
    assert seed_demo_firm() is True
    return db.session.execute(db.select(Firm).where(Firm.name == FIRM_NAME)).scalar_one()


def _all(db, model, firm):
    return db.session.execute(db.select(model).where(model.firm_id == firm.id)).scalars().all()


def test_seed_is_idempotent(db, demo):
    counts = {m: len(_all(db, m, demo)) for m in (User, Client, Invoice, TimeEntry)}
    assert seed_demo_firm() is False
    assert db.session.execute(
        db.select(db.func.count()).select_from(Firm).where(Firm.name == FIRM_NAME)
    ).scalar_one() == 1
    assert {m: len(_all(db, m, demo)) for m in counts} == counts


def test_users_roles_rates_and_password(db, demo):
    users = {u.email: u for u in _all(db, User, demo)}
    expected = {
        "admin@demo.example": ("Dana Whitfield", "admin", "225"),
        "maria@demo.example": ("Maria Lopez", "manager", "150"),
        "alice@demo.example": ("Alice Nguyen", "staff", "95"),
        "bob@demo.example": ("Bob Martinez", "staff", "85"),
    }
    assert set(users) == set(expected)
    for email, (name, role, rate) in expected.items():
        user = users[email]
        assert (user.name, user.role, user.hourly_rate) == (name, role, Decimal(rate))
        assert user.check_password(DEMO_PASSWORD) and user.active


def test_demo_admin_can_sign_in(browser, demo, db):
    admin = db.session.execute(
        db.select(User).where(User.email == "admin@demo.example")
    ).scalar_one()
    browser.login(admin, DEMO_PASSWORD)
    page = browser.get("/dashboard").get_data(as_text=True)
    assert "Whitfield &amp; Lopez CPAs" in page


def test_billable_types_and_categories_with_codes(db, demo):
    types = {t.name: t for t in _all(db, BillableType, demo)}
    assert {n: t.code for n, t in types.items()} == {
        "Tax": "TAX", "Accounting": "ACCOUNTING", "Advisory": "ADVISORY"}
    categories = {c.name: (c.code, c.type.name) for c in _all(db, BillableCategory, demo)}
    assert categories == {
        "Individual tax return": ("TAX-IND", "Tax"),
        "Business tax return": ("TAX-BUS", "Tax"),
        "Bookkeeping": ("BOOKKEEPING", "Accounting"),
        "Payroll": ("PAYROLL", "Accounting"),
        "Advisory": ("ADVISORY", "Advisory"),
        "Audit support": ("AUDIT", "Advisory"),
    }


def test_clients_of_every_kind_with_tricky_names(db, demo):
    clients = _all(db, Client, demo)
    assert 38 <= len(clients) <= 45
    kinds = Counter(c.kind for c in clients)
    assert kinds["individual"] >= 10 and kinds["joint"] >= 5 and kinds["business"] >= 10
    names = {c.display_name for c in clients}
    for name in (
        "Patrick O'Brien", "Gina D'Angelo",  # apostrophes
        "José Álvarez", "Zoë Brontë", "Renée Côté",  # accents
        "John & Mary Smith",  # married, same last name
        "Mark Davis & Susan Lee",  # married, different last names
        "Smith & Sons Plumbing", "Acme, Inc.", "Acme: West Division",
        "Amy's Bird Sanctuary", "Bill's Windsurf Shop", "Cool Cars",  # QBO sandbox names
    ):
        assert name in names, name
    assert len(names) == len(clients)  # no accidental duplicates
    assert all(c.qbo_customer_id is None for c in clients)  # nothing linked yet
    assert [c.display_name for c in clients if not c.active] == ["Hannah Schmidt"]
    assert all(c.email and c.email.endswith(".example") and c.phone and c.address_line1
               for c in clients)


def test_invoices_in_every_status_with_consistent_totals(db, demo):
    invoices = _all(db, Invoice, demo)
    statuses = Counter(i.status for i in invoices)
    assert statuses["draft"] >= 1 and statuses["void"] >= 1
    assert statuses["new"] >= 3 and statuses["processed_externally"] >= 2
    for invoice in invoices:
        assert invoice.lines, invoice.number
        assert invoice.total == sum(line.amount for line in invoice.lines)
        assert invoice.total > 0
        if invoice.status == "processed_externally":
            assert invoice.qbo_invoice_id and invoice.qbo_doc_number == invoice.number
        else:
            assert invoice.qbo_invoice_id is None
    categorized = [line for i in invoices for line in i.lines if line.category_id]
    assert len(categorized) >= len(invoices)
    assert {line.category.firm_id for line in categorized} == {demo.id}


def test_time_entries_of_the_last_three_weeks_in_every_status(db, demo):
    entries = _all(db, TimeEntry, demo)
    today = date.today()
    assert all(today - timedelta(days=21) <= e.entry_date <= today for e in entries)
    assert all(e.entry_date.weekday() < 5 for e in entries)
    users = {u.id: u.name for u in _all(db, User, demo)}
    by_user_status = Counter((users[e.user_id], e.status) for e in entries)
    for name in ("Alice Nguyen", "Bob Martinez", "Maria Lopez"):
        for status in ("draft", "submitted", "approved"):
            assert by_user_status[(name, status)] >= 1, (name, status)
    assert "Dana Whitfield" not in {users[e.user_id] for e in entries}
    assert all(0 < e.hours <= 24 for e in entries)
    approved = [e for e in entries if e.status == "approved"]
    assert all(e.approved_by_id and e.approved_at for e in approved)


@pytest.mark.parametrize("offset", range(7))
def test_dates_hold_on_every_day_of_the_week(db, offset):
    today = date(2026, 3, 2) + timedelta(days=offset)  # a Monday, then each following day
    assert seed_demo_firm(today=today) is True
    entries = db.session.execute(db.select(TimeEntry)).scalars().all()
    assert all(today - timedelta(days=21) <= e.entry_date <= today for e in entries)
    assert all(e.entry_date.weekday() < 5 for e in entries)
    invoices = db.session.execute(db.select(Invoice)).scalars().all()
    assert all(i.issue_date <= today for i in invoices)
    for entry in entries:
        if entry.locked:
            assert entry.entry_date <= entry.invoice.issue_date
    statuses = Counter((e.user_id, e.status) for e in entries)
    for user_id in {e.user_id for e in entries}:
        assert all(statuses[(user_id, s)] for s in ("draft", "submitted", "approved"))


def test_locked_entries_belong_to_a_processed_invoice_that_bills_them(db, demo):
    entries = _all(db, TimeEntry, demo)
    locked = [e for e in entries if e.locked]
    assert len(locked) >= 3
    assert all(e.status == "approved" and e.invoice_id for e in locked)
    assert all(not e.locked for e in entries if e.status != "approved")
    invoice_ids = {e.invoice_id for e in locked}
    assert len(invoice_ids) == 1
    invoice = db.session.get(Invoice, invoice_ids.pop())
    assert invoice.status == "processed_externally"
    assert all(e.client_id == invoice.client_id for e in locked)
    billed = sum((e.hours * e.user.hourly_rate for e in locked), Decimal(0))
    assert invoice.total == billed


def test_seed_writes_nothing_when_it_fails(db, monkeypatch):
    import portal.demo_seed as demo_seed

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(demo_seed, "_time", broken)
    with pytest.raises(RuntimeError):
        seed_demo_firm()
    assert db.session.execute(db.select(db.func.count()).select_from(Firm)).scalar_one() == 0
    assert db.session.execute(db.select(db.func.count()).select_from(Client)).scalar_one() == 0


def test_cli_seed_demo(runner, db):
    result = runner.invoke(args=["seed-demo"])
    assert "Seeded the demo firm." in result.output
    result = runner.invoke(args=["seed-demo"])
    assert "already exists" in result.output
