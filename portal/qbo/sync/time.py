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
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import BillableCategory, Firm, SyncRun, TimeEntry
from portal.qbo.client import BatchItemResult, QboClient, escape
from portal.qbo.errors import NotFound, QboError, StaleObject, ValidationFault
from portal.qbo.mapping import time as mapping
from portal.qbo.sync import events
from portal.qbo.sync.customers import ensure_customer
from portal.qbo.sync.employees import Directory, Match, is_payroll_hold, load_directory
from portal.qbo.sync.events import Tally, record

log = logging.getLogger("portal.sync")

ENTITY = "time_entry"
CHUNK = 30
PLANNED = "planned-v"
CLIENT_HOLD = "is not in QuickBooks yet"
ITEM_QUERY_BUDGET = 1500  # characters of IN (...) values per Item query


@dataclass
class Plan:
    entry: TimeEntry
    op: str  # create | update | delete | done
    body: dict[str, Any]
    match: Match | None = None
    note: str = ""


@dataclass
class Context:
    qbo: QboClient
    firm: Firm
    run: SyncRun
    directory: Directory
    tally: Tally = field(default_factory=Tally)
    items: dict[str, str] = field(default_factory=dict)  # code (casefolded) -> Item Id


# -- what is due ---------------------------------------------------------------------------------
def due_entries(firm_id: int, entry_ids: Iterable[int] | None = None) -> list[TimeEntry]:
    approved = TimeEntry.status == "approved"
    pushed = TimeEntry.qbo_time_activity_id.is_not(None)
    stmt = (
        db.select(TimeEntry)
        .where(TimeEntry.firm_id == firm_id,
               db.or_(db.and_(approved, db.or_(~pushed,
                                               TimeEntry.version > TimeEntry.qbo_pushed_version)),
                      db.and_(~approved, pushed)))
        .options(joinedload(TimeEntry.user), joinedload(TimeEntry.client),
                 joinedload(TimeEntry.category).joinedload(BillableCategory.type))
        .order_by(TimeEntry.id)
    )
    if entry_ids is not None:
        stmt = stmt.where(TimeEntry.id.in_(list(entry_ids)))
    return list(db.session.execute(stmt).unique().scalars())


def clear_stale_messages(firm_id: int) -> None:
    """Entries held while approved and since returned to draft need no attention any more."""
    db.session.execute(
        db.update(TimeEntry)
        .where(TimeEntry.firm_id == firm_id, TimeEntry.status != "approved",
               TimeEntry.qbo_time_activity_id.is_(None), TimeEntry.sync_message.is_not(None))
        .values(sync_message=None)
    )


