"""RQ entry points for Import Clients and Sync Clients, and the one way to enqueue them.

Thin on purpose (STYLE 5): ids in, the per-firm lock (a busy lock skips, J2), a call into
``portal.qbo.sync``, the SyncRun (status, progress_done/progress_total, counts) kept up to date
as it goes, and a raise on failure. Views never call QBO: they call ``enqueue_import`` /
``enqueue_push``, which coalesce repeated clicks into the run already waiting in the queue.
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
from portal.qbo.client import QboClient

log = logging.getLogger("portal.jobs")

IMPORT_KIND = "import"
PUSH_KIND = "clients"
ACTIVE = ("queued", "running")
# Tests (and only tests) set this to watch a run from outside while it is in progress.
progress_hook = None


# -- enqueue -------------------------------------------------------------------------------------
def _scope(firm_id: int, kind: str, client_ids: list[int] | None) -> str:
    if kind == IMPORT_KIND:
        return f"clients-import-{firm_id}-"
    if client_ids is None:
        return f"clients-push-{firm_id}-all-"
    return f"clients-push-{firm_id}-c{'-'.join(map(str, sorted(client_ids)))}-"


def _waiting(firm_id: int, prefixes: list[str], statuses: tuple[str, ...]) -> SyncRun | None:
    stmt = (db.select(SyncRun)
            .where(SyncRun.firm_id == firm_id, SyncRun.status.in_(statuses),
                   db.or_(*[SyncRun.job_id.like(f"{p}%") for p in prefixes]))
            .order_by(SyncRun.id.desc()))
    return db.session.execute(stmt).scalars().first()


def covering_run(firm_id: int, client_id: int) -> SyncRun | None:
    """A queued or running push that will include this client (for "Sync queued/running")."""
    prefixes = [_scope(firm_id, PUSH_KIND, None), _scope(firm_id, PUSH_KIND, [client_id])]
    return _waiting(firm_id, prefixes, ACTIVE)


def enqueue_import(firm_id: int, requested_by_id: int | None = None) -> tuple[SyncRun, bool]:
    """Queue Import Clients unless one is already queued or running; (run, newly queued)."""
    existing = _waiting(firm_id, [_scope(firm_id, IMPORT_KIND, None)], ACTIVE)
    if existing is not None:
        return existing, False
    return _enqueue(firm_id, IMPORT_KIND, "button", None, requested_by_id), True


def enqueue_push(firm_id: int, trigger: str = "button", client_ids: Iterable[int] | None = None,
                 requested_by_id: int | None = None) -> tuple[SyncRun, bool]:
    """Queue a client push (all due clients, or only ``client_ids``), coalescing with a queued
    run that already covers it; returns (run, newly queued)."""
    ids = sorted(set(client_ids)) if client_ids is not None else None
    prefixes = [_scope(firm_id, PUSH_KIND, None)]
    if ids is not None:
        prefixes.append(_scope(firm_id, PUSH_KIND, ids))
    existing = _waiting(firm_id, prefixes, ("queued",))
    if existing is not None:
        log.info(kv(job="push_clients", firm=firm_id, run=existing.id, state="coalesced",
                    trigger=trigger))
        return existing, False
    return _enqueue(firm_id, PUSH_KIND, trigger, ids, requested_by_id), True


def _enqueue(firm_id: int, kind: str, trigger: str, client_ids: list[int] | None,
             requested_by_id: int | None) -> SyncRun:
    """Commit a queued SyncRun, then enqueue its job (a worker must see the row first)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    run = SyncRun(firm_id=firm_id, kind=kind, trigger=trigger, status="queued", counts={},
                  requested_by_id=requested_by_id)
    db.session.add(run)
    db.session.flush()
    run.job_id = f"{_scope(firm_id, kind, client_ids)}run-{run.id}"[:100]
    db.session.commit()
    func, kwargs = ((import_clients, {"firm_id": firm_id, "run_id": run.id})
                    if kind == IMPORT_KIND else
                    (push_clients, {"firm_id": firm_id, "run_id": run.id,
                                    "client_ids": client_ids}))
    try:
        get_queue(app).enqueue(func, kwargs=kwargs, job_id=run.job_id,
                               job_timeout=app.config["SYNC_JOB_TIMEOUT"],
                               result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL,
                               description=f"{kind} firm={firm_id} run={run.id}")
    except Exception as exc:
        _finish(run, "failed", f"Could not queue the job: {type(exc).__name__}.")
        raise
    log.info(kv(job=kind, firm=firm_id, run=run.id, state="queued", trigger=trigger))
    return run


# -- RQ entry points -----------------------------------------------------------------------------
def import_clients(firm_id: int, run_id: int) -> str:
    """RQ entry point: Import Clients for one firm. Returns the run's status; raises on failure."""
    from portal.qbo.sync.pull import import_customers

    def body(run: SyncRun) -> dict[str, int]:
        with QboClient(firm_id) as qbo:
            return import_customers(qbo, firm_id, run, page_size=_page_size(),
                                    progress=_progress(run))

    return _run(firm_id, run_id, IMPORT_KIND, body)


def push_clients(firm_id: int, run_id: int, client_ids: list[int] | None = None) -> str:
    """RQ entry point: push due clients (or only ``client_ids``). Raises on failure."""
    from portal.qbo.sync import customers

    def body(run: SyncRun) -> dict[str, int]:
        return customers.push_clients(firm_id, run, client_ids=client_ids,
                                      progress=_progress(run))

    return _run(firm_id, run_id, PUSH_KIND, body)


def _page_size() -> int:
    return int(current_app.config.get("QBO_IMPORT_PAGE_SIZE", 1000))


def _progress(run: SyncRun):
    def report(done: int, total: int | None) -> None:
        run.progress_done, run.progress_total = done, total
        db.session.commit()
        if progress_hook is not None:
            progress_hook(run.id, done, total)

    return report


def _run(firm_id: int, run_id: int, kind: str, body) -> str:
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
            log.info(kv(job=kind, firm=firm_id, run=run_id, state="running"))
            try:
                counts = body(run)
            except Exception as exc:
                db.session.rollback()
                failed = db.session.get(SyncRun, run_id)
                _finish(failed, "failed", f"{type(exc).__name__}: {exc}"[:MESSAGE_LIMIT])
                raise
            run.counts = dict(counts)
            return _finish(run, "succeeded", None, **counts)


def _finish(run: SyncRun, status: str, message: str | None, **fields: object) -> str:
    run.status, run.message, run.finished_at = status, message, utcnow()
    db.session.commit()
    line = kv(job=run.kind, firm=run.firm_id, run=run.id, state=status, **fields)
    (log.error if status == "failed" else log.info)(line)
    return status
