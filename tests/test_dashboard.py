"""The dashboard: what each role sees, firm isolation of every figure, empty states."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from portal.models import Invoice, QboConnection, SyncEvent, SyncRun, TimeEntry
from tests.conftest import user_of


def stat(html: str, card_id: str) -> str:
    """The number shown on the stat card with id `card_id`."""
    match = re.search(rf'id="{card_id}"><span class="stat">([^<]*)</span>', html)
    assert match, f"card {card_id} not on the page"
    return match.group(1)


def add_entry(db, user, day: date, hours: str, status: str = "draft", client=None) -> TimeEntry:
    entry = TimeEntry(firm_id=user.firm_id, user_id=user.id, entry_date=day,
                      hours=Decimal(hours), status=status,
                      client_id=client.id if client else None)
    db.session.add(entry)
    db.session.commit()
    return entry


def add_invoice(db, firm, client, number: str, status: str, total: str) -> Invoice:
    invoice = Invoice(firm_id=firm.id, client_id=client.id, number=number,
                      issue_date=date.today(), status=status, total=Decimal(total))
    db.session.add(invoice)
    db.session.commit()
    return invoice


def add_run(db, firm, kind: str, status: str, minutes_ago: int) -> SyncRun:
    run = SyncRun(firm_id=firm.id, kind=kind, trigger="button", status=status,
                  started_at=datetime(2026, 1, 1, 12, 0) - timedelta(minutes=minutes_ago))
    db.session.add(run)
    db.session.commit()
    return run


def page(browser, user) -> str:
    browser.login(user)
    response = browser.get("/dashboard")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_staff_sees_their_week_but_no_firm_figures(browser, db, staff, make_client):
    html = page(browser, staff)
    assert "My week" in html and "My recent entries" in html
    assert 'id="to-approve"' not in html
    assert 'id="new-invoices"' not in html and "Total of New invoices" not in html
    assert "QuickBooks Online" not in html and 'id="attention"' not in html


def test_manager_sees_approvals_and_invoices_but_not_quickbooks(browser, manager):
    html = page(browser, manager)
    assert "waiting for approval" in html and "/reports/timesheets?status=submitted" in html
    assert stat(html, "new-invoices") == "0" and stat(html, "new-total") == "0.00"
    assert 'id="qbo-title"' not in html and 'id="attention"' not in html


def test_admin_sees_everything(browser, admin):
    html = page(browser, admin)
    for marker in ('id="my-hours"', 'id="to-approve"', 'id="new-invoices"', 'id="qbo-title"',
                   'id="attention"'):
        assert marker in html, marker


def test_my_week_counts_only_my_entries_in_this_week(browser, db, firm, staff, manager,
                                                      make_firm):
    today = date.today()
    monday = today - timedelta(days=today.weekday())
    add_entry(db, staff, monday, "2.5", "draft")
    add_entry(db, staff, monday + timedelta(days=6), "1.25", "submitted")  # Sunday counts
    add_entry(db, staff, monday - timedelta(days=1), "7", "draft")  # last Sunday: not this week
    add_entry(db, manager, today, "8", "draft")  # a colleague's: not mine
    other_staff = user_of(make_firm("Other"), "staff")
    add_entry(db, other_staff, today, "5", "draft")
    html = page(browser, staff)
    assert stat(html, "my-hours") == "3.75"
    assert "(2.50 still draft)" in html
    assert stat(html, "my-drafts") == "2"  # both of my drafts, last week's included


def test_recent_entries_are_my_last_five(browser, db, staff, manager, firm, make_client):
    client = make_client(firm, first_name="Ada", last_name="Lovelace")
    base = date(2026, 3, 2)
    for i in range(6):
        add_entry(db, staff, base + timedelta(days=i), f"{i + 1}.00", client=client)
    add_entry(db, manager, base + timedelta(days=10), "9.75", client=client)
    html = page(browser, staff)
    section = html.split('id="recent-title"')[1]
    assert section.count("Lovelace") == 5
    assert "Mar 07" in section and "Mar 03" in section
    assert "Mar 02" not in section  # the oldest of six drops off
    assert "9.75" not in section  # a colleague's entry


def test_empty_states(browser, admin):
    html = page(browser, admin)
    assert "No time recorded yet" in html
    assert "No sync has run yet" in html
    assert "No records need attention" in html
    assert "Not connected" in html and stat(html, "my-hours") == "0.00"


def test_approval_and_invoice_figures_are_firm_scoped(browser, db, firm, manager, staff,
                                                       make_firm, make_client):
    client = make_client(firm)
    add_entry(db, staff, date.today(), "1", "submitted")
    add_entry(db, staff, date.today(), "2", "submitted")
    add_entry(db, staff, date.today(), "3", "approved")
    add_invoice(db, firm, client, "1001", "new", "1200.50")
    add_invoice(db, firm, client, "1002", "new", "99.50")
    add_invoice(db, firm, client, "1003", "draft", "10")
    add_invoice(db, firm, client, "1004", "processed_externally", "5000")
    other = make_firm("Other Firm")
    other_client = make_client(other)
    add_entry(db, user_of(other, "staff"), date.today(), "4", "submitted")
    add_invoice(db, other, other_client, "1001", "new", "777")
    add_invoice(db, other, other_client, "1005", "draft", "1")
    html = page(browser, manager)
    assert stat(html, "to-approve") == "2"
    assert stat(html, "new-invoices") == "2"
    assert stat(html, "new-total") == "1,300.00"
    assert stat(html, "draft-invoices") == "1"


def test_quickbooks_panel_shows_company_and_last_five_runs_of_my_firm(browser, db, firm, admin,
                                                                       make_firm):
    db.session.add(QboConnection(firm_id=firm.id, status="connected", company_name="Smith Books"))
    for i, kind in enumerate(("clients", "invoices", "time", "firm_sync", "import", "oldest_kind")):
        add_run(db, firm, kind, "failed" if i == 1 else "succeeded", minutes_ago=i * 10)
    other = make_firm("Other Firm")
    db.session.add(QboConnection(firm_id=other.id, status="connected", company_name="Rival Ltd"))
    add_run(db, other, "secret_kind", "running", minutes_ago=0)
    html = page(browser, admin)
    assert "Connected to <strong>Smith Books</strong>" in html
    assert "Rival Ltd" not in html and "Secret kind" not in html
    runs = html.split('id="qbo-title"')[1]
    assert runs.count("<tr>") == 6  # header + five runs
    assert "Oldest kind" not in runs and "Firm sync" in runs
    assert 'badge badge-failed' in runs and "Jan 01, 12:00" in runs


def test_needs_reconnect_is_called_out(browser, db, firm, admin):
    db.session.add(QboConnection(firm_id=firm.id, status="needs_reconnect", company_name="Acme"))
    db.session.commit()
    html = page(browser, admin)
    assert "Needs reconnect" in html and "Reconnect QuickBooks" in html


@pytest.mark.parametrize("latest", ["held", "failed", "flagged"])
def test_attention_count_uses_latest_outcome_per_record_in_my_firm(browser, db, firm, admin,
                                                                    make_firm, latest):
    run = add_run(db, firm, "clients", "succeeded", minutes_ago=0)

    def event(firm_id, run_id, entity_id, result):
        db.session.add(SyncEvent(run_id=run_id, firm_id=firm_id, entity="client",
                                 entity_id=entity_id, action="create", result=result))
        db.session.commit()

    event(firm.id, run.id, 1, "failed")
    event(firm.id, run.id, 1, "ok")  # fixed since: not counted
    event(firm.id, run.id, 2, "ok")
    event(firm.id, run.id, 2, latest)  # broke since: counted
    event(firm.id, run.id, 3, "held")  # counted
    other = make_firm("Other Firm")
    other_run = add_run(db, other, "clients", "failed", minutes_ago=0)
    for n in range(4):
        event(other.id, other_run.id, 10 + n, "failed")
    html = page(browser, admin)
    assert "<strong>2</strong> records need attention" in html
    assert "/integrations/#attention-title" in html


def test_single_attention_record_reads_naturally(browser, db, firm, admin):
    run = add_run(db, firm, "invoices", "succeeded", minutes_ago=0)
    db.session.add(SyncEvent(run_id=run.id, firm_id=firm.id, entity="invoice", entity_id=None,
                             action="held", result="held"))
    db.session.commit()
    html = page(browser, admin)
    assert "<strong>1</strong> record needs attention" in html


def test_dashboard_needs_sign_in(client):
    response = client.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
