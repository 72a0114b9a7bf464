"""My Time: recording with validation, own-entries-only, submit, draft-only edits (409)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from portal.models import BillableCategory, TimeEntry
from tests.conftest import user_of


@pytest.fixture
def category(db, firm):
    return db.session.execute(
        db.select(BillableCategory).where(BillableCategory.firm_id == firm.id)
    ).scalar_one()


@pytest.fixture
def acme(make_client, firm):
    return make_client(firm, kind="business", company_name="Acme & Sons")


@pytest.fixture
def make_entry(db):
    def make(user, **fields) -> TimeEntry:
        fields.setdefault("entry_date", date.today())
        fields.setdefault("hours", Decimal("1.50"))
        fields.setdefault("description", "Work")
        entry = TimeEntry(firm_id=user.firm_id, user_id=user.id, **fields)
        db.session.add(entry)
        db.session.commit()
        return entry

    return make


def form_data(client=None, category=None, **overrides) -> dict:
    data = {
        "client_id": str(client.id) if client else "",
        "entry_date": date.today().isoformat(),
        "hours": "2.25",
        "category_id": str(category.id) if category else "",
        "description": "Prepared the 1040",
        "billable": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def entries(db) -> list[TimeEntry]:
    db.session.expire_all()
    return list(db.session.execute(db.select(TimeEntry)).scalars())


def test_my_time_page_shows_week_form_and_empty_state(browser, staff, acme, category):
    browser.login(staff)
    page = browser.get("/time/").get_data(as_text=True)
    assert "My Time" in page
    assert "No time this week" in page
    assert "Acme &amp; Sons" in page  # client select
    assert '<optgroup label="Tax">' in page  # categories grouped by type
    assert "data-billable" in page and "data-client-select" in page
    assert f'value="{date.today().isoformat()}"' in page  # date defaults to today


def test_record_time_creates_a_draft(browser, db, staff, acme, category):
    browser.login(staff)
    response = browser.post("/time/new", form_data(acme, category))
    assert response.status_code == 302
    [entry] = entries(db)
    assert (entry.user_id, entry.client_id, entry.category_id) == (staff.id, acme.id, category.id)
    assert entry.hours == Decimal("2.25") and entry.billable and entry.status == "draft"
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "Recorded 2.25 h" in page
    assert "Prepared the 1040" in page
    assert "2.25" in page


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"hours": "0"}, "hours", "Hours must be more than 0."),
        ({"hours": "-1"}, "hours", "Hours must be more than 0."),
        ({"hours": "25"}, "hours", "Hours cannot be more than 24"),
        ({"hours": "1.234"}, "hours", "Use at most 2 decimals"),
        ({"hours": "abc"}, "hours", "Not a valid decimal value."),
        ({"hours": "NaN"}, "hours", "Hours must be more than 0."),
        ({"hours": ""}, "hours", "Enter the hours worked."),
        ({"entry_date": ""}, "entry_date", "Enter the date"),
        ({"entry_date": "2024-02-30"}, "entry_date", "Not a valid date value."),
        ({"entry_date": "1999-12-31"}, "entry_date", "Enter a date between"),
        ({"category_id": ""}, "category_id", "Choose the billable category"),
        ({"category_id": "x"}, "category_id", "Invalid Choice"),
        ({"description": "x" * 2001}, "description", "2000"),
    ],
)
def test_record_time_validation(browser, db, staff, acme, category, overrides, field, message):
    browser.login(staff)
    response = browser.post("/time/new", form_data(acme, category, **overrides))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    assert message in page
    assert entries(db) == []


def test_billable_without_client_is_refused_with_a_field_message(browser, db, staff, category):
    browser.login(staff)
    response = browser.post("/time/new", form_data(None, category))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="billable-error"' in page
    assert "Billable time needs a client" in page
    assert entries(db) == []


def test_internal_time_without_client_is_fine_when_not_billable(browser, db, staff):
    browser.login(staff)
    data = form_data(None, None)
    del data["billable"]
    assert browser.post("/time/new", data).status_code == 302
    [entry] = entries(db)
    assert entry.client_id is None and entry.billable is False and entry.category_id is None


def test_category_and_client_of_another_firm_are_refused(
    browser, db, staff, make_firm, make_client, acme, category
):
    other = make_firm("Other firm")
    other_category = db.session.execute(
        db.select(BillableCategory).where(BillableCategory.firm_id == other.id)
    ).scalar_one()
    other_client = make_client(other)
    browser.login(staff)
    response = browser.post("/time/new", form_data(acme, other_category))
    assert response.status_code == 422
    assert "Choose one of your firm&#39;s active billable categories." in response.get_data(
        as_text=True
    )
    response = browser.post("/time/new", form_data(other_client, category))
    assert response.status_code == 422
    assert "Choose one of your firm&#39;s active clients." in response.get_data(as_text=True)
    assert entries(db) == []


def test_inactive_client_is_not_offered(browser, db, staff, make_client, firm, category):
    gone = make_client(firm, first_name="Gone", last_name="Away", active=False)
    browser.login(staff)
    assert "Gone Away" not in browser.get("/time/new").get_data(as_text=True)
    response = browser.post("/time/new", form_data(gone, category))
    assert response.status_code == 422
    assert entries(db) == []


def test_week_view_totals_and_navigation(browser, staff, make_entry, acme):
    monday = date.today() - timedelta(days=date.today().weekday())
    make_entry(staff, entry_date=monday, hours=Decimal("1.25"), client_id=acme.id)
    make_entry(staff, entry_date=monday, hours=Decimal("2.00"), client_id=acme.id)
    make_entry(staff, entry_date=monday + timedelta(days=6), hours=Decimal("0.50"))
    make_entry(staff, entry_date=monday - timedelta(days=1), hours=Decimal("7.00"),
               description="Last week's work")
    browser.login(staff)
    page = browser.get("/time/").get_data(as_text=True)
    assert "3.25" in page  # Monday's total
    assert "3.75" in page  # week total
    assert "Last week&#39;s work" not in page
    prev = (monday - timedelta(days=7)).isoformat()
    assert f"/time/?week={prev}" in page
    page = browser.get(f"/time/?week={prev}").get_data(as_text=True)
    assert "Last week&#39;s work" in page and "7.00" in page
    assert browser.get("/time/?week=not-a-date").status_code == 200


def test_staff_see_only_their_own_entries(browser, db, firm, staff, manager, make_entry):
    other_staff = user_of(firm, "admin")
    theirs = make_entry(other_staff, description="Admin secret work")
    browser.login(staff)
    assert "Admin secret work" not in browser.get("/time/").get_data(as_text=True)
    assert browser.get(f"/time/{theirs.id}/edit").status_code == 404
    response = browser.post(f"/time/{theirs.id}/edit", {"hours": "9", "entry_date": "2024-01-01"})
    assert response.status_code == 404
    assert browser.post(f"/time/{theirs.id}/delete").status_code == 404
    db.session.expire_all()
    assert db.session.get(TimeEntry, theirs.id).hours == Decimal("1.50")


def test_other_firms_entry_is_404(browser, db, staff, make_firm, make_entry):
    other = make_firm("Other")
    foreign = make_entry(user_of(other, "staff"))
    browser.login(staff)
    assert browser.get(f"/time/{foreign.id}/edit").status_code == 404
    assert browser.post(f"/time/{foreign.id}/delete").status_code == 404
    assert db.session.get(TimeEntry, foreign.id) is not None


def test_edit_own_draft(browser, db, staff, make_entry, acme, category):
    entry = make_entry(staff, client_id=acme.id, category_id=category.id)
    browser.login(staff)
    page = browser.get(f"/time/{entry.id}/edit").get_data(as_text=True)
    assert "Edit time entry" in page and "Delete entry" in page
    response = browser.post(f"/time/{entry.id}/edit", form_data(acme, category, hours="3.5"))
    assert response.status_code == 302
    db.session.expire_all()
    assert entry.hours == Decimal("3.50") and entry.version == 2


def test_delete_own_draft(browser, db, staff, make_entry):
    entry = make_entry(staff)
    browser.login(staff)
    response = browser.post(f"/time/{entry.id}/delete")
    assert response.status_code == 302
    assert "Time entry deleted." in browser.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert entries(db) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"status": "submitted"}, "This entry is submitted: only drafts can be changed."),
        ({"status": "approved"}, "This entry is approved: only drafts can be changed."),
        ({"status": "approved", "locked": True}, "This entry is locked"),
    ],
)
def test_non_draft_or_locked_entries_are_read_only(
    browser, db, staff, make_entry, acme, category, fields, message
):
    entry = make_entry(staff, client_id=acme.id, category_id=category.id, **fields)
    browser.login(staff)
    page = browser.get(f"/time/{entry.id}/edit").get_data(as_text=True)
    assert "Save changes" not in page and "Delete entry" not in page
    response = browser.post(f"/time/{entry.id}/edit", form_data(acme, category, hours="8"))
    assert response.status_code == 409
    assert message in response.get_data(as_text=True)
    response = browser.post(f"/time/{entry.id}/delete")
    assert response.status_code == 409
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert entry.hours == Decimal("1.50") and entry.status == fields["status"]
    assert db.session.get(TimeEntry, entry.id) is not None


def test_submit_selected_drafts(browser, db, staff, firm, make_entry):
    a, b, c = (make_entry(staff) for _ in range(3))
    approved = make_entry(staff, status="approved")
    someone_else = make_entry(user_of(firm, "manager"))
    browser.login(staff)
    response = browser.post(
        "/time/submit", {"ids": [a.id, b.id, approved.id, someone_else.id], "scope": "selected"}
    )
    assert response.status_code == 302
    assert "Submitted 2 entries for approval." in browser.get(
        response.headers["Location"]
    ).get_data(as_text=True)
    db.session.expire_all()
    assert [a.status, b.status, c.status] == ["submitted", "submitted", "draft"]
    assert approved.status == "approved" and someone_else.status == "draft"


def test_submit_whole_week(browser, db, staff, make_entry):
    monday = date.today() - timedelta(days=date.today().weekday())
    this_week = [make_entry(staff, entry_date=monday + timedelta(days=i)) for i in (0, 3, 6)]
    earlier = make_entry(staff, entry_date=monday - timedelta(days=1))
    browser.login(staff)
    response = browser.post("/time/submit", {"scope": "week", "week": monday.isoformat()})
    assert response.status_code == 302
    db.session.expire_all()
    assert {e.status for e in this_week} == {"submitted"}
    assert earlier.status == "draft"


def test_submit_with_nothing_selected_says_so(browser, staff):
    browser.login(staff)
    response = browser.post("/time/submit", {"scope": "selected"}, follow_redirects=True)
    assert "Select at least one draft entry to submit." in response.get_data(as_text=True)


def test_time_pages_need_login(client):
    assert client.get("/time/").status_code == 302
    assert client.get("/time/new").status_code == 302
