"""Time -> QBO TimeActivity against the sandbox over real HTTP, with real RQ jobs: employee
matching, holds with the fix, rate mismatch, non-billable time, client pushed first, updates,
deletes after a return to draft, locked (invoiced) entries. Helpers here are shared by
tests/test_time_sync_*.py.

The database is a file (or DATABASE_URL; tests/rq_support.py) as in tests/test_jobs.py: a job
runs in its own app context and session, so the test's session and the job's are two real
connections.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from portal.extensions import db as _db
from portal.invoices.from_time import generate_invoice_from_time
from portal.jobs.queue import get_queue
from portal.models import BillableCategory, Client, SyncEvent, SyncRun, TimeEntry, User
from portal.qbo.sync.time import push_time
from qbo_sandbox import service as sandbox_service
from tests import rq_support
from tests.conftest import PASSWORD
from tests.qbo_support import (  # noqa: F401 - fixtures
    _connected,
    _sandbox_server,
    _sbx,
    connect_firm,
)
from tests.rq_support import _file_app as _app  # noqa: F401 - fixture, test_time_sync_faults too

AMY = "1"  # the sample company's "Amy's Bird Sanctuary"
TAX_IND_ITEM = "19"
ALICE, BOB, MARIA = "56", "57", "58"


# -- helpers -------------------------------------------------------------------------------------
def add_user(db, firm, name: str, email: str, rate: str = "150", role: str = "staff") -> User:
    user = User(firm_id=firm.id, name=name, email=email.strip().lower(), role=role,
                hourly_rate=Decimal(rate))
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()
    return user


def linked_client(db, firm, make_client, customer_id: str = AMY) -> Client:
    client = make_client(firm, first_name="Amy", last_name="Bird")
    client.qbo_customer_id = customer_id
    client.qbo_sync_token = "0"
    client.qbo_pushed_version = client.version
    db.session.commit()
    return client


def category_of(db, firm) -> BillableCategory:
    return db.session.execute(
        db.select(BillableCategory).where(BillableCategory.firm_id == firm.id)).scalar_one()


def add_entry(db, firm, user, client=None, hours: str = "1.25", status: str = "approved",
              billable: bool | None = None, category=None, day: date = date(2024, 4, 2),
              description: str = "Prepared 1040") -> TimeEntry:
    entry = TimeEntry(firm_id=firm.id, user_id=user.id, client_id=client.id if client else None,
                      entry_date=day, hours=Decimal(hours), description=description,
                      billable=(client is not None) if billable is None else billable,
                      status=status, category_id=category.id if category else None)
    db.session.add(entry)
    db.session.commit()
    return entry


def new_run(db, firm, trigger: str = "schedule") -> SyncRun:
    run = SyncRun(firm_id=firm.id, kind="time", trigger=trigger, status="running", counts={})
    db.session.add(run)
    db.session.commit()
    return run


def push(db, firm, **kwargs) -> dict[str, int]:
    counts = push_time(firm.id, new_run(db, firm), **kwargs)
    db.session.commit()
    db.session.expire_all()
    return counts


def work(app) -> None:
    rq_support.work(app)
    _db.session.expire_all()


def ours(sbx, firm, entry: TimeEntry | None = None) -> list[dict[str, Any]]:
    """The sandbox's TimeActivities carrying this firm's marker (or this entry's)."""
    tag = f"[PP-{firm.id}-{entry.id}]" if entry else f"[PP-{firm.id}-"
    return [ta for ta in sbx.entities(sbx.REALM_1, "TimeActivity")
            if tag in (ta.get("Description") or "")]


def events_of(db, entry: TimeEntry) -> list[SyncEvent]:
    return list(db.session.execute(db.select(SyncEvent).where(
        SyncEvent.entity == "time_entry", SyncEvent.entity_id == entry.id).order_by(SyncEvent.id)
    ).scalars())


def qbo_write(sbx, entity: str, body: dict[str, Any]) -> dict[str, Any]:
    """Change QBO as someone working in QuickBooks would."""
    return sandbox_service.write(sbx.sandbox, sbx.REALM_1, entity, dict(body), None)[entity]


def employee(sbx, employee_id: str) -> dict[str, Any]:
    return next(e for e in sbx.entities(sbx.REALM_1, "Employee") if e["Id"] == employee_id)


def requests(sbx) -> dict[str, int]:
    return dict(sbx.counters()["requests"])


@pytest.fixture(name="alice")
def _alice(db, firm):
    return add_user(db, firm, "Alice Nguyen", "alice@demo.example", rate="150")


# -- approval -> job -> TimeActivity ------------------------------------------------------------
def test_approving_on_the_timesheets_report_pushes_for_the_matching_employee(
        app, db, browser, firm, connected, sbx, alice, manager, make_client):
    client = linked_client(db, firm, make_client)
    entry = add_entry(db, firm, alice, client, status="submitted", category=category_of(db, firm))
    browser.login(manager)

    response = browser.post("/reports/timesheets/approve", {"ids": [entry.id]})
    assert response.status_code == 302
    work(app)

    [activity] = ours(sbx, firm, entry)
    assert activity["EmployeeRef"]["value"] == ALICE
    assert activity["CustomerRef"]["value"] == AMY
    assert activity["ItemRef"]["value"] == TAX_IND_ITEM
    assert (activity["Hours"], activity["Minutes"]) == (1, 15)
    assert activity["TxnDate"] == "2024-04-02"
    assert activity["BillableStatus"] == "Billable"
    assert Decimal(str(activity["HourlyRate"])) == Decimal("150")
    assert activity["Description"] == f"Prepared 1040 [PP-{firm.id}-{entry.id}]"
    entry = db.session.get(TimeEntry, entry.id)
    assert entry.qbo_time_activity_id == activity["Id"] and entry.sync_message is None
    assert entry.qbo_pushed_version == entry.version
    run = db.session.execute(db.select(SyncRun).where(SyncRun.kind == "time")).scalar_one()
    assert (run.status, run.trigger, run.counts) == ("succeeded", "approval", {"pushed": 1})
    assert [(e.action, e.result) for e in events_of(db, entry)] == [("pushed", "ok")]


def test_without_a_connection_approving_queues_nothing(app, db, browser, firm, alice, manager):
    entry = add_entry(db, firm, alice, status="submitted")
    browser.login(manager)
    browser.post("/reports/timesheets/approve", {"ids": [entry.id]})
    assert get_queue(app).count == 0
    assert db.session.execute(db.select(SyncRun)).first() is None


@pytest.mark.parametrize(("name", "email"), [
    ("Alice Nguyen", "alice@demo.example"),
    ("  alice   NGUYEN ", "Alice@Demo.Example"),
])
def test_employee_match_ignores_case_and_spacing(db, firm, connected, sbx, name, email):
    user = add_user(db, firm, name, email)
    entry = add_entry(db, firm, user)
    assert push(db, firm) == {"pushed": 1}
    [activity] = ours(sbx, firm, entry)
    assert activity["EmployeeRef"]["value"] == ALICE
    assert activity["BillableStatus"] == "NotBillable"


@pytest.mark.parametrize(("name", "email", "why"), [
    ("Bob Martinez", "bob.m@firm.example", "same name but email bob@demo.example"),
    ("Maria Lopes", "maria@demo.example", "has this email but another name"),
    ("Nobody Here", "nobody@firm.example", "no QuickBooks employee has this name and email"),
])
def test_unmatched_staff_are_held_with_the_fix(db, firm, connected, sbx, name, email, why):
    user = add_user(db, firm, name, email)
    entry = add_entry(db, firm, user)

    assert push(db, firm) == {"held": 1}

    assert ours(sbx, firm) == []
    entry = db.session.get(TimeEntry, entry.id)
    assert entry.qbo_time_activity_id is None
    assert why in entry.sync_message and name in entry.sync_message
    assert "Fix in QuickBooks Payroll" in entry.sync_message
    [event] = events_of(db, entry)
    assert (event.action, event.result) == ("held", "held") and why in event.message


def test_inactive_employee_holds_and_reactivating_it_in_qbo_releases(db, firm, connected, sbx):
    emp = qbo_write(sbx, "Employee", {"GivenName": "Ina", "FamilyName": "Active",
                                      "PrimaryEmailAddr": {"Address": "ina@firm.example"}})
    emp = qbo_write(sbx, "Employee", {"Id": emp["Id"], "SyncToken": emp["SyncToken"],
                                      "sparse": True, "Active": False})
    user = add_user(db, firm, "Ina Active", "ina@firm.example")
    entry = add_entry(db, firm, user)

    assert push(db, firm) == {"held": 1}
    assert "is inactive" in db.session.get(TimeEntry, entry.id).sync_message

    sbx.reset_counters()
    assert push(db, firm) == {}  # same reason: nothing new to log, only the list was read
    assert requests(sbx) == {"GET query": 1}
    assert len(events_of(db, entry)) == 1

    qbo_write(sbx, "Employee", {"Id": emp["Id"], "SyncToken": emp["SyncToken"],
                                "sparse": True, "Active": True})
    assert push(db, firm) == {"pushed": 1}
    [activity] = ours(sbx, firm, entry)
    assert activity["EmployeeRef"]["value"] == emp["Id"]
    assert db.session.get(TimeEntry, entry.id).sync_message is None


def test_fixing_the_email_in_qbo_payroll_lets_held_time_through(db, firm, connected, sbx):
    user = add_user(db, firm, "Bob Martinez", "bob.m@firm.example")
    entry = add_entry(db, firm, user)
    assert push(db, firm) == {"held": 1}

    bob = employee(sbx, BOB)
    qbo_write(sbx, "Employee", {"Id": BOB, "SyncToken": bob["SyncToken"], "sparse": True,
                                "PrimaryEmailAddr": {"Address": "bob.m@firm.example"}})
    assert push(db, firm) == {"pushed": 1}
    assert ours(sbx, firm, entry)[0]["EmployeeRef"]["value"] == BOB


def test_rate_mismatch_is_flagged_and_pushed_anyway(db, firm, connected, sbx, alice, make_client):
    emp = employee(sbx, ALICE)
    qbo_write(sbx, "Employee", {"Id": ALICE, "SyncToken": emp["SyncToken"], "sparse": True,
                                "BillRate": 120})
    entry = add_entry(db, firm, alice, linked_client(db, firm, make_client))

    assert push(db, firm) == {"pushed": 1, "rate_mismatch": 1}

    [activity] = ours(sbx, firm, entry)
    assert Decimal(str(activity["HourlyRate"])) == Decimal("150")
    mismatch = [e for e in events_of(db, entry) if e.action == "rate_mismatch"]
    assert len(mismatch) == 1 and mismatch[0].result == "flagged"
    assert "150.00" in mismatch[0].message and "120.00" in mismatch[0].message


def test_matching_rates_are_not_flagged(db, firm, connected, sbx, alice, make_client):
    emp = employee(sbx, ALICE)
    qbo_write(sbx, "Employee", {"Id": ALICE, "SyncToken": emp["SyncToken"], "sparse": True,
                                "BillRate": 150})
    add_entry(db, firm, alice, linked_client(db, firm, make_client))
    assert push(db, firm) == {"pushed": 1}


def test_non_billable_time_pushes_without_a_rate_or_client(db, firm, connected, sbx):
    unpaid = add_user(db, firm, "Maria Lopez", "maria@demo.example", rate="0")
    entry = add_entry(db, firm, unpaid, client=None, billable=False, description="Training")

    assert push(db, firm) == {"pushed": 1}

    [activity] = ours(sbx, firm, entry)
    assert activity["BillableStatus"] == "NotBillable"
    assert "CustomerRef" not in activity and "ItemRef" not in activity
    assert activity["EmployeeRef"]["value"] == MARIA


def test_billable_time_without_a_client_is_held_before_any_write(db, firm, connected, sbx, alice):
    entry = add_entry(db, firm, alice, client=None, billable=True)  # only possible in the DB
    sbx.reset_counters()
    assert push(db, firm) == {"rejected": 1}
    assert "POST timeactivity" not in requests(sbx)
    assert "needs a client" in db.session.get(TimeEntry, entry.id).sync_message


def test_an_unlinked_client_is_pushed_first(db, firm, connected, sbx, alice, make_client):
    client = make_client(firm, first_name="Zed", last_name="Newcomer")
    entry = add_entry(db, firm, alice, client)

    counts = push(db, firm)

    client = db.session.get(Client, client.id)
    assert client.qbo_customer_id
    [customer] = [c for c in sbx.entities(sbx.REALM_1, "Customer")
                  if c["DisplayName"] == "Zed Newcomer"]
    assert customer["Id"] == client.qbo_customer_id
    assert ours(sbx, firm, entry)[0]["CustomerRef"]["value"] == client.qbo_customer_id
    assert counts["pushed"] == 1


def test_a_code_without_a_qbo_item_goes_without_one(db, firm, connected, sbx, alice, make_client):
    category = category_of(db, firm)
    category.code = "NO-SUCH-ITEM"
    db.session.commit()
    entry = add_entry(db, firm, alice, linked_client(db, firm, make_client), category=category)
    assert push(db, firm) == {"pushed": 1}
    assert "ItemRef" not in ours(sbx, firm, entry)[0]
    assert 'named "NO-SUCH-ITEM"' in events_of(db, entry)[0].message


# -- changes after the push ---------------------------------------------------------------------
def test_an_approved_entry_changed_again_is_updated_sparsely(db, firm, connected, sbx, alice,
                                                             make_client):
    entry = add_entry(db, firm, alice, linked_client(db, firm, make_client))
    push(db, firm)
    [before] = ours(sbx, firm, entry)
    # Returned, corrected, resubmitted and approved again between two syncs.
    entry = db.session.get(TimeEntry, entry.id)
    entry.hours, entry.entry_date, entry.billable = Decimal("2.5"), date(2024, 4, 3), False
    entry.version += 4
    db.session.commit()
    sbx.reset_counters()

    assert push(db, firm) == {"updated": 1}

    [after] = ours(sbx, firm, entry)
    assert after["Id"] == before["Id"]
    assert int(after["SyncToken"]) == int(before["SyncToken"]) + 1
    assert (after["Hours"], after["Minutes"], after["TxnDate"]) == (2, 30, "2024-04-03")
    assert after["BillableStatus"] == "NotBillable"
    assert requests(sbx).get("POST timeactivity") == 1
    entry = db.session.get(TimeEntry, entry.id)
    assert entry.qbo_sync_token == after["SyncToken"]


def test_a_stale_sync_token_is_reread_and_the_update_retried(db, firm, connected, sbx, alice):
    entry = add_entry(db, firm, alice)
    push(db, firm)
    [activity] = ours(sbx, firm, entry)
    qbo_write(sbx, "TimeActivity", {"Id": activity["Id"], "SyncToken": activity["SyncToken"],
                                    "sparse": True, "Description": activity["Description"]})
    entry = db.session.get(TimeEntry, entry.id)
    entry.hours, entry.version = Decimal("3"), entry.version + 1
    db.session.commit()

    assert push(db, firm) == {"updated": 1}
    assert ours(sbx, firm, entry)[0]["Hours"] == 3


def test_returning_to_draft_deletes_the_time_activity(app, db, browser, firm, connected, sbx,
                                                       alice, manager):
    entry = add_entry(db, firm, alice)
    push(db, firm)
    assert len(ours(sbx, firm, entry)) == 1
    browser.login(manager)

    browser.post("/reports/timesheets/return", {"ids": [entry.id]})
    work(app)

    assert ours(sbx, firm, entry) == []
    entry = db.session.get(TimeEntry, entry.id)
    assert entry.status == "draft" and entry.qbo_time_activity_id is None
    assert [e.action for e in events_of(db, entry)] == ["pushed", "deleted"]

    # Submitted and approved again: a new TimeActivity, still only one.
    entry.status, entry.version = "approved", entry.version + 2
    db.session.commit()
    assert push(db, firm) == {"pushed": 1}
    assert len(ours(sbx, firm, entry)) == 1


def test_invoiced_time_is_locked_still_pushes_and_refuses_changes(
        app, db, browser, firm, connected, sbx, alice, manager, make_client):
    client = linked_client(db, firm, make_client)
    entries = [add_entry(db, firm, alice, client, category=category_of(db, firm)),
               add_entry(db, firm, alice, client, hours="2", day=date(2024, 4, 3))]
    generate_invoice_from_time(firm.id, client.id, [e.id for e in entries])
    db.session.commit()
    assert all(e.locked and e.status == "approved" for e in entries)

    assert push(db, firm) == {"pushed": 2}
    assert all(len(ours(sbx, firm, e)) == 1 for e in entries)

    browser.login(manager)
    browser.post("/reports/timesheets/return", {"ids": [entries[0].id]})
    work(app)
    entry = db.session.get(TimeEntry, entries[0].id)
    assert entry.status == "approved" and entry.locked and entry.qbo_time_activity_id
    assert len(ours(sbx, firm, entry)) == 1
    browser.logout()
    browser.login(alice)
    response = browser.post(f"/time/{entry.id}/edit", {"hours": "9"})
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.get(TimeEntry, entry.id).hours == Decimal("1.25")
    sbx.reset_counters()
    assert push(db, firm) == {}
    assert requests(sbx) == {}


def test_timesheets_sync_filter_shows_waiting_and_held_entries(db, browser, firm, connected, sbx,
                                                               alice, manager):
    waiting = add_entry(db, firm, alice, description="Waiting entry")
    stranger = add_user(db, firm, "Nobody Here", "nobody@firm.example")
    add_entry(db, firm, stranger, description="Held entry")
    browser.login(manager)
    url = "/reports/timesheets?period=all&sync="

    page = browser.get(url + "pending").get_data(as_text=True)
    assert "Waiting entry" in page and "Held entry" in page  # neither tried yet

    push(db, firm)
    page = browser.get(url + "attention").get_data(as_text=True)
    assert "Held entry" in page and "Waiting entry" not in page
    page = browser.get(url + "pushed").get_data(as_text=True)
    assert "Waiting entry" in page and "Held entry" not in page
    page = browser.get(url + "pending").get_data(as_text=True)
    assert "Waiting entry" not in page and "Held entry" not in page
    assert waiting.id
