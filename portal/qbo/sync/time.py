"""Push approved time to QBO as TimeActivities, keep them correct, exactly once (T2, I4).

What is due (``due_entries``), found by the database alone so a quiet hour costs no call:

- approved and never pushed, or approved and changed since its push (``version >
  qbo_pushed_version``): create, or sparse update with the stored SyncToken;
- pushed but no longer approved (returned to draft): delete the TimeActivity in QBO.

Locked (invoiced) entries cannot change (the screens refuse it), so once pushed they are never
due again. Entries held at their current version cost nothing until they change, with two exceptions
that follow a fix made elsewhere: payroll holds (no matching employee) are re-checked against
the Employee list every run (one read, and nothing more unless the employee now matches), and
client holds go again once the client is linked. A person's sync (``retry_holds``) retries
every hold.

Per chunk of 30: match the employee (list read once per run), make sure the client is a
customer (``customers.ensure_customer``, pushed first if unlinked), map (pure), then one write
call: a plain create/update/delete for one entry, else one batch. Exactly once:

1. every write carries a requestid derived from the entry's version (and SyncToken), so QBO
   replays instead of writing twice when the client retries a dropped answer;
2. before a create is sent, the entry is marked ``qbo_sync_token = "planned-v<version>"`` and
   committed; a later run that finds the mark (the worker died between QBO's answer and our
   commit) first reads that day's TimeActivities and adopts the one carrying the entry's
   ``[PP-<firm>-<entry>]`` marker for the same employee, instead of creating another.

Layout: this module runs the push (what is due, chunks, retries); ``time_plan`` decides each
entry's write, ``time_writes`` sends it, ``time_outcomes`` records results and holds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import BillableCategory, Firm, SyncRun, TimeEntry
from portal.qbo.client import QboClient
from portal.qbo.errors import StaleObject
from portal.qbo.sync import events
from portal.qbo.sync.employees import is_payroll_hold, load_directory
from portal.qbo.sync.events import record
from portal.qbo.sync.time_outcomes import ENTITY, accept, failed, who
from portal.qbo.sync.time_plan import (
    CLIENT_HOLD,
    PLANNED,
    Context,
    Plan,
    adopt_existing,
    item_codes,
    load_items,
    plan_entry,
    refresh_token,
)
from portal.qbo.sync.time_writes import batch_request_id, bids, request_id, send, single

__all__ = [
    "CHUNK", "CLIENT_HOLD", "ENTITY", "PLANNED", "Context", "Plan",
    "adopt_existing", "batch_request_id", "clear_stale_messages", "due_entries", "load_items",
    "push_chunk", "push_time", "request_id", "send", "single",
]

log = logging.getLogger("portal.sync")

CHUNK = 30
Progress = Callable[[int, int], None]


# -- what is due ---------------------------------------------------------------------------------
# Everything planning reads, loaded with the entries instead of one query per entry.
LOAD = (joinedload(TimeEntry.user), joinedload(TimeEntry.client),
        joinedload(TimeEntry.category).joinedload(BillableCategory.type))


def due_entries(firm_id: int, entry_ids: Iterable[int] | None = None) -> list[TimeEntry]:
    approved = TimeEntry.status == "approved"
    pushed = TimeEntry.qbo_time_activity_id.is_not(None)
    stmt = (
        db.select(TimeEntry)
        .where(TimeEntry.firm_id == firm_id,
               db.or_(db.and_(approved, db.or_(~pushed,
                                               TimeEntry.version > TimeEntry.qbo_pushed_version)),
                      db.and_(~approved, pushed)))
        .options(*LOAD)
        .order_by(TimeEntry.id)
    )
    if entry_ids is not None:
        stmt = stmt.where(TimeEntry.id.in_(list(entry_ids)))
    return list(db.session.execute(stmt).unique().scalars())


def _load(firm_id: int, ids: list[int]) -> list[TimeEntry]:
    """The chunk's entries, fresh from the database, in the planned order."""
    rows = db.session.execute(
        db.select(TimeEntry).where(TimeEntry.firm_id == firm_id, TimeEntry.id.in_(ids))
        .options(*LOAD)).unique().scalars()
    by_id = {e.id: e for e in rows}
    return [by_id[i] for i in ids if i in by_id]


def clear_stale_messages(firm_id: int) -> None:
    """Entries held while approved and since returned to draft need no attention any more."""
    db.session.execute(
        db.update(TimeEntry)
        .where(TimeEntry.firm_id == firm_id, TimeEntry.status != "approved",
               TimeEntry.qbo_time_activity_id.is_(None), TimeEntry.sync_message.is_not(None))
        .values(sync_message=None)
    )


