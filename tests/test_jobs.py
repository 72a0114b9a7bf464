"""Background jobs against real Redis (embedded, or REDIS_URL in CI) and real RQ workers.

Jobs run in a worker with their own app context and DB session (portal.jobs.job_context), so
these tests use a database file (or DATABASE_URL; tests/rq_support.py) rather than the suite's
in-memory SQLite: the job's session and the test's are then two real connections, as in
production.
`rq.SimpleWorker` runs jobs in this process; a job finds the test's app because an app context
is pushed (portal.jobs.job_app). One test runs the real forking PortalWorker.
"""

from __future__ import annotations

import logging
import time

import pytest
from rq.job import Job, JobStatus

from portal.extensions import db as _db
from portal.jobs import firm_sync, runs
from portal.jobs.fanout import run_hourly_fanout
from portal.jobs.firm_sync import SKIPPED_BUSY, SKIPPED_NOT_CONNECTED, SyncStep, run_firm_sync
from portal.jobs.locks import firm_lock, firm_lock_name, firm_sync_running
from portal.jobs.queue import enqueue_firm_sync, get_queue
from portal.jobs.time_jobs import enqueue_time_push
from portal.jobs.worker_setup import run_worker
from portal.models import QboConnection, SyncRun
from tests.rq_support import _closing_redis, _file_app, work  # noqa: F401 - fixtures


@pytest.fixture
def connect(db):
    def connect(firm, status: str = "connected") -> QboConnection:
        conn = QboConnection(firm_id=firm.id, realm_id=f"realm-{firm.id}", status=status)
        db.session.add(conn)
        db.session.commit()
        return conn

    return connect


@pytest.fixture
def recorded_steps(monkeypatch):
    """Replace the placeholder steps with ones that record their calls (and can fail)."""
    calls: list[tuple[str, int]] = []
    failing: dict[str, Exception] = {}

    def make(name):
        def step(firm_id, run):
            calls.append((name, firm_id))
            if name in failing:
                raise failing[name]
            return {"checked": 2}

        return SyncStep(name, step)

    monkeypatch.setattr(firm_sync, "STEPS", [make(n) for n in ("clients", "invoices", "time")])
    return calls, failing


def runs_of(firm) -> list[SyncRun]:
    _db.session.expire_all()
    return list(
        _db.session.execute(
            _db.select(SyncRun).where(SyncRun.firm_id == firm.id).order_by(SyncRun.id)
        ).scalars()
    )


def test_enqueue_records_a_queued_run_with_its_rq_job(app, redis, firm, admin):
    run = enqueue_firm_sync(firm.id, "button", requested_by_id=admin.id)

    [stored] = runs_of(firm)
    assert stored.id == run.id
    assert (stored.status, stored.trigger, stored.kind) == ("queued", "button", "firm_sync")
    assert stored.requested_by_id == admin.id
    assert ":" not in stored.job_id
    queue = get_queue(app)
    assert queue.job_ids == [stored.job_id]
    job = queue.fetch_job(stored.job_id)
    assert job.kwargs == {"firm_id": firm.id, "run_id": run.id, "trigger": "button"}
    assert job.timeout == app.config["SYNC_JOB_TIMEOUT"]


class RefusingQueue:
    """A queue whose Redis is down."""

    def enqueue(self, *args, **kwargs):
        raise ConnectionError("Redis is down")


def test_a_refused_enqueue_fails_the_run_and_says_why(app, redis, firm, monkeypatch, caplog):
    monkeypatch.setattr(runs, "get_queue", lambda app=None: RefusingQueue())
    caplog.set_level(logging.INFO, logger="portal.jobs")

    with pytest.raises(ConnectionError):
        enqueue_firm_sync(firm.id, "button")
    with pytest.raises(ConnectionError):
        enqueue_time_push(firm.id, "approval", [7])

    sync, time_push = runs_of(firm)
    assert (sync.status, sync.message) == ("failed", "Could not queue the sync: ConnectionError.")
    assert (time_push.status, time_push.message) == (
        "failed", "Could not queue the time push: ConnectionError.")
    assert sync.finished_at is not None and time_push.finished_at is not None
    assert (f"job=firm_sync firm={firm.id} run={sync.id} state=enqueue_failed "
            "error=ConnectionError") in caplog.text
    assert f"job=push_time firm={firm.id} run={time_push.id} state=failed\n" in caplog.text


