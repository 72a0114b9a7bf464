"""Periodic jobs, declared as data and registered under fixed ids (DESIGN J1).

Every rq-scheduler call in the portal lives in this module. Registering is idempotent: each
declared job is cancelled and re-created under its fixed id, so running the scheduler twice
(or restarting it) leaves exactly one scheduled job per id, with the current cron string.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask, current_app
from rq_scheduler import Scheduler

from portal.jobs import kv
from portal.redis_conn import get_redis

log = logging.getLogger("portal.jobs")


@dataclass(frozen=True)
class PeriodicJob:
    id: str  # fixed; RQ ids may not contain ':'
    func: str  # import path, so registering does not import the job's dependencies
    cron_setting: str  # the config key that holds the cron string
    timeout: int  # seconds
    description: str


PERIODIC_JOBS: tuple[PeriodicJob, ...] = (
    PeriodicJob(
        id="hourly-firm-sync",
        func="portal.jobs.fanout.run_hourly_fanout",
        cron_setting="SYNC_INTERVAL_CRON",
        timeout=600,
        description="Queue a QuickBooks sync for every connected firm",
    ),
)


def make_scheduler(app: Flask | None = None, interval: int = 30) -> Scheduler:
    """An rq-scheduler Scheduler that enqueues into the portal's queue on the app's Redis."""
    app = app or current_app
    return Scheduler(queue_name=app.config["RQ_QUEUE"], connection=get_redis(app),
                     interval=interval)


def register_schedules(scheduler: Scheduler, app: Flask | None = None) -> list[str]:
    """Declare every periodic job on `scheduler`; returns the registered ids."""
    app = app or current_app
    registered = []
    for job in PERIODIC_JOBS:
        if job.id in scheduler:
            scheduler.cancel(job.id)
        cron = app.config[job.cron_setting]
        scheduler.cron(
            cron,
            func=job.func,
            id=job.id,
            queue_name=app.config["RQ_QUEUE"],
            timeout=job.timeout,
            description=job.description,
        )
        registered.append(job.id)
        log.info(kv(schedule=job.id, cron=cron, state="registered"))
    return registered


def scheduled_job_ids(scheduler: Scheduler) -> list[str]:
    """Ids of the jobs currently scheduled (for tests and diagnostics)."""
    return [job.id for job in scheduler.get_jobs()]


def run_scheduler(app: Flask) -> None:
    """Register the schedules, then run rq-scheduler until SIGINT/SIGTERM."""
    scheduler = make_scheduler(app)
    register_schedules(scheduler, app)
    log.info(kv(scheduler=scheduler.name, queue=app.config["RQ_QUEUE"], state="running"))
    scheduler.run()