def push_time(firm_id: int, run: SyncRun, entry_ids: Iterable[int] | None = None,
              qbo: QboClient | None = None, retry_holds: bool = False,
              progress: Progress | None = None) -> dict[str, int]:
    """Push the firm's due time (or only ``entry_ids``); commit per chunk; return counts.

    Nothing due -> no QboClient and no QBO call at all. ``progress(done, total)`` is called
    after each committed chunk (benchmarks, progress bars).
    """
    ids = list(entry_ids) if entry_ids is not None else None
    clear_stale_messages(firm_id)
    entries = due_entries(firm_id, ids)
    holds = events.holds(firm_id, ENTITY) if ids is None else {}
    fresh: list[TimeEntry] = []
    payroll: list[TimeEntry] = []  # re-checked against the Employee list this run reads
    held: list[TimeEntry] = []  # the rest: only a person's "sync now" (retry_holds) retries
    for entry in entries:
        hold = holds.get(entry.id)
        if hold is None or hold.version != entry.version:
            fresh.append(entry)
        elif is_payroll_hold(hold.reason):
            payroll.append(entry)
        elif CLIENT_HOLD in hold.reason and entry.client and entry.client.qbo_customer_id:
            fresh.append(entry)  # the client has been linked since: free to retry
        else:
            held.append(entry)
    if not (fresh or payroll or (retry_holds and held)):
        db.session.commit()
        return {}
    own = qbo is None
    qbo = qbo or QboClient(firm_id)
    try:
        ctx = Context(qbo, db.session.get(Firm, firm_id), run, load_directory(qbo))
        fresh += held if retry_holds else []
        for entry in payroll:
            match = ctx.directory.match(entry.user)
            if match.ok or retry_holds or match.reason != holds[entry.id].reason:
                fresh.append(entry)  # fixed in QBO (or a new reason worth logging)
        fresh.sort(key=lambda e: e.id)
        ctx.items = load_items(qbo, firm_id, item_codes(ctx.firm, fresh))
        # Keep ids, not rows, between chunks: every commit (two per chunk) expires each object
        # the session still holds, so 20,000 loaded entries made every commit walk them all and
        # every chunk reload its entries one query at a time.
        order = [e.id for e in fresh]
        del entries, fresh, payroll, held
        total = len(order)
        if progress:
            progress(0, total)
        for start in range(0, total, CHUNK):
            push_chunk(ctx, _load(firm_id, order[start:start + CHUNK]))
            db.session.commit()
            if progress:
                progress(min(start + CHUNK, total), total)
    finally:
        if own:
            qbo.close()
    log.info("time_push firm=%s run=%s %s", firm_id, run.id,
             " ".join(f"{k}={v}" for k, v in ctx.tally.as_dict().items()))
    return ctx.tally.as_dict()


# -- one chunk -----------------------------------------------------------------------------------
def push_chunk(ctx: Context, chunk: list[TimeEntry]) -> None:
    """Plan, look up, mark, send and record one chunk (<= 30 entries); commits the marks."""
    plans: list[Plan] = []
    for entry in chunk:
        plan = plan_entry(ctx, entry)
        if plan is not None:
            plans.append(plan)
    replanned = [p for p in plans
                 if p.op == "create" and (p.entry.qbo_sync_token or "").startswith(PLANNED)]
    if replanned:
        adopt_existing(ctx, replanned)
    for plan in plans:
        if plan.op in ("update", "delete") and not plan.entry.qbo_sync_token:
            refresh_token(ctx, plan)
    plans = [p for p in plans if p.op != "done"]
    for plan in plans:
        if plan.op == "create":
            plan.entry.qbo_sync_token = f"{PLANNED}{plan.entry.version}"
    db.session.commit()  # the marks must be durable before QBO can possibly act
    if not plans:
        return
    results = send(ctx, plans)
    for bid, plan in bids(plans):
        outcome = results[bid]
        if outcome.ok:
            accept(ctx, plan, outcome.data)
        elif plan.op in ("update", "delete") and isinstance(outcome.error, StaleObject):
            retry_stale(ctx, plan)
        else:
            failed(ctx, plan, outcome.error)


def retry_stale(ctx: Context, plan: Plan) -> None:
    """5010: the TimeActivity changed in QBO since our last write; re-read it, retry once."""
    refresh_token(ctx, plan)
    if plan.op == "done":
        return
    outcome = single(ctx, plan)
    if outcome.ok:
        accept(ctx, plan, outcome.data)
    elif isinstance(outcome.error, StaleObject):
        record(ctx.run, ENTITY, plan.entry.id, "stale", "failed",
               f"Time of {who(plan.entry)}: QuickBooks reported the TimeActivity changed again "
               "while we wrote it (5010); the next sync retries.", counts=ctx.tally)
    else:
        failed(ctx, plan, outcome.error)
