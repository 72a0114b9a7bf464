"""The RQ queue and the one way to ask for a per-firm sync.

Views and the hourly fan-out call `enqueue_firm_sync`; nothing else builds RQ jobs for syncs.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app
from rq import Queue

from portal.extensions import db
from portal.jobs import kv
from portal.models import SyncRun
from portal.models._common import utcnow
from portal.redis_conn import get_redis

log = logging.getLogger("portal.jobs")

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


def firm_sync_job_id(firm_id: int, run_id: int) -> str:
    """A readable, unique RQ job id (RQ forbids ':' in ids)."""
    return f"firm-sync-{firm_id}-run-{run_id}"


def enqueue_firm_sync(firm_id: int, trigger: str, requested_by_id: int | None = None) -> SyncRun:
    """Record a queued SyncRun for the firm and enqueue the per-firm sync job for it.

    Commits: the run row must be visible to a worker before the job can possibly start, so
    this function owns its transaction (call it after the caller's own changes are committed).
    If Redis refuses the job, the run is marked failed and the error is re-raised.
    """
    from portal.jobs.firm_sync import run_firm_sync

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    run = SyncRun(
        firm_id=firm_id,
        kind=FIRM_SYNC_KIND,
        trigger=trigger,
        status="queued",
        requested_by_id=requested_by_id,
        counts={},
    )
    db.session.add(run)
    db.session.flush()
    run.job_id = firm_sync_job_id(firm_id, run.id)
    db.session.commit()
    try:
        get_queue(app).enqueue(
            run_firm_sync,
            kwargs={"firm_id": firm_id, "run_id": run.id, "trigger": trigger},
            job_id=run.job_id,
            job_timeout=app.config["SYNC_JOB_TIMEOUT"],
            result_ttl=RESULT_TTL,
            failure_ttl=FAILURE_TTL,
            description=f"firm sync firm={firm_id} run={run.id} trigger={trigger}",
        )
    except Exception as exc:
        run.status = "failed"
        run.finished_at = utcnow()
        run.message = f"Could not queue the sync: {type(exc).__name__}."
        db.session.commit()
        log.error(kv(job="firm_sync", firm=firm_id, run=run.id, state="enqueue_failed",
                     error=type(exc).__name__))
        raise
    log.info(kv(job="firm_sync", firm=firm_id, run=run.id, state="queued", trigger=trigger,
                rq_job=run.job_id))
    return run
