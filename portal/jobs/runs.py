"""What every sync job shares (DESIGN J2, J3; STYLE 5): queue the RQ job of a new SyncRun, run a
job's body under the per-firm lock, and record the run as it goes
(queued -> skipped | running -> succeeded | failed).

A `RunKind` holds what differs between the jobs: the SyncRun kind, the `job=` of their log
lines and the words of their messages. The job modules keep only what is theirs: job ids,
coalescing of repeated clicks, and the call into `portal.qbo.sync`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask import current_app

from portal.extensions import db
from portal.jobs import job_context, kv
from portal.jobs.locks import hold_firm_lock
from portal.jobs.queue import FAILURE_TTL, RESULT_TTL, get_queue
from portal.models import Firm, QboConnection, SyncRun
from portal.models._common import utcnow

log = logging.getLogger("portal.jobs")

SKIPPED_BUSY = "Another sync for this firm is running; this run was skipped."
SKIPPED_NOT_CONNECTED = (
    "QuickBooks is not connected for this firm, so nothing was synced. "
    "Connect (or reconnect) it on the Integrations tab."
)
MESSAGE_LIMIT = 1000
JOB_ID_LIMIT = 100

Body = Callable[[SyncRun], Mapping[str, int]]
ProgressHook = Callable[[int, int, int | None], None]


@dataclass(frozen=True)
class RunKind:
    """One kind of sync job, as its SyncRuns and log lines show it."""

    kind: str  # SyncRun.kind
    job: str  # `job=` in the run's log lines
    description: str  # the RQ job's description; may use {firm}, {run} and {trigger}
    refused: str  # SyncRun.message when Redis refuses the job; uses {error}
    busy: str = SKIPPED_BUSY  # SyncRun.message when the firm's lock is taken
    log_error: bool = False  # the line of a failed run names the exception type
    # The firm sync's lines: trigger= on running/finished lines, rq_job= on the queued line,
    # and `state=enqueue_failed error=<type>` (not `state=failed`) when Redis refuses the job.
    verbose_lines: bool = False


# -- enqueue -------------------------------------------------------------------------------------
def enqueue_run(kind: RunKind, firm_id: int, func: Callable[..., str], trigger: str,
                requested_by_id: int | None, job_prefix: str,
                job_kwargs: Mapping[str, object] | None = None,
                log_fields: Mapping[str, object] | None = None) -> SyncRun:
    """Commit a queued SyncRun, then enqueue ``func(firm_id=, run_id=, **job_kwargs)`` for it
    under the job id ``<job_prefix>run-<run id>``.

    Owns its transaction: the run row must be visible to a worker before the job can start, so
    call it after the caller's own changes are committed. If Redis refuses the job, the run is
    marked failed with the reason and the error is re-raised.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    run = SyncRun(firm_id=firm_id, kind=kind.kind, trigger=trigger, status="queued", counts={},
                  requested_by_id=requested_by_id)
    db.session.add(run)
    db.session.flush()
    run.job_id = f"{job_prefix}run-{run.id}"[:JOB_ID_LIMIT]
    db.session.commit()
    try:
        get_queue(app).enqueue(
            func,
            kwargs={"firm_id": firm_id, "run_id": run.id, **(job_kwargs or {})},
            job_id=run.job_id,
            job_timeout=app.config["SYNC_JOB_TIMEOUT"],
            result_ttl=RESULT_TTL,
            failure_ttl=FAILURE_TTL,
            description=kind.description.format(firm=firm_id, run=run.id, trigger=trigger),
        )
    except Exception as exc:
        _refused(kind, run, type(exc).__name__)
        raise
    extra = {"rq_job": run.job_id} if kind.verbose_lines else {}
    log.info(kv(job=kind.job, firm=firm_id, run=run.id, state="queued", trigger=trigger,
                **(log_fields or {}), **extra))
    return run


def _refused(kind: RunKind, run: SyncRun, error: str) -> None:
    message = kind.refused.format(error=error)
    if not kind.verbose_lines:
        finish(kind, run, "failed", message)
        return
    run.status, run.message, run.finished_at = "failed", message, utcnow()
    db.session.commit()
    log.error(kv(job=kind.job, firm=run.firm_id, run=run.id, state="enqueue_failed", error=error))


