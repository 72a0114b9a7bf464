"""Reports -> Timesheets: filters, totals, CSV export, approve/return, roles, firm isolation."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest

from portal.models import BillableCategory, TimeEntry
from portal.reports.timesheets import csv_safe, period_range
from tests.conftest import user_of

TODAY = date.today()
MONDAY = TODAY - timedelta(days=TODAY.weekday())


@pytest.fixture
def category(db, firm):
    return db.session.execute(
        db.select(BillableCategory).where(BillableCategory.firm_id == firm.id)
    ).scalar_one()


@pytest.fixture
def make_entry(db, category):
    def make(user, **fields) -> TimeEntry:
        fields.setdefault("entry_date", MONDAY)
        fields.setdefault("hours", Decimal("1.00"))
        fields.setdefault("description", "Work")
        fields.setdefault("status", "submitted")
        if user.firm_id == category.firm_id:
            fields.setdefault("category_id", category.id)
        entry = TimeEntry(firm_id=user.firm_id, user_id=user.id, **fields)
        db.session.add(entry)
        db.session.commit()
        return entry

    return make


def report(browser, **params):
    response = browser.get("/reports/timesheets", query_string=params)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def reload(db, *entries):
    db.session.expire_all()
    return [db.session.get(TimeEntry, e.id) for e in entries]


# --- periods ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "today", "expected"),
    [
        ("this_week", date(2024, 3, 6), (date(2024, 3, 4), date(2024, 3, 10))),
        ("this_week", date(2024, 3, 4), (date(2024, 3, 4), date(2024, 3, 10))),
        ("this_week", date(2024, 3, 10), (date(2024, 3, 4), date(2024, 3, 10))),
        ("last_week", date(2024, 3, 4), (date(2024, 2, 26), date(2024, 3, 3))),
        ("this_month", date(2024, 2, 10), (date(2024, 2, 1), date(2024, 2, 29))),
        ("last_month", date(2024, 3, 31), (date(2024, 2, 1), date(2024, 2, 29))),
        ("last_month", date(2024, 1, 15), (date(2023, 12, 1), date(2023, 12, 31))),
        ("all", date(2024, 1, 15), (None, None)),
    ],
)
def test_period_ranges(period, today, expected):
    assert period_range(period, today) == expected


def test_this_week_includes_its_monday_and_sunday_only(browser, staff, manager, make_entry):
    for day, text in [
        (MONDAY - timedelta(days=1), "prev-sunday"),
        (MONDAY, "this-monday"),
        (MONDAY + timedelta(days=6), "this-sunday"),
        (MONDAY + timedelta(days=7), "next-monday"),
    ]:
        make_entry(staff, entry_date=day, description=text)
    browser.login(manager)
    page = report(browser)  # default period: this week
    assert "this-monday" in page and "this-sunday" in page
    assert "prev-sunday" not in page and "next-monday" not in page
    page = report(browser, period="last_week")
    assert "prev-sunday" in page and "this-monday" not in page


def test_month_and_custom_periods(browser, staff, manager, make_entry):
    first = TODAY.replace(day=1)
    make_entry(staff, entry_date=first, description="first-of-month")
    make_entry(staff, entry_date=first - timedelta(days=1), description="end-of-last-month")
    browser.login(manager)
    page = report(browser, period="this_month")
    assert "first-of-month" in page and "end-of-last-month" not in page
    page = report(browser, period="last_month")
    assert "end-of-last-month" in page and "first-of-month" not in page
    page = report(browser, period="custom", date_from=(first - timedelta(days=1)).isoformat(),
                  date_to=first.isoformat())
    assert "end-of-last-month" in page and "first-of-month" in page


def test_custom_period_needs_valid_dates(browser, manager, staff, make_entry):
    make_entry(staff, description="should-not-show")
    browser.login(manager)
    page = report(browser, period="custom", date_from="2024-03-10", date_to="2024-03-01")
    assert "The last day cannot be before the first day." in page
    assert "should-not-show" not in page
    page = report(browser, period="custom")
    assert "Enter the first day of the custom period." in page
    page = report(browser, period="custom", date_from="junk", date_to="2024-03-01")
    assert "Not a valid date value." in page
    assert "Not a valid choice" in report(browser, status="bogus")


def test_filters_by_staff_client_status_and_billable(
    browser, firm, staff, manager, make_entry, make_client
):
    acme = make_client(firm, kind="business", company_name="Acme Ltd")
    other = make_client(firm, kind="business", company_name="Zenith Inc")
    make_entry(staff, client_id=acme.id, description="staff-acme-submitted")
    make_entry(staff, client_id=other.id, status="approved", description="staff-zenith-approved")
    make_entry(manager, client_id=acme.id, status="draft", description="mgr-acme-draft")
    make_entry(manager, billable=False, description="mgr-internal")
    browser.login(manager)
    page = report(browser)
    assert all(t in page for t in ("staff-acme-submitted", "staff-zenith-approved",
                                   "mgr-acme-draft", "mgr-internal"))
    page = report(browser, staff=staff.id)
    assert "staff-acme-submitted" in page and "mgr-acme-draft" not in page
    page = report(browser, client=acme.id)
    assert "staff-acme-submitted" in page and "mgr-acme-draft" in page
    assert "staff-zenith-approved" not in page
    page = report(browser, status="approved")
    assert "staff-zenith-approved" in page and "staff-acme-submitted" not in page
    page = report(browser, billable="no")
    assert "mgr-internal" in page and "staff-acme-submitted" not in page


def test_totals_per_staff_client_and_grand_with_amounts(
    browser, firm, staff, manager, make_entry, make_client
):
    acme = make_client(firm, kind="business", company_name="Acme Ltd")
    # staff rate 100, manager rate 150 (conftest)
    make_entry(staff, client_id=acme.id, hours=Decimal("2.50"))
    make_entry(staff, client_id=acme.id, hours=Decimal("0.25"), billable=False)
    make_entry(manager, client_id=acme.id, hours=Decimal("1.00"))
    make_entry(manager, hours=Decimal("3.00"), billable=False)
    browser.login(manager)
    page = report(browser)
    # staff: 2.75 h, 2.50 billable -> 250.00; manager: 4.00 h, 1.00 billable -> 150.00
    assert "2.75" in page and "250.00" in page
    assert "4.00" in page and "150.00" in page
    # per client: Acme 3.75 h, 400.00; internal 3.00 h
    assert "3.75" in page and "No client (internal)" in page
    # grand: 6.75 h, 400.00
    assert "6.75" in page and "400.00" in page


def test_totals_cover_every_page_not_just_the_first(app, browser, staff, manager, make_entry):
    app.config["PAGE_SIZE"] = 2
    for _ in range(3):
        make_entry(staff, hours=Decimal("1.10"))
    browser.login(manager)
    page = report(browser)
    assert "Page 1 of 2" in page
    assert "3.30" in page and "330.00" in page


def test_staff_see_only_their_own_time_and_no_staff_filter(
    browser, firm, staff, manager, make_entry
):
    make_entry(staff, description="mine")
    make_entry(manager, description="managers-entry")
    browser.login(staff)
    page = report(browser)
    assert "mine" in page and "managers-entry" not in page
    assert 'name="staff"' not in page
    assert "Approve selected" not in page
    page = report(browser, staff=manager.id)  # a hand-made URL changes nothing
    assert "mine" in page and "managers-entry" not in page
    csv_text = browser.get(f"/reports/timesheets.csv?staff={manager.id}").get_data(as_text=True)
    assert "mine" in csv_text and "managers-entry" not in csv_text


def test_other_firms_time_never_shows(browser, manager, make_firm, make_entry):
    other = make_firm("Other firm")
    make_entry(user_of(other, "staff"), description="foreign-work")
    browser.login(manager)
    assert "foreign-work" not in report(browser, period="all")
    other_staff = user_of(other, "staff")
    assert "Not a valid choice" in report(browser, staff=other_staff.id)


# --- CSV ------------------------------------------------------------------------------------


def test_csv_export_matches_the_filters(browser, firm, staff, manager, make_entry, make_client):
    acme = make_client(firm, kind="business", company_name='Acme "Quoted", Ltd')
    make_entry(staff, client_id=acme.id, hours=Decimal("1.50"), description="line one\nline two")
    make_entry(staff, status="draft", description="draft-one")
    browser.login(manager)
    response = browser.get("/reports/timesheets.csv?status=submitted&period=this_week")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    start, end = period_range("this_week", TODAY)
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="timesheets-{start.isoformat()}-to-{end.isoformat()}.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["Date", "Staff", "Client", "Category", "Description", "Hours",
                       "Billable", "Status", "Locked", "Amount"]
    assert rows[1:] == [[MONDAY.isoformat(), staff.name, 'Acme "Quoted", Ltd',
                         "Individual tax return", "line one\nline two", "1.50", "Yes",
                         "Submitted", "No", "150.00"]]


def test_csv_guards_against_formula_injection(browser, firm, staff, manager, make_entry,
                                               make_client):
    evil = make_client(firm, kind="business", company_name="=HYPERLINK(\"http://x\")")
    make_entry(staff, client_id=evil.id, description="+SUM(A1:A2)")
    make_entry(staff, client_id=evil.id, description="@cmd")
    make_entry(staff, client_id=evil.id, description="-2+3")
    browser.login(manager)
    rows = list(csv.reader(io.StringIO(
        browser.get("/reports/timesheets.csv").get_data(as_text=True))))
    assert {r[2] for r in rows[1:]} == {"'=HYPERLINK(\"http://x\")"}
    assert sorted(r[4] for r in rows[1:]) == ["'+SUM(A1:A2)", "'-2+3", "'@cmd"]


def test_csv_safe_leaves_plain_text_alone():
    assert csv_safe("Plain") == "Plain"
    assert csv_safe("1.50") == "1.50"
    assert csv_safe("=1") == "'=1"
    assert csv_safe(None) == ""


def test_csv_with_invalid_filters_is_400(browser, manager):
    browser.login(manager)
    response = browser.get("/reports/timesheets.csv?period=custom&date_from=nope")
    assert response.status_code == 400


# --- approve / return -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_approvers_approve_submitted_entries(browser, db, firm, staff, make_entry, role):
    approver = user_of(firm, role)
    a, b = make_entry(staff), make_entry(staff)
    draft = make_entry(staff, status="draft")
    browser.login(approver)
    response = browser.post("/reports/timesheets/approve",
                            {"ids": [a.id, b.id, draft.id], "back": "period=all&status="})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/reports/timesheets?period=all&status=")
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "Approved 2 entries." in page
    assert "1 entry skipped: only submitted entries can be approved." in page
    a, b, draft = reload(db, a, b, draft)
    assert (a.status, b.status, draft.status) == ("approved", "approved", "draft")
    assert a.approved_by_id == approver.id and a.approved_at is not None
    assert a.locked is False  # approving does not lock


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_approvers_return_entries_to_draft(browser, db, firm, staff, manager, make_entry, role):
    approved = make_entry(staff, status="approved", approved_by_id=manager.id,
                          approved_at=date.today())
    submitted = make_entry(staff)
    browser.login(user_of(firm, role))
    response = browser.post("/reports/timesheets/return", {"ids": [approved.id, submitted.id]},
                            follow_redirects=True)
    assert "Returned to draft 2 entries." in response.get_data(as_text=True)
    approved, submitted = reload(db, approved, submitted)
    assert approved.status == submitted.status == "draft"
    assert approved.approved_by_id is None and approved.approved_at is None


def test_locked_entries_cannot_be_returned_or_approved(browser, db, staff, manager, make_entry):
    locked = make_entry(staff, status="approved", locked=True, approved_by_id=manager.id)
    browser.login(manager)
    page = browser.post("/reports/timesheets/return", {"ids": [locked.id]},
                        follow_redirects=True).get_data(as_text=True)
    assert "1 entry could not be changed: locked because invoiced." in page
    page = browser.post("/reports/timesheets/approve", {"ids": [locked.id]},
                        follow_redirects=True).get_data(as_text=True)
    assert "locked because invoiced" in page
    [locked] = reload(db, locked)
    assert locked.status == "approved" and locked.approved_by_id == manager.id and locked.locked


def test_staff_cannot_approve_or_return(browser, db, staff, make_entry):
    entry = make_entry(staff)
    browser.login(staff)
    assert browser.post("/reports/timesheets/approve", {"ids": [entry.id]}).status_code == 403
    assert browser.post("/reports/timesheets/return", {"ids": [entry.id]}).status_code == 403
    [entry] = reload(db, entry)
    assert entry.status == "submitted"


def test_approve_needs_csrf(browser, db, staff, manager, make_entry):
    entry = make_entry(staff)
    browser.login(manager)
    response = browser.post("/reports/timesheets/approve", {"ids": [entry.id]}, csrf=False)
    assert response.status_code == 400
    assert reload(db, entry)[0].status == "submitted"


def test_another_firms_manager_changes_nothing(browser, db, staff, make_firm, make_entry):
    submitted = make_entry(staff)
    approved = make_entry(staff, status="approved")
    intruder = user_of(make_firm("Firm B"), "manager")
    browser.login(intruder)
    page = browser.post("/reports/timesheets/approve", {"ids": [submitted.id]},
                        follow_redirects=True).get_data(as_text=True)
    assert "Select at least one entry first." in page
    browser.post("/reports/timesheets/return", {"ids": [approved.id]})
    submitted, approved = reload(db, submitted, approved)
    assert submitted.status == "submitted" and submitted.approved_by_id is None
    assert approved.status == "approved"


def test_redirect_back_cannot_leave_the_report(browser, staff, manager, make_entry):
    entry = make_entry(staff)
    browser.login(manager)
    response = browser.post("/reports/timesheets/approve",
                            {"ids": [entry.id], "back": "//evil.example/x\r\nSet-Cookie: a=b"})
    location = response.headers["Location"]
    assert location.startswith("/reports/timesheets")
    assert "\n" not in location and "evil.example/x" not in location.split("?")[0]


def test_report_page_shows_checkboxes_only_for_approvers_and_unlocked(
    browser, staff, manager, make_entry
):
    unlocked = make_entry(staff)
    locked = make_entry(staff, status="approved", locked=True)
    browser.login(manager)
    page = report(browser)
    assert f'name="ids" value="{unlocked.id}"' in page
    assert f'name="ids" value="{locked.id}"' not in page
    assert "Locked" in page and "Approve selected" in page and "Return to draft" in page


def test_reports_hub_lists_timesheets_and_waiting_count(browser, staff, manager, make_entry):
    make_entry(staff)
    make_entry(staff, status="draft")
    browser.login(manager)
    page = browser.get("/reports/").get_data(as_text=True)
    assert "Timesheets" in page and "1 entry waiting for approval" in page
    browser.logout()
    browser.login(staff)
    page = browser.get("/reports/").get_data(as_text=True)
    assert "Timesheets" in page and "waiting for approval" not in page


def test_report_empty_state(browser, manager):
    browser.login(manager)
    assert "No time entries" in report(browser)
