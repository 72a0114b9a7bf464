"""RQ entry point for pushing time to QBO soon after approval, and the one way to enqueue it.

The hourly per-firm sync pushes time too (``firm_sync.sync_time_step``); this job exists so a
manager who approves (or returns) entries sees them in QuickBooks within seconds, not within
the hour. Thin on purpose (STYLE 5): ids in, the per-firm lock (busy -> skipped and said so;
the hourly run or the next approval carries the entries, J2), a call into
``portal.qbo.sync.time``, the SyncRun, a raise on failure.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from flask import current_app

from portal.extensions import db
from portal.jobs import job_context, kv
from portal.jobs.firm_sync import MESSAGE_LIMIT, SKIPPED_NOT_CONNECTED
from portal.jobs.locks import hold_firm_lock
from portal.jobs.queue import FAILURE_TTL, RESULT_TTL, get_queue
from portal.models import Firm, QboConnection, SyncRun
from portal.models._common import utcnow

log = logging.getLogger("portal.jobs")

TIME_KIND = "time"
SKIPPED_BUSY_TIME = (
    "Another sync for this firm was running, so this push was skipped; the hourly sync sends "
    "these entries (or press Sync now on the Integrations tab)."
)


def firm_is_connected(firm_id: int) -> bool:
    status = db.session.execute(
        db.select(QboConnection.status).where(QboConnection.firm_id == firm_id)
    ).scalar_one_or_none()
    return status == "connected"


def enqueue_time_push(firm_id: int, trigger: str = "approval",
                      entry_ids: Iterable[int] | None = None,
                      requested_by_id: int | None = None) -> SyncRun:
    """Commit a queued SyncRun (kind "time"), then enqueue ``push_time`` for it.

    Call after the caller's own changes are committed: the worker must see them. If Redis
    refuses the job the run is marked failed and the error re-raised.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    ids = sorted(set(entry_ids)) if entry_ids is not None else None
    run = SyncRun(firm_id=firm_id, kind=TIME_KIND, trigger=trigger, status="queued", counts={},
                  requested_by_id=requested_by_id)
    db.session.add(run)
    db.session.flush()
    run.job_id = f"time-push-{firm_id}-run-{run.id}"
    db.session.commit()
    try:
        get_queue(app).enqueue(
            push_time, kwargs={"firm_id": firm_id, "run_id": run.id, "entry_ids": ids},
            job_id=run.job_id, job_timeout=app.config["SYNC_JOB_TIMEOUT"],
            result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL,
            description=f"time push firm={firm_id} run={run.id} trigger={trigger}")
    except Exception as exc:
        _finish(run, "failed", f"Could not queue the time push: {type(exc).__name__}.")
        raise
    log.info(kv(job="push_time", firm=firm_id, run=run.id, state="queued", trigger=trigger,
                entries=len(ids) if ids is not None else "all"))
    return run


def push_time(firm_id: int, run_id: int, entry_ids: list[int] | None = None) -> str:
    """RQ entry point: push due time of one firm (or only ``entry_ids``). Raises on failure."""
    from portal.qbo.sync import time as time_sync

    with job_context() as app:
        if db.session.get(Firm, firm_id) is None:
            raise LookupError(f"firm {firm_id} does not exist")
        run = db.session.get(SyncRun, run_id)
        if run is None or run.firm_id != firm_id:
            raise LookupError(f"sync run {run_id} of firm {firm_id} does not exist")
        with hold_firm_lock(firm_id, app) as acquired:
            if not acquired:
                return _finish(run, "skipped", SKIPPED_BUSY_TIME)
            if not firm_is_connected(firm_id):
                return _finish(run, "skipped", SKIPPED_NOT_CONNECTED)
            run.status, run.started_at, run.message = "running", utcnow(), None
            db.session.commit()
            log.info(kv(job="push_time", firm=firm_id, run=run_id, state="running"))
            try:
                counts = time_sync.push_time(firm_id, run, entry_ids=entry_ids)
            except Exception as exc:
                db.session.rollback()
                failed = db.session.get(SyncRun, run_id)
                _finish(failed, "failed", f"{type(exc).__name__}: {exc}"[:MESSAGE_LIMIT],
                        error=type(exc).__name__)
                raise
            run.counts = dict(counts)
            return _finish(run, "succeeded", None, **counts)


def _finish(run: SyncRun, status: str, message: str | None, **fields: object) -> str:
    run.status, run.message, run.finished_at = status, message, utcnow()
    db.session.commit()
    line = kv(job="push_time", firm=run.firm_id, run=run.id, state=status, **fields)
    (log.error if status == "failed" else log.info)(line)
    return status