def push_time(firm_id: int, run: SyncRun, entry_ids: Iterable[int] | None = None,
              qbo: QboClient | None = None, retry_holds: bool = False) -> dict[str, int]:
    """Push the firm's due time (or only ``entry_ids``); commit per chunk; return counts.

    Nothing due -> no QboClient and no QBO call at all.
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
        ctx.items = load_items(qbo, _codes(ctx.firm, fresh))
        for start in range(0, len(fresh), CHUNK):
            push_chunk(ctx, fresh[start:start + CHUNK])
            db.session.commit()
    finally:
        if own:
            qbo.close()
    log.info("time_push firm=%s run=%s %s", firm_id, run.id,
             " ".join(f"{k}={v}" for k, v in ctx.tally.as_dict().items()))
    return ctx.tally.as_dict()


# -- items ---------------------------------------------------------------------------------------
def _code(firm: Firm, entry: TimeEntry) -> str | None:
    if entry.category is None:
        return None
    code = entry.category.code_for(firm.invoice_rollup)
    return code.strip() if code and code.strip() else None


def _codes(firm: Firm, entries: list[TimeEntry]) -> set[str]:
    return {c for e in entries if e.status == "approved" and (c := _code(firm, e))}


def load_items(qbo: QboClient, codes: Iterable[str]) -> dict[str, str]:
    """code (casefolded) -> Id of the active QBO Item of that Name; one query per ~1500 chars."""
    found: dict[str, str] = {}
    group: list[str] = []
    size = 0
    pending = sorted(set(codes))
    for n, code in enumerate(pending):
        group.append(escape(code))
        size += len(group[-1]) + 2
        if size > ITEM_QUERY_BUDGET or n == len(pending) - 1:
            where = f"Name IN ({', '.join(group)})"
            for item in qbo.query_all("Item", where=where):
                if item.get("Type") != "Category":
                    found.setdefault(str(item.get("Name", "")).casefold(), str(item["Id"]))
            group, size = [], 0
    return found


# -- one chunk -----------------------------------------------------------------------------------
def push_chunk(ctx: Context, chunk: list[TimeEntry]) -> None:
    """Plan, look up, mark, send and record one chunk (<= 30 entries); commits the marks."""
    plans: list[Plan] = []
    for entry in chunk:
        plan = _plan(ctx, entry)
        if plan is not None:
            plans.append(plan)
    replanned = [p for p in plans
                 if p.op == "create" and (p.entry.qbo_sync_token or "").startswith(PLANNED)]
    if replanned:
        adopt_existing(ctx, replanned)
    for plan in plans:
        if plan.op in ("update", "delete") and not plan.entry.qbo_sync_token:
            _refresh_token(ctx, plan)
    plans = [p for p in plans if p.op != "done"]
    for plan in plans:
        if plan.op == "create":
            plan.entry.qbo_sync_token = f"{PLANNED}{plan.entry.version}"
    db.session.commit()  # the marks must be durable before QBO can possibly act
    if not plans:
        return
    results = send(ctx, plans)
    for bid, plan in _bids(plans):
        outcome = results[bid]
        if outcome.ok:
            _accept(ctx, plan, outcome.data)
        elif plan.op in ("update", "delete") and isinstance(outcome.error, StaleObject):
            _retry_stale(ctx, plan)
        else:
            _failed(ctx, plan, outcome.error)


def _who(entry: TimeEntry) -> str:
    return f"{entry.user.name} on {entry.entry_date:%b %d, %Y}"


def _plan(ctx: Context, entry: TimeEntry) -> Plan | None:
    if entry.status != "approved":
        return Plan(entry, "delete", {"Id": entry.qbo_time_activity_id})
    match = ctx.directory.match(entry.user)
    if not match.ok:
        _hold(ctx, entry, "held", match.reason or "No matching QuickBooks employee.")
        return None
    customer_id = None
    if entry.client is not None:
        customer_id = ensure_customer(ctx.qbo, entry.client, ctx.run)
        if customer_id is None:
            _hold(ctx, entry, "held",
                  f"Time of {_who(entry)} is held: its client \"{entry.client.display_name}\" "
                  f"{CLIENT_HOLD} (see the client in this list for why). Fix the client; the "
                  "time follows on the next sync.")
            return None
    code = _code(ctx.firm, entry)
    item_id = ctx.items.get(code.casefold()) if code else None
    try:
        body = mapping.time_activity_payload(
            entry, firm_id=ctx.firm.id, employee_id=match.employee_id or "",
            hourly_rate=entry.user.hourly_rate, customer_id=customer_id, item_id=item_id)
    except ValueError as exc:
        _hold(ctx, entry, "rejected", f"Time of {_who(entry)} is held: {exc}. Fix: return it "
                                      "to draft and correct it.")
        return None
    note = (f' No QuickBooks product/service is named "{code}", so it went without one.'
            if code and not item_id else "")
    if entry.qbo_time_activity_id:
        body.update({"Id": entry.qbo_time_activity_id, "SyncToken": entry.qbo_sync_token,
                     "sparse": True})
        return Plan(entry, "update", body, match, note)
    return Plan(entry, "create", body, match, note)


def adopt_existing(ctx: Context, plans: list[Plan]) -> None:
    """Re-planned creates: find the TimeActivity an earlier, interrupted run created (same
    employee and date, our marker in its Description) and link it instead of creating."""
    dates = sorted({p.entry.entry_date.isoformat() for p in plans})
    where = f"TxnDate IN ({', '.join(escape(d) for d in dates)})"
    found: dict[int, dict[str, Any]] = {}
    for activity in ctx.qbo.query_all("TimeActivity", where=where):
        tag = mapping.marker_of(activity.get("Description"))
        if tag is not None and tag[0] == ctx.firm.id:
            found.setdefault(tag[1], activity)
    for plan in plans:
        activity = found.get(plan.entry.id)
        if activity is None:
            continue
        employee = (activity.get("EmployeeRef") or {}).get("value")
        if employee != plan.body["EmployeeRef"]["value"] or \
                activity.get("TxnDate") != plan.body["TxnDate"]:
            continue
        entry = plan.entry
        planned_version = (entry.qbo_sync_token or "")[len(PLANNED):]
        entry.qbo_time_activity_id = str(activity["Id"])
        entry.qbo_sync_token = str(activity.get("SyncToken", "0"))
        if planned_version == str(entry.version):
            _pushed(ctx, plan, activity, "linked",
                    f"Found the TimeActivity an interrupted sync created (Id {activity['Id']}); "
                    "linked it instead of creating another.")
            plan.op = "done"
        else:
            plan.op = "update"
            plan.body.update({"Id": entry.qbo_time_activity_id,
                              "SyncToken": entry.qbo_sync_token, "sparse": True})


def _refresh_token(ctx: Context, plan: Plan) -> None:
    try:
        current = ctx.qbo.get("TimeActivity", plan.entry.qbo_time_activity_id)
    except NotFound:
        _gone(ctx, plan)
        plan.op = "done"
        return
    plan.entry.qbo_sync_token = str(current["SyncToken"])
    plan.body["SyncToken"] = plan.entry.qbo_sync_token


# -- sending -------------------------------------------------------------------------------------
def _bids(plans: list[Plan]) -> list[tuple[str, Plan]]:
    return [(f"t{n}", plan) for n, plan in enumerate(plans)]


def request_id(firm_id: int, plan: Plan) -> str:
    """<= 50 chars, stable for one logical write: firm, entry, version (+ SyncToken)."""
    entry = plan.entry
    base = f"t{plan.op[0]}-{firm_id}-{entry.id}-v{entry.version}"
    return base if plan.op == "create" else f"{base}-t{entry.qbo_sync_token}"


def batch_request_id(firm_id: int, plans: list[Plan]) -> str:
    """<= 36 chars; the same planned writes (entries, versions, tokens) -> the same id."""
    spec = ";".join(f"{bid}.{p.op}.{p.entry.id}.{p.entry.version}.{p.entry.qbo_sync_token or ''}"
                    for bid, p in _bids(plans))
    return "tb" + hashlib.sha256(f"{firm_id}|{spec}".encode()).hexdigest()[:32]


def _delete_body(plan: Plan) -> dict[str, Any]:
    return {"Id": plan.entry.qbo_time_activity_id, "SyncToken": plan.entry.qbo_sync_token}


def send(ctx: Context, plans: list[Plan]) -> dict[str, BatchItemResult]:
    """One write call: a plain create/update/delete for one entry, else one batch."""
    if len(plans) == 1:
        return {"t0": single(ctx, plans[0])}
    items = []
    for bid, plan in _bids(plans):
        body = _delete_body(plan) if plan.op == "delete" else plan.body
        items.append({"bId": bid, "operation": plan.op, "TimeActivity": body})
    return ctx.qbo.batch(items, batch_request_id(ctx.firm.id, plans))


def single(ctx: Context, plan: Plan) -> BatchItemResult:
    rid = request_id(ctx.firm.id, plan)
    try:
        if plan.op == "create":
            data = ctx.qbo.create("TimeActivity", plan.body, rid)
        elif plan.op == "update":
            data = ctx.qbo.update("TimeActivity", plan.body, rid)
        else:
            data = ctx.qbo.delete("TimeActivity", plan.entry.qbo_time_activity_id,
                                  plan.entry.qbo_sync_token, rid)
    except (StaleObject, ValidationFault, NotFound) as exc:
        return BatchItemResult("t0", None, None, exc)
    return BatchItemResult("t0", "TimeActivity", data, None)


# -- outcomes ------------------------------------------------------------------------------------
def _accept(ctx: Context, plan: Plan, data: dict[str, Any]) -> None:
    if plan.op == "delete":
        _gone(ctx, plan, "deleted",
              f"Returned to draft: deleted TimeActivity Id {plan.entry.qbo_time_activity_id} "
              "in QuickBooks.")
        return
    action = "pushed" if plan.op == "create" else "updated"
    _pushed(ctx, plan, data, action, f"TimeActivity Id {data['Id']} for employee "
                                     f"{plan.body['EmployeeRef']['value']}.{plan.note}")


def _pushed(ctx: Context, plan: Plan, data: dict[str, Any], action: str, message: str) -> None:
    entry = plan.entry
    entry.qbo_time_activity_id = str(data["Id"])
    entry.qbo_sync_token = str(data.get("SyncToken", "0"))
    entry.qbo_pushed_version = entry.version
    entry.sync_message = None
    events.release(ctx.firm.id, ENTITY, [entry.id])
    record(ctx.run, ENTITY, entry.id, action, "ok", message, counts=ctx.tally)
    match = plan.match
    if match is not None and entry.billable and mapping.rate_mismatch(entry.user.hourly_rate,
                                                                      match.bill_rate):
        record(ctx.run, ENTITY, entry.id, "rate_mismatch", "ok",
               f"Pushed {entry.user.name}'s time at the portal rate "
               f"{entry.user.hourly_rate:.2f}/h, but QuickBooks employee Id {match.employee_id} "
               f"has BillRate {mapping.money(match.bill_rate):.2f}/h. Fix: make the two rates "
               "agree (the portal user's rate or the employee's BillRate in QuickBooks Payroll).",
               counts=ctx.tally)


def _gone(ctx: Context, plan: Plan, action: str = "deleted", message: str | None = None) -> None:
    """The TimeActivity no longer exists in QBO (we deleted it, or someone did)."""
    entry = plan.entry
    old = entry.qbo_time_activity_id
    entry.qbo_time_activity_id = None
    entry.qbo_sync_token = None
    entry.qbo_pushed_version = 0
    events.release(ctx.firm.id, ENTITY, [entry.id])
    if entry.status != "approved":
        entry.sync_message = None
        record(ctx.run, ENTITY, entry.id, action, "ok",
               message or f"TimeActivity Id {old} was already gone from QuickBooks.",
               counts=ctx.tally)
    else:
        record(ctx.run, ENTITY, entry.id, "missing", "failed",
               f"Time of {_who(entry)}: TimeActivity Id {old} no longer exists in QuickBooks "
               "(deleted there). The next sync creates it again.", counts=ctx.tally)


def _retry_stale(ctx: Context, plan: Plan) -> None:
    """5010: the TimeActivity changed in QBO since our last write; re-read it, retry once."""
    _refresh_token(ctx, plan)
    if plan.op == "done":
        return
    outcome = single(ctx, plan)
    if outcome.ok:
        _accept(ctx, plan, outcome.data)
    elif isinstance(outcome.error, StaleObject):
        record(ctx.run, ENTITY, plan.entry.id, "stale", "failed",
               f"Time of {_who(plan.entry)}: QuickBooks reported the TimeActivity changed again "
               "while we wrote it (5010); the next sync retries.", counts=ctx.tally)
    else:
        _failed(ctx, plan, outcome.error)


def _describe(error: QboError | None) -> str:
    if error is None:
        return "no answer"
    text = error.detail or error.message or str(error)
    return f"{text} (code {error.code})" if error.code else text


def _failed(ctx: Context, plan: Plan, error: QboError | None) -> None:
    entry = plan.entry
    if isinstance(error, NotFound) and plan.op == "delete":
        _gone(ctx, plan)
        return
    if isinstance(error, NotFound) and plan.op == "update":
        try:
            ctx.qbo.get("TimeActivity", entry.qbo_time_activity_id)
        except NotFound:
            _gone(ctx, plan)
            return
    if isinstance(error, (ValidationFault, NotFound)):
        if plan.op == "create":
            entry.qbo_sync_token = None  # refused: nothing was created, no lookup needed
        _hold(ctx, entry, "rejected",
              f"QuickBooks refused the time of {_who(entry)}: {_describe(error)}. Fix what it "
              "names (in QuickBooks, or return the entry to draft and correct it), then press "
              "Sync now on the Integrations tab.")
        return
    record(ctx.run, ENTITY, entry.id, "failed", "failed",
           f"Time of {_who(entry)}: {_describe(error)}. The next sync retries.",
           counts=ctx.tally)


def _hold(ctx: Context, entry: TimeEntry, action: str, reason: str) -> None:
    events.hold(ctx.firm.id, ENTITY, entry.id, entry.version, reason)
    entry.sync_message = reason[:2000]
    record(ctx.run, ENTITY, entry.id, action, "held", reason, counts=ctx.tally)