def test_worker_runs_a_firm_sync_end_to_end(app, redis, firm, connect, recorded_steps, caplog):
    calls, _ = recorded_steps
    connect(firm)
    caplog.set_level(logging.INFO, logger="portal.jobs")
    run = enqueue_firm_sync(firm.id, "button")
    run_id, job_id = run.id, run.job_id

    work(app, redis)

    [done] = runs_of(firm)
    assert done.id == run_id
    assert done.status == "succeeded"
    assert done.finished_at is not None and done.finished_at >= done.started_at
    assert (done.progress_done, done.progress_total) == (3, 3)
    assert done.counts == {"clients": {"checked": 2}, "invoices": {"checked": 2},
                           "time": {"checked": 2}}
    assert calls == [("clients", firm.id), ("invoices", firm.id), ("time", firm.id)]
    assert Job.fetch(job_id, connection=redis).get_status() == JobStatus.FINISHED
    assert not firm_sync_running(firm.id, app)
    assert (f"job=firm_sync firm={firm.id} run={run_id} trigger=button state=succeeded "
            "clients_checked=2") in caplog.text


def test_the_placeholder_steps_succeed(app, redis, firm, connect):
    connect(firm)
    enqueue_firm_sync(firm.id, "schedule")
    work(app, redis)
    [done] = runs_of(firm)
    assert done.status == "succeeded"
    assert set(done.counts) == {"clients", "invoices", "time"}


def test_a_busy_lock_skips_the_run_and_says_so(app, redis, firm, connect, recorded_steps):
    calls, _ = recorded_steps
    connect(firm)
    other = firm_lock(firm.id, app)
    assert other.acquire(blocking=False)  # a run of this firm is in progress elsewhere
    enqueue_firm_sync(firm.id, "button")

    work(app, redis)

    [skipped] = runs_of(firm)
    assert skipped.status == "skipped"
    assert skipped.message == "Another sync for this firm is running; this run was skipped."
    assert skipped.message == SKIPPED_BUSY
    assert skipped.finished_at is not None
    assert calls == []  # no second run happened
    assert get_queue(app).count == 0  # and nothing was queued behind the busy one
    assert firm_sync_running(firm.id, app)  # the other run's lock is untouched

    other.release()
    enqueue_firm_sync(firm.id, "button")
    work(app, redis)
    assert [r.status for r in runs_of(firm)] == ["skipped", "succeeded"]


def test_the_lock_of_one_firm_does_not_block_another(app, redis, make_firm, connect):
    busy, free = make_firm("Busy"), make_firm("Free")
    connect(busy)
    connect(free)
    assert firm_lock(busy.id, app).acquire(blocking=False)
    enqueue_firm_sync(busy.id, "schedule")
    enqueue_firm_sync(free.id, "schedule")
    work(app, redis)
    assert [r.status for r in runs_of(busy)] == ["skipped"]
    assert [r.status for r in runs_of(free)] == ["succeeded"]


def test_the_lock_outlives_the_job_timeout_and_expires(app, redis, firm, connect):
    assert app.config["SYNC_LOCK_TTL"] > app.config["SYNC_JOB_TIMEOUT"]
    connect(firm)
    dead_worker = firm_lock(firm.id, app)
    assert dead_worker.acquire(blocking=False)
    ttl_ms = redis.pttl(firm_lock_name(firm.id))
    assert app.config["SYNC_LOCK_TTL"] * 1000 - 5000 < ttl_ms <= app.config["SYNC_LOCK_TTL"] * 1000

    # The worker that took it died without releasing; fast-forward its expiry.
    redis.pexpire(firm_lock_name(firm.id), 30)
    time.sleep(0.1)
    assert run_firm_sync(firm.id, trigger="schedule") == "succeeded"