def waiting_run(kind: RunKind, firm_id: int, job_prefixes: list[str],
                statuses: tuple[str, ...] = ("queued",)) -> SyncRun | None:
    """The newest run of this kind in ``statuses`` whose job id starts with one of
    ``job_prefixes`` (so repeated clicks coalesce into the run already waiting)."""
    stmt = (db.select(SyncRun)
            .where(SyncRun.firm_id == firm_id, SyncRun.kind == kind.kind,
                   SyncRun.status.in_(statuses),
                   db.or_(*[SyncRun.job_id.like(f"{p}%") for p in job_prefixes]))
            .order_by(SyncRun.id.desc()))
    return db.session.execute(stmt).scalars().first()


# -- run -----------------------------------------------------------------------------------------
def run_locked(kind: RunKind, firm_id: int, run_id: int, body: Body) -> str:
    """Run ``body(run)`` for a queued SyncRun under the firm's lock, recording the run.

    A taken lock or a firm without a QBO connection finishes the run as skipped (J2). The counts
    ``body`` returns become the run's counts; an exception marks the run failed with its reason
    and is re-raised. Returns the run's final status.
    """
    with job_context() as app:
        run = load_run(firm_id, run_id)
        with hold_firm_lock(firm_id, app) as acquired:
            skipped = skip_unless_ready(kind, run, acquired)
            if skipped:
                return skipped
            start(kind, run)
            try:
                counts = body(run)
            except Exception as exc:
                fields = {"error": type(exc).__name__} if kind.log_error else {}
                fail(kind, run_id, f"{type(exc).__name__}: {exc}", **fields)
                raise
            run.counts = dict(counts)
            return finish(kind, run, "succeeded", None, **counts)


def require_firm(firm_id: int) -> None:
    if db.session.get(Firm, firm_id) is None:
        raise LookupError(f"firm {firm_id} does not exist")


def load_run(firm_id: int, run_id: int) -> SyncRun:
    """The queued run of this firm a job was given; LookupError for a stale or foreign id."""
    require_firm(firm_id)
    run = db.session.get(SyncRun, run_id)
    if run is None or run.firm_id != firm_id:
        raise LookupError(f"sync run {run_id} of firm {firm_id} does not exist")
    return run


def firm_is_connected(firm_id: int) -> bool:
    status = db.session.execute(
        db.select(QboConnection.status).where(QboConnection.firm_id == firm_id)
    ).scalar_one_or_none()
    return status == "connected"


def skip_unless_ready(kind: RunKind, run: SyncRun, acquired: bool) -> str | None:
    """Finish the run as skipped, saying why, if the lock is taken or QBO is not connected;
    returns "skipped", or None when the run may go ahead."""
    if not acquired:
        return finish(kind, run, "skipped", kind.busy)
    if not firm_is_connected(run.firm_id):
        return finish(kind, run, "skipped", SKIPPED_NOT_CONNECTED)
    return None


def start(kind: RunKind, run: SyncRun, **fields: object) -> None:
    """Mark the run running (plus any other SyncRun ``fields``) and commit, so the UI sees it."""
    run.status, run.started_at, run.message = "running", utcnow(), None
    for name, value in fields.items():
        setattr(run, name, value)
    db.session.commit()
    log.info(_line(kind, run, "running"))


def progress_recorder(run: SyncRun, hook: ProgressHook | None = None) -> Callable:
    """A ``progress(done, total)`` callback for ``portal.qbo.sync`` that commits the run's
    progress_done/progress_total (the status endpoint reads them) and calls ``hook``."""

    def report(done: int, total: int | None) -> None:
        run.progress_done, run.progress_total = done, total
        db.session.commit()
        if hook is not None:
            hook(run.id, done, total)

    return report


def fail(kind: RunKind, run_id: int, reason: str, **fields: object) -> str:
    """Roll back the body's unfinished work, then record the run as failed with ``reason``."""
    db.session.rollback()
    run = db.session.get(SyncRun, run_id)
    return finish(kind, run, "failed", reason[:MESSAGE_LIMIT], **fields)


def finish(kind: RunKind, run: SyncRun, status: str, message: str | None,
           **fields: object) -> str:
    """Record the run's final status and message, commit, and log one line; returns status."""
    run.status, run.message, run.finished_at = status, message, utcnow()
    db.session.commit()
    (log.error if status == "failed" else log.info)(_line(kind, run, status, **fields))
    return status


def _line(kind: RunKind, run: SyncRun, state: str, **fields: object) -> str:
    trigger = {"trigger": run.trigger} if kind.verbose_lines else {}
    return kv(job=kind.job, firm=run.firm_id, run=run.id, **trigger, state=state, **fields)
