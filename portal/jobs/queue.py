"""The RQ queue and the one way to ask for a per-firm sync.

Views and the hourly fan-out call `enqueue_firm_sync`; nothing else builds RQ jobs for syncs.
"""

from __future__ import annotations

from flask import Flask, current_app
from rq import Queue

from portal.models import SyncRun
from portal.redis_conn import get_redis

FIRM_SYNC_KIND = "firm_sync"
RESULT_TTL = 24 * 3600  # keep finished jobs a day: enough to inspect, not a memory leak
FAILURE_TTL = 7 * 24 * 3600


def get_queue(app: Flask | None = None) -> Queue:
    """The portal's RQ queue (named by RQ_QUEUE) on the app's Redis."""
    app = app or current_app
    return Queue(
        app.config["RQ_QUEUE"],
        connection=get_redis(app),
        default_timeout=app.config["SYNC_JOB_TIMEOUT"],
    )


def enqueue_firm_sync(firm_id: int, trigger: str, requested_by_id: int | None = None) -> SyncRun:
    """Record a queued SyncRun for the firm and enqueue the per-firm sync job for it.

    Commits: the run row must be visible to a worker before the job can possibly start, so
    this function owns its transaction (call it after the caller's own changes are committed).
    If Redis refuses the job, the run is marked failed and the error is re-raised.
    """
    from portal.jobs.firm_sync import FIRM_SYNC, run_firm_sync
    from portal.jobs.runs import enqueue_run

    # Job id "firm-sync-<firm>-run-<run>": readable and unique (RQ forbids ':' in ids).
    return enqueue_run(FIRM_SYNC, firm_id, run_firm_sync, trigger, requested_by_id,
                       f"firm-sync-{firm_id}-", job_kwargs={"trigger": trigger})
