"""Time push exactly once under faults (commit then drop, a worker dying mid-push, 5xx, 429),
what a run costs (Employee list read once, batches of 30) and a quiet hour costing nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal.jobs.queue import enqueue_firm_sync
from portal.models import SyncRun, TimeEntry
from portal.qbo.errors import TransportError
from portal.qbo.sync.time import PLANNED
from tests.qbo_support import (  # noqa: F401 - fixtures
    _connected,
    _sandbox_server,
    _sbx,
)
from tests.test_time_sync import (  # noqa: F401 - the module's app fixture and helpers
    _alice,
    _app,
    add_entry,
    add_user,
    events_of,
    linked_client,
    ours,
    push,
    requests,
    work,
)


def _many(db, firm, user, client, n: int, start: date = date(2024, 5, 1)) -> list[TimeEntry]:
    return [add_entry(db, firm, user, client, hours="1.5", day=start + timedelta(days=i % 5),
                      description=f"Work {i}") for i in range(n)]


def assert_exactly_once(sbx, firm, entries) -> None:
    for entry in entries:
        assert len(ours(sbx, firm, entry)) == 1, f"entry {entry.id}"
    assert len(ours(sbx, firm)) == len(entries)


@pytest.mark.parametrize("count", [1, 3])
def test_commit_then_drop_on_a_single_create_is_replayed(db, firm, connected, sbx, alice, count):
    entry = add_entry(db, firm, alice)
    sbx.inject_fault("commit_then_drop", count=count, path="/timeactivity", method="POST")

    assert push(db, firm) == {"pushed": 1}

    assert_exactly_once(sbx, firm, [entry])
    assert sbx.counters()["entities_created"].get("TimeActivity") == 1


def test_commit_then_drop_on_a_batch_is_replayed(db, firm, connected, sbx, alice, make_client):
    entries = _many(db, firm, alice, linked_client(db, firm, make_client), 12)
    sbx.inject_fault("commit_then_drop", count=1, path="/batch", drop="502")

    assert push(db, firm) == {"pushed": 12}

    assert_exactly_once(sbx, firm, entries)
    assert requests(sbx)["POST batch"] == 2  # the dropped answer, then its replay


def test_a_push_that_dies_after_qbo_committed_is_adopted_not_repeated(db, firm, connected, sbx,
                                                                      alice, make_client):
    client = linked_client(db, firm, make_client)
    entries = _many(db, firm, alice, client, 5)
    # Every attempt commits (or replays) and loses the answer: the run gives up, as a worker
    # killed between QBO's answer and our commit would.
    sbx.inject_fault("commit_then_drop", count=10, path="/batch")
    with pytest.raises(TransportError):
        push(db, firm)
    db.session.rollback()
    db.session.expire_all()
    assert all(db.session.get(TimeEntry, e.id).qbo_sync_token.startswith(PLANNED)
               for e in entries)
    assert all(db.session.get(TimeEntry, e.id).qbo_time_activity_id is None for e in entries)
    sbx.clear_faults()
    # The next run plans a different batch (one more entry): a new requestid, so only the
    # look-up by employee, date and marker can prevent duplicates.
    entries.append(add_entry(db, firm, alice, client, day=date(2024, 5, 2), description="Late"))
    sbx.reset_counters()

    counts = push(db, firm)

    assert counts == {"linked": 5, "pushed": 1}
    assert_exactly_once(sbx, firm, entries)
    assert sbx.counters()["entities_created"].get("TimeActivity") == 1
    for entry in entries:
        stored = db.session.get(TimeEntry, entry.id)
        assert stored.qbo_time_activity_id == ours(sbx, firm, entry)[0]["Id"]
        assert stored.qbo_pushed_version == stored.version


@pytest.mark.parametrize("kind", ["500", "503", "429"])
def test_server_errors_and_throttles_are_retried_without_duplicates(db, firm, connected, sbx,
                                                                    alice, make_client, kind):
    entries = _many(db, firm, alice, linked_client(db, firm, make_client), 31)
    sbx.inject_fault(kind, count=2, path="/batch")

    assert push(db, firm) == {"pushed": 31}

    assert_exactly_once(sbx, firm, entries)


def test_a_run_reads_the_employee_list_once_and_writes_in_batches_of_30(db, firm, connected,
                                                                        sbx, alice, make_client):
    maria = add_user(db, firm, "Maria Lopez", "maria@demo.example")
    client = linked_client(db, firm, make_client)
    entries = _many(db, firm, alice, client, 25) + _many(db, firm, maria, client, 25)
    sbx.reset_counters()

    assert push(db, firm) == {"pushed": 50}

    calls = requests(sbx)
    assert calls == {"GET query": 1, "POST batch": 2}  # Employee list; no codes -> no Item query
    assert_exactly_once(sbx, firm, entries)


def test_an_hour_with_no_changes_spends_no_calls(app, db, firm, connected, sbx, alice,
                                                 make_client):
    add_entry(db, firm, alice, linked_client(db, firm, make_client))
    add_entry(db, firm, alice, None, description="internal",
              billable=False)
    held = add_user(db, firm, "Nobody Here", "nobody@firm.example")
    add_entry(db, firm, held, status="draft")  # drafts are nobody's business in QBO
    push(db, firm)
    sbx.reset_counters()

    enqueue_firm_sync(firm.id, "schedule")
    work(app)

    run = db.session.execute(
        db.select(SyncRun).where(SyncRun.kind == "firm_sync")).scalar_one()
    assert run.status == "succeeded"
    assert sbx.counters()["requests"] == {}


def test_the_hourly_firm_sync_pushes_time_after_clients(app, db, firm, connected, sbx, alice,
                                                        make_client):
    client = make_client(firm, first_name="Hour", last_name="Lyclient")
    entry = add_entry(db, firm, alice, client)

    enqueue_firm_sync(firm.id, "schedule")
    work(app)

    run = db.session.execute(
        db.select(SyncRun).where(SyncRun.kind == "firm_sync")).scalar_one()
    assert run.status == "succeeded", run.message
    assert run.counts["time"] == {"pushed": 1}
    assert len(ours(sbx, firm, entry)) == 1
    assert [e.action for e in events_of(db, entry)] == ["pushed"]