def test_a_failing_step_fails_the_run_and_the_rq_job(app, redis, firm, connect, recorded_steps):
    calls, failing = recorded_steps
    failing["invoices"] = RuntimeError("QBO said no")
    connect(firm)
    run = enqueue_firm_sync(firm.id, "button")
    job_id = run.job_id

    work(app, redis)

    [failed] = runs_of(firm)
    assert failed.status == "failed"
    assert failed.message == "The invoices step failed: RuntimeError: QBO said no"
    assert failed.finished_at is not None
    assert failed.counts == {"clients": {"checked": 2}}  # the step that ran is recorded
    assert [name for name, _ in calls] == ["clients", "invoices"]  # time never ran
    job = Job.fetch(job_id, connection=redis)
    assert job.get_status() == JobStatus.FAILED
    assert job_id in get_queue(app).failed_job_registry.get_job_ids()
    assert not firm_sync_running(firm.id, app)  # the lock is released on failure too


def test_a_direct_call_raises_on_failure(app, redis, firm, connect, recorded_steps):
    _, failing = recorded_steps
    failing["clients"] = ValueError("bad data")
    connect(firm)
    with pytest.raises(ValueError, match="bad data"):
        run_firm_sync(firm.id, trigger="button")
    [failed] = runs_of(firm)
    assert failed.status == "failed"
    assert "clients" in failed.message


@pytest.mark.parametrize("status", ["needs_reconnect", "disconnected", None])
def test_a_firm_without_a_live_connection_is_skipped(app, redis, firm, connect, recorded_steps,
                                                     status):
    calls, _ = recorded_steps
    if status:
        connect(firm, status)
    enqueue_firm_sync(firm.id, "button")
    work(app, redis)
    [skipped] = runs_of(firm)
    assert (skipped.status, skipped.message) == ("skipped", SKIPPED_NOT_CONNECTED)
    assert calls == []


def test_a_missing_firm_fails_the_job(app, redis):
    with pytest.raises(LookupError):
        run_firm_sync(999_999)


def test_fanout_enqueues_one_job_per_connected_firm(app, redis, make_firm, connect):
    firms = {name: make_firm(name) for name in ("A", "B", "C", "D", "E")}
    connect(firms["A"])
    connect(firms["B"], "needs_reconnect")
    connect(firms["C"], "disconnected")
    connect(firms["E"])  # D has no connection at all
    ids = {name: firm.id for name, firm in firms.items()}

    assert run_hourly_fanout() == 2

    jobs = get_queue(app).get_jobs()
    assert sorted(job.kwargs["firm_id"] for job in jobs) == sorted([ids["A"], ids["E"]])
    assert all(job.kwargs["trigger"] == "schedule" for job in jobs)
    _db.session.expire_all()
    runs = _db.session.execute(_db.select(SyncRun)).scalars().all()
    assert sorted(r.firm_id for r in runs) == sorted([ids["A"], ids["E"]])
    assert {r.status for r in runs} == {"queued"}


def test_fanout_then_per_firm_jobs_through_the_worker(app, redis, make_firm, connect):
    a, b = make_firm("A"), make_firm("B")
    connect(a)
    connect(b, "needs_reconnect")
    get_queue(app).enqueue("portal.jobs.fanout.run_hourly_fanout")

    work(app, redis)  # runs the fan-out, then the per-firm job it queued

    assert [r.status for r in runs_of(a)] == ["succeeded"]
    assert runs_of(b) == []


def test_the_forking_worker_runs_jobs_with_its_own_db_connections(app, redis, firm, connect):
    connect(firm)
    # The parent has a pooled connection checked in: the horse must not reuse it.
    _db.session.execute(_db.select(SyncRun)).all()
    _db.session.commit()
    run = enqueue_firm_sync(firm.id, "schedule")
    run_id, job_id = run.id, run.job_id

    run_worker(app, burst=True)

    [done] = runs_of(firm)
    assert (done.id, done.status) == (run_id, "succeeded")
    assert Job.fetch(job_id, connection=redis).get_status() == JobStatus.FINISHED
    # The parent's own connection still works after the horse exited.
    assert _db.session.execute(_db.select(SyncRun.status)).scalar_one() == "succeeded"
