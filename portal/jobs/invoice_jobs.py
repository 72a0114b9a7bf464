"""RQ entry point for pushing invoices ("Sync Invoices", "Push to QuickBooks"), and the one
way to enqueue it.

Thin on purpose (STYLE 5): ids in, the per-firm lock (a busy lock skips and says so, J2), a
call into ``portal.qbo.sync.invoices``, the SyncRun kept up to date, a raise on failure. The
hourly per-firm sync calls the same push from ``firm_sync.sync_invoices_step`` inside its own
lock and run.
"""

from __future__ import annotations

from collections.abc import Iterable

from portal.jobs.runs import RunKind, enqueue_run, progress_recorder, run_locked, waiting_run
from portal.models import SyncRun

KIND = "invoices"
PUSH = RunKind(KIND, job="push_invoices", description="push invoices firm={firm} run={run}",
               refused="Could not queue the push: {error}.")


def _job_prefix(firm_id: int, invoice_ids: list[int] | None) -> str:
    if invoice_ids is None:
        return f"invoices-push-{firm_id}-all-"
    return f"invoices-push-{firm_id}-i{'-'.join(map(str, invoice_ids))}-"[:80]


def queued_run(firm_id: int, invoice_ids: list[int] | None) -> SyncRun | None:
    """A push still waiting in the queue that covers these invoices (repeated clicks coalesce)."""
    prefixes = [_job_prefix(firm_id, None)]
    if invoice_ids is not None:
        prefixes.append(_job_prefix(firm_id, invoice_ids))
    return waiting_run(PUSH, firm_id, prefixes)


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
    run = enqueue_run(PUSH, firm_id, push_invoices, trigger, requested_by_id,
                      _job_prefix(firm_id, ids), job_kwargs={"invoice_ids": ids},
                      log_fields={"invoices": "all" if ids is None else len(ids)})
    return run, True


def push_invoices(firm_id: int, run_id: int, invoice_ids: list[int] | None = None) -> str:
    """RQ entry point: push the firm's NEW invoices (or only ``invoice_ids``).

    Returns the run's final status (succeeded / skipped); raises on failure.
    """
    from portal.qbo.sync import invoices

    def body(run: SyncRun) -> dict[str, int]:
        return invoices.push_invoices(firm_id, run, invoice_ids=invoice_ids,
                                      progress=progress_recorder(run))

    return run_locked(PUSH, firm_id, run_id, body)
