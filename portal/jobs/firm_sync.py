"""The per-firm sync job: lock, run the sync steps in order, record the SyncRun (DESIGN J1-J3).

The job is thin on purpose. Each step is a function `(firm_id, run) -> counts | None`; later
issues replace the placeholders with calls into `portal.qbo.sync.*` (clients, then invoices,
then time). A step records its per-record outcomes as SyncEvents itself and commits its own
progress; this module records the run as a whole and decides skipped/succeeded/failed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from portal.extensions import db
from portal.jobs import job_context
from portal.jobs.locks import hold_firm_lock
from portal.jobs.queue import FIRM_SYNC_KIND
from portal.jobs.runs import SKIPPED_BUSY as SKIPPED_BUSY
from portal.jobs.runs import SKIPPED_NOT_CONNECTED as SKIPPED_NOT_CONNECTED
from portal.jobs.runs import RunKind, fail, finish, require_firm, skip_unless_ready, start
from portal.models import SyncRun

FIRM_SYNC = RunKind(FIRM_SYNC_KIND, job="firm_sync",
                    description="firm sync firm={firm} run={run} trigger={trigger}",
                    refused="Could not queue the sync: {error}.", verbose_lines=True)

StepFunc = Callable[[int, SyncRun], "dict[str, int] | None"]


@dataclass(frozen=True)
class SyncStep:
    name: str
    func: StepFunc


def sync_clients_step(firm_id: int, run: SyncRun) -> dict[str, int] | None:
    """Push every client created or changed since its last push (K2); no QBO call if none."""
    from portal.qbo.sync.customers import push_clients

    return push_clients(firm_id, run)


def sync_invoices_step(firm_id: int, run: SyncRun) -> dict[str, int] | None:
    """Push every NEW invoice (I2); held ones stay NEW with the reason; no QBO call if none."""
    from portal.qbo.sync.invoices import push_invoices

    return push_invoices(firm_id, run)


def sync_time_step(firm_id: int, run: SyncRun) -> dict[str, int] | None:
    """Push approved time (creates, updates, deletes of returned entries; T2). A person's
    "Sync now" also retries held entries; no QBO call when nothing is due."""
    from portal.qbo.sync.time import push_time

    return push_time(firm_id, run, retry_holds=run.trigger == "button")


# Order matters: invoices need their customers, time activities need theirs (DESIGN J1).
STEPS: list[SyncStep] = [
    SyncStep("clients", sync_clients_step),
    SyncStep("invoices", sync_invoices_step),
    SyncStep("time", sync_time_step),
]


def run_firm_sync(firm_id: int, run_id: int | None = None, trigger: str = "schedule") -> str:
    """RQ entry point: sync one firm. Returns the run's final status; raises on failure.

    `run_id` is the queued SyncRun created by `enqueue_firm_sync`; without it (a direct call)
    a run row is created here. A busy firm lock marks the run skipped instead of waiting.
    """
    with job_context() as app:
        require_firm(firm_id)
        run = _load_or_create_run(firm_id, run_id, trigger)
        with hold_firm_lock(firm_id, app) as acquired:
            return skip_unless_ready(FIRM_SYNC, run, acquired) or _run_steps(run)


def _load_or_create_run(firm_id: int, run_id: int | None, trigger: str) -> SyncRun:
    run = db.session.get(SyncRun, run_id) if run_id is not None else None
    if run is not None and run.firm_id != firm_id:
        raise ValueError(f"sync run {run_id} belongs to another firm")
    if run is None:
        run = SyncRun(firm_id=firm_id, kind=FIRM_SYNC_KIND, trigger=trigger, status="queued",
                      counts={})
        db.session.add(run)
        db.session.commit()
    return run


def _run_steps(run: SyncRun) -> str:
    run_id, firm_id = run.id, run.firm_id
    start(FIRM_SYNC, run, progress_done=0, progress_total=len(STEPS))
    step_name = None
    try:
        for step in STEPS:
            step_name = step.name
            counts = step.func(firm_id, run) or {}
            # Reassign (not mutate) so SQLAlchemy sees the JSON column change.
            run.counts = {**(run.counts or {}), step.name: dict(counts)}
            run.progress_done = (run.progress_done or 0) + 1
            db.session.commit()
    except Exception as exc:
        fail(FIRM_SYNC, run_id, f"The {step_name} step failed: {type(exc).__name__}: {exc}",
             step=step_name, error=type(exc).__name__)
        raise
    return finish(FIRM_SYNC, run, "succeeded", None, **_flat_counts(run.counts))


def _flat_counts(counts: dict | None) -> dict[str, int]:
    """{"clients": {"created": 3}} -> {"clients_created": 3} for the log line."""
    flat: dict[str, int] = {}
    for step, values in (counts or {}).items():
        for key, value in (values or {}).items():
            flat[f"{step}_{key}"] = value
    return flat
