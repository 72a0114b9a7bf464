"""The periodic schedule (DESIGN J1): fixed ids, idempotent registration, real rq-scheduler."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal.jobs.queue import get_queue
from portal.jobs.schedule import (
    PERIODIC_JOBS,
    make_scheduler,
    register_schedules,
    scheduled_job_ids,
)
from portal.redis_conn import get_redis

# crontab warns (attributed to its caller, rq_scheduler.utils) that a future release changes
# its default timezone; rq-scheduler passes UTC-converted times, so only that warning is muted.
# (pyproject's "crontab.*" filter does not match: the warning is attributed to the caller.)
pytestmark = pytest.mark.filterwarnings(
    r"ignore:Version 0\.22\.0\+ of crontab:FutureWarning:rq_scheduler\.utils"
)


@pytest.fixture
def redis(app):
    client = get_redis(app)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def test_periodic_job_ids_are_fixed_and_valid_rq_ids():
    ids = [job.id for job in PERIODIC_JOBS]
    assert "hourly-firm-sync" in ids
    assert len(ids) == len(set(ids))
    assert all(":" not in job_id for job_id in ids)


def test_registering_twice_schedules_once(app, redis):
    first = make_scheduler(app)
    assert register_schedules(first, app) == ["hourly-firm-sync"]
    # A restarted scheduler process registers again with a new Scheduler object.
    register_schedules(make_scheduler(app), app)

    scheduler = make_scheduler(app)
    assert scheduled_job_ids(scheduler) == ["hourly-firm-sync"]
    assert scheduler.count() == 1
    [job] = scheduler.get_jobs()
    assert job.func_name == "portal.jobs.fanout.run_hourly_fanout"
    assert job.origin == app.config["RQ_QUEUE"]
    assert job.meta["cron_string"] == app.config["SYNC_INTERVAL_CRON"] == "0 * * * *"


def test_hourly_job_is_due_within_the_hour(app, redis):
    scheduler = make_scheduler(app)
    register_schedules(scheduler, app)
    [(job, when)] = scheduler.get_jobs(with_times=True)
    now = datetime.now(UTC).replace(tzinfo=None)
    assert now < when <= now + timedelta(hours=1)
    assert (when.minute, when.second) == (0, 0)


def test_re_registering_applies_a_changed_cron(app, redis):
    register_schedules(make_scheduler(app), app)
    app.config["SYNC_INTERVAL_CRON"] = "*/15 * * * *"
    register_schedules(make_scheduler(app), app)

    scheduler = make_scheduler(app)
    [job] = scheduler.get_jobs()
    assert job.id == "hourly-firm-sync"
    assert job.meta["cron_string"] == "*/15 * * * *"


def test_a_due_schedule_is_enqueued_once_and_rescheduled(app, redis):
    scheduler = make_scheduler(app)
    register_schedules(scheduler, app)
    [job] = scheduler.get_jobs()
    scheduler.change_execution_time(job, datetime.now(UTC).replace(tzinfo=None)
                                    - timedelta(minutes=1))

    scheduler.enqueue_jobs()

    assert get_queue(app).job_ids == ["hourly-firm-sync"]
    # Still scheduled (for the next hour), still exactly once.
    assert scheduled_job_ids(scheduler) == ["hourly-firm-sync"]
    scheduler.enqueue_jobs()
    assert get_queue(app).count == 1
