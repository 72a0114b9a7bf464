"""Time sync planning: what to write for each due entry, and the QBO reads planning needs
(Items by code, TimeActivities an interrupted run created, current SyncTokens)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from portal.models import Firm, SyncRun, TimeEntry
from portal.qbo.client import QboClient, escape
from portal.qbo.errors import NotFound
from portal.qbo.mapping import time as mapping
from portal.qbo.sync.customers import ensure_customer
from portal.qbo.sync.employees import Directory, Match
from portal.qbo.sync.events import Tally
from portal.qbo.sync.items import lookup_items
from portal.qbo.sync.time_outcomes import gone, hold, pushed, who

PLANNED = "planned-v"
CLIENT_HOLD = "is not in QuickBooks yet"


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


# -- items ---------------------------------------------------------------------------------------
def _code(firm: Firm, entry: TimeEntry) -> str | None:
    if entry.category is None:
        return None
    code = entry.category.code_for(firm.invoice_rollup)
    return code.strip() if code and code.strip() else None


def item_codes(firm: Firm, entries: list[TimeEntry]) -> set[str]:
    return {c for e in entries if e.status == "approved" and (c := _code(firm, e))}


def load_items(qbo: QboClient, firm_id: int, codes: Iterable[str]) -> dict[str, str]:
    """code key -> Id of the usable QBO Item of that Name, asked fresh once per run through the
    same lookup the invoice sync and the Customizations check use (portal.qbo.sync.items)."""
    answers = lookup_items(qbo, firm_id, codes, fresh=True)
    return {key: info.item_id for key, info in answers.items() if info.usable and info.item_id}


# -- planning -------------------------------------------------------------------------------------
def plan_entry(ctx: Context, entry: TimeEntry) -> Plan | None:
    if entry.status != "approved":
        return Plan(entry, "delete", {"Id": entry.qbo_time_activity_id})
    match = ctx.directory.match(entry.user)
    if not match.ok:
        hold(ctx, entry, "held", match.reason or "No matching QuickBooks employee.")
        return None
    customer_id = None
    if entry.client is not None:
        customer_id = ensure_customer(ctx.qbo, entry.client, ctx.run)
        if customer_id is None:
            hold(ctx, entry, "held",
                 f"Time of {who(entry)} is held: its client \"{entry.client.display_name}\" "
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
        hold(ctx, entry, "rejected", f"Time of {who(entry)} is held: {exc}. Fix: return it "
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
            pushed(ctx, plan, activity, "linked",
                   f"Found the TimeActivity an interrupted sync created (Id {activity['Id']}); "
                   "linked it instead of creating another.")
            plan.op = "done"
        else:
            plan.op = "update"
            plan.body.update({"Id": entry.qbo_time_activity_id,
                              "SyncToken": entry.qbo_sync_token, "sparse": True})


def refresh_token(ctx: Context, plan: Plan) -> None:
    try:
        current = ctx.qbo.get("TimeActivity", plan.entry.qbo_time_activity_id)
    except NotFound:
        gone(ctx, plan)
        plan.op = "done"
        return
    plan.entry.qbo_sync_token = str(current["SyncToken"])
    plan.body["SyncToken"] = plan.entry.qbo_sync_token
