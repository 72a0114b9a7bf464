"""Time sync outcomes: what an entry's write (or refusal) leaves on the entry, in the run's
events and in the holds (see ``portal.qbo.sync.time`` for the flow)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from portal.models import TimeEntry
from portal.qbo.errors import NotFound, QboError, ValidationFault
from portal.qbo.mapping import time as mapping
from portal.qbo.sync import events
from portal.qbo.sync.events import record

if TYPE_CHECKING:  # the plan module imports this one
    from portal.qbo.sync.time_plan import Context, Plan

ENTITY = "time_entry"


def who(entry: TimeEntry) -> str:
    return f"{entry.user.name} on {entry.entry_date:%b %d, %Y}"


# -- outcomes ------------------------------------------------------------------------------------
def accept(ctx: Context, plan: Plan, data: dict[str, Any]) -> None:
    if plan.op == "delete":
        gone(ctx, plan, "deleted",
             f"Returned to draft: deleted TimeActivity Id {plan.entry.qbo_time_activity_id} "
             "in QuickBooks.")
        return
    action = "pushed" if plan.op == "create" else "updated"
    pushed(ctx, plan, data, action, f"TimeActivity Id {data['Id']} for employee "
                                    f"{plan.body['EmployeeRef']['value']}.{plan.note}")


def pushed(ctx: Context, plan: Plan, data: dict[str, Any], action: str, message: str) -> None:
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
        # "flagged": pushed, yet an admin should look (it shows under Needs attention).
        record(ctx.run, ENTITY, entry.id, "rate_mismatch", "flagged",
               f"Pushed {entry.user.name}'s time at the portal rate "
               f"{entry.user.hourly_rate:.2f}/h, but QuickBooks employee Id {match.employee_id} "
               f"has BillRate {mapping.money(match.bill_rate):.2f}/h. Fix: make the two rates "
               "agree (the portal user's rate or the employee's BillRate in QuickBooks Payroll).",
               counts=ctx.tally)


def gone(ctx: Context, plan: Plan, action: str = "deleted", message: str | None = None) -> None:
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
               f"Time of {who(entry)}: TimeActivity Id {old} no longer exists in QuickBooks "
               "(deleted there). The next sync creates it again.", counts=ctx.tally)


def _describe(error: QboError | None) -> str:
    if error is None:
        return "no answer"
    text = error.detail or error.message or str(error)
    return f"{text} (code {error.code})" if error.code else text


def failed(ctx: Context, plan: Plan, error: QboError | None) -> None:
    entry = plan.entry
    if isinstance(error, NotFound) and plan.op == "delete":
        gone(ctx, plan)
        return
    if isinstance(error, NotFound) and plan.op == "update":
        try:
            ctx.qbo.get("TimeActivity", entry.qbo_time_activity_id)
        except NotFound:
            gone(ctx, plan)
            return
    if isinstance(error, (ValidationFault, NotFound)):
        if plan.op == "create":
            entry.qbo_sync_token = None  # refused: nothing was created, no lookup needed
        hold(ctx, entry, "rejected",
             f"QuickBooks refused the time of {who(entry)}: {_describe(error)}. Fix what it "
             "names (in QuickBooks, or return the entry to draft and correct it), then press "
             "Sync now on the Integrations tab.")
        return
    record(ctx.run, ENTITY, entry.id, "failed", "failed",
           f"Time of {who(entry)}: {_describe(error)}. The next sync retries.",
           counts=ctx.tally)


def hold(ctx: Context, entry: TimeEntry, action: str, reason: str) -> None:
    events.hold(ctx.firm.id, ENTITY, entry.id, entry.version, reason)
    entry.sync_message = reason[:2000]
    record(ctx.run, ENTITY, entry.id, action, "held", reason, counts=ctx.tally)
