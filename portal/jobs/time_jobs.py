"""RQ entry point for pushing time to QBO soon after approval, and the one way to enqueue it.

The hourly per-firm sync pushes time too (``firm_sync.sync_time_step``); this job exists so a
manager who approves (or returns) entries sees them in QuickBooks within seconds, not within
the hour. Thin on purpose (STYLE 5): ids in, the per-firm lock (busy -> skipped and said so;
the hourly run or the next approval carries the entries, J2), a call into
``portal.qbo.sync.time``, the SyncRun, a raise on failure.
"""

from __future__ import annotations

from collections.abc import Iterable

from portal.jobs.runs import RunKind, enqueue_run, run_locked
from portal.jobs.runs import firm_is_connected as firm_is_connected  # re-exported for views
from portal.models import SyncRun

TIME_KIND = "time"
SKIPPED_BUSY_TIME = (
    "Another sync for this firm was running, so this push was skipped; the hourly sync sends "
    "these entries (or press Sync now on the Integrations tab)."
)
PUSH = RunKind(TIME_KIND, job="push_time",
               description="time push firm={firm} run={run} trigger={trigger}",
               refused="Could not queue the time push: {error}.", busy=SKIPPED_BUSY_TIME,
               log_error=True)


def enqueue_time_push(firm_id: int, trigger: str = "approval",
                      entry_ids: Iterable[int] | None = None,
                      requested_by_id: int | None = None) -> SyncRun:
    """Commit a queued SyncRun (kind "time"), then enqueue ``push_time`` for it.

    Call after the caller's own changes are committed: the worker must see them. If Redis
    refuses the job the run is marked failed and the error re-raised.
    """
    ids = sorted(set(entry_ids)) if entry_ids is not None else None
    return enqueue_run(PUSH, firm_id, push_time, trigger, requested_by_id,
                       f"time-push-{firm_id}-", job_kwargs={"entry_ids": ids},
                       log_fields={"entries": len(ids) if ids is not None else "all"})


def push_time(firm_id: int, run_id: int, entry_ids: list[int] | None = None) -> str:
    """RQ entry point: push due time of one firm (or only ``entry_ids``). Raises on failure."""
    from portal.qbo.sync import time as time_sync

    def body(run: SyncRun) -> dict[str, int]:
        return time_sync.push_time(firm_id, run, entry_ids=entry_ids)

    return run_locked(PUSH, firm_id, run_id, body)
