"""RQ entry point for pushing invoices ("Sync Invoices", "Push to QuickBooks"), and the one
way to enqueue it.

Thin on purpose (STYLE 5): ids in, the per-firm lock (a busy lock skips and says so, J2), a
call into ``portal.qbo.sync.invoices``, the SyncRun kept up to date, a raise on failure. The
hourly per-firm sync calls the same push from ``firm_sync.sync_invoices_step`` inside its own
lock and run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from flask import current_app

from portal.extensions import db
from portal.jobs import job_context, kv
from portal.jobs.firm_sync import MESSAGE_LIMIT, SKIPPED_BUSY, SKIPPED_NOT_CONNECTED
from portal.jobs.locks import hold_firm_lock
from portal.jobs.queue import FAILURE_TTL, RESULT_TTL, get_queue
from portal.models import Firm, QboConnection, SyncRun
from portal.models._common import utcnow

log = logging.getLogger("portal.jobs")

KIND = "invoices"


def _job_prefix(firm_id: int, invoice_ids: list[int] | None) -> str:
    if invoice_ids is None:
        return f"invoices-push-{firm_id}-all-"
    return f"invoices-push-{firm_id}-i{'-'.join(map(str, invoice_ids))}-"[:80]


def queued_run(firm_id: int, invoice_ids: list[int] | None) -> SyncRun | None:
    """A push still waiting in the queue that covers these invoices (repeated clicks coalesce)."""
    prefixes = [_job_prefix(firm_id, None)]
    if invoice_ids is not None:
        prefixes.append(_job_prefix(firm_id, invoice_ids))
    stmt = (db.select(SyncRun)
            .where(SyncRun.firm_id == firm_id, SyncRun.kind == KIND, SyncRun.status == "queued",
                   db.or_(*[SyncRun.job_id.like(f"{p}%") for p in prefixes]))
            .order_by(SyncRun.id.desc()))
    return db.session.execute(stmt).scalars().first()


def enqueue_invoice_push(firm_id: int, trigger: str = "button",
                         invoice_ids: Iterable[int] | None = None,
                         requested_by_id: int | None = None) -> tuple[SyncRun, bool]:
    """Commit a queued SyncRun and enqueue ``push_invoices`` for it; (run, newly queued).

    Owns its transaction: the run row must be visible to a worker before the job can start.
    """
    ids = sorted(set(invoice_ids)) if invoice_ids is not None else None
    existing = queued_run(firm_id, ids)
    if existing is not None:
        return existing, False
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    run = SyncRun(firm_id=firm_id, kind=KIND, trigger=trigger, status="queued", counts={},
                  requested_by_id=requested_by_id)
    db.session.add(run)
    db.session.flush()
    run.job_id = f"{_job_prefix(firm_id, ids)}run-{run.id}"
    db.session.commit()
    try:
        get_queue(app).enqueue(
            push_invoices,
            kwargs={"firm_id": firm_id, "run_id": run.id, "invoice_ids": ids},
            job_id=run.job_id,
            job_timeout=app.config["SYNC_JOB_TIMEOUT"],
            result_ttl=RESULT_TTL,
            failure_ttl=FAILURE_TTL,
            description=f"push invoices firm={firm_id} run={run.id}",
        )
    except Exception as exc:
        _finish(run, "failed", f"Could not queue the push: {type(exc).__name__}.")
        raise
    log.info(kv(job="push_invoices", firm=firm_id, run=run.id, state="queued", trigger=trigger,
                invoices="all" if ids is None else len(ids)))
    return run, True


def push_invoices(firm_id: int, run_id: int, invoice_ids: list[int] | None = None) -> str:
    """RQ entry point: push the firm's NEW invoices (or only ``invoice_ids``).

    Returns the run's final status (succeeded / skipped); raises on failure.
    """
    from portal.qbo.sync import invoices

    with job_context() as app:
        if db.session.get(Firm, firm_id) is None:
            raise LookupError(f"firm {firm_id} does not exist")
        run = db.session.get(SyncRun, run_id)
        if run is None or run.firm_id != firm_id:
            raise LookupError(f"sync run {run_id} of firm {firm_id} does not exist")
        with hold_firm_lock(firm_id, app) as acquired:
            if not acquired:
                return _finish(run, "skipped", SKIPPED_BUSY)
            status = db.session.execute(db.select(QboConnection.status)
                                        .where(QboConnection.firm_id == firm_id)).scalar()
            if status != "connected":
                return _finish(run, "skipped", SKIPPED_NOT_CONNECTED)
            run.status, run.started_at, run.message = "running", utcnow(), None
            db.session.commit()
            log.info(kv(job="push_invoices", firm=firm_id, run=run_id, state="running"))
            try:
                counts = invoices.push_invoices(firm_id, run, invoice_ids=invoice_ids,
                                                progress=_progress(run))
            except Exception as exc:
                db.session.rollback()
                failed = db.session.get(SyncRun, run_id)
                _finish(failed, "failed", f"{type(exc).__name__}: {exc}"[:MESSAGE_LIMIT])
                raise
            run.counts = dict(counts)
            return _finish(run, "succeeded", None, **counts)


def _progress(run: SyncRun):
    def report(done: int, total: int) -> None:
        run.progress_done, run.progress_total = done, total
        db.session.commit()

    return report


def _finish(run: SyncRun, status: str, message: str | None, **fields: object) -> str:
    run.status, run.message, run.finished_at = status, message, utcnow()
    db.session.commit()
    line = kv(job="push_invoices", firm=run.firm_id, run=run.id, state=status, **fields)
    (log.error if status == "failed" else log.info)(line)
    return status
