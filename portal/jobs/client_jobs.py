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

from portal.jobs import kv
from portal.jobs.runs import (
    RunKind,
    enqueue_run,
    progress_recorder,
    run_locked,
    waiting_run,
)
from portal.models import SyncRun
from portal.qbo.client import QboClient

log = logging.getLogger("portal.jobs")

IMPORT_KIND = "import"
PUSH_KIND = "clients"
ACTIVE = ("queued", "running")
IMPORT = RunKind(IMPORT_KIND, job=IMPORT_KIND, description="import firm={firm} run={run}",
                 refused="Could not queue the job: {error}.")
PUSH = RunKind(PUSH_KIND, job=PUSH_KIND, description="clients firm={firm} run={run}",
               refused="Could not queue the job: {error}.")
# Tests (and only tests) set this to watch a run from outside while it is in progress.
progress_hook = None


# -- enqueue -------------------------------------------------------------------------------------
def _scope(firm_id: int, kind: str, client_ids: list[int] | None) -> str:
    if kind == IMPORT_KIND:
        return f"clients-import-{firm_id}-"
    if client_ids is None:
        return f"clients-push-{firm_id}-all-"
    return f"clients-push-{firm_id}-c{'-'.join(map(str, sorted(client_ids)))}-"


def covering_run(firm_id: int, client_id: int) -> SyncRun | None:
    """A queued or running push that will include this client (for "Sync queued/running")."""
    prefixes = [_scope(firm_id, PUSH_KIND, None), _scope(firm_id, PUSH_KIND, [client_id])]
    return waiting_run(PUSH, firm_id, prefixes, ACTIVE)


def enqueue_import(firm_id: int, requested_by_id: int | None = None) -> tuple[SyncRun, bool]:
    """Queue Import Clients unless one is already queued or running; (run, newly queued)."""
    existing = waiting_run(IMPORT, firm_id, [_scope(firm_id, IMPORT_KIND, None)], ACTIVE)
    if existing is not None:
        return existing, False
    run = enqueue_run(IMPORT, firm_id, import_clients, "button", requested_by_id,
                      _scope(firm_id, IMPORT_KIND, None))
    return run, True


def enqueue_push(firm_id: int, trigger: str = "button", client_ids: Iterable[int] | None = None,
                 requested_by_id: int | None = None) -> tuple[SyncRun, bool]:
    """Queue a client push (all due clients, or only ``client_ids``), coalescing with a queued
    run that already covers it; returns (run, newly queued)."""
    ids = sorted(set(client_ids)) if client_ids is not None else None
    prefixes = [_scope(firm_id, PUSH_KIND, None)]
    if ids is not None:
        prefixes.append(_scope(firm_id, PUSH_KIND, ids))
    existing = waiting_run(PUSH, firm_id, prefixes)
    if existing is not None:
        log.info(kv(job="push_clients", firm=firm_id, run=existing.id, state="coalesced",
                    trigger=trigger))
        return existing, False
    run = enqueue_run(PUSH, firm_id, push_clients, trigger, requested_by_id,
                      _scope(firm_id, PUSH_KIND, ids), job_kwargs={"client_ids": ids})
    return run, True


# -- RQ entry points -----------------------------------------------------------------------------
def import_clients(firm_id: int, run_id: int) -> str:
    """RQ entry point: Import Clients for one firm. Returns the run's status; raises on failure."""
    from portal.qbo.sync.pull import import_customers

    def body(run: SyncRun) -> dict[str, int]:
        with QboClient(firm_id) as qbo:
            return import_customers(qbo, firm_id, run, page_size=_page_size(),
                                    progress=progress_recorder(run, progress_hook))

    return run_locked(IMPORT, firm_id, run_id, body)


def push_clients(firm_id: int, run_id: int, client_ids: list[int] | None = None) -> str:
    """RQ entry point: push due clients (or only ``client_ids``). Raises on failure."""
    from portal.qbo.sync import customers

    def body(run: SyncRun) -> dict[str, int]:
        return customers.push_clients(firm_id, run, client_ids=client_ids,
                                      progress=progress_recorder(run, progress_hook))

    return run_locked(PUSH, firm_id, run_id, body)


def _page_size() -> int:
    return int(current_app.config.get("QBO_IMPORT_PAGE_SIZE", 1000))
