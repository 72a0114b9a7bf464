"""Time sync writes: one QBO call per chunk (a plain create/update/delete for one entry, else
one batch), each with a requestid stable across retries."""

from __future__ import annotations

import hashlib
from typing import Any

from portal.qbo.client import BatchItemResult
from portal.qbo.errors import NotFound, StaleObject, ValidationFault
from portal.qbo.sync.time_plan import Context, Plan


def bids(plans: list[Plan]) -> list[tuple[str, Plan]]:
    return [(f"t{n}", plan) for n, plan in enumerate(plans)]


def request_id(firm_id: int, plan: Plan) -> str:
    """<= 50 chars, stable for one logical write: firm, entry, version (+ SyncToken)."""
    entry = plan.entry
    base = f"t{plan.op[0]}-{firm_id}-{entry.id}-v{entry.version}"
    return base if plan.op == "create" else f"{base}-t{entry.qbo_sync_token}"


def batch_request_id(firm_id: int, plans: list[Plan]) -> str:
    """<= 36 chars; the same planned writes (entries, versions, tokens) -> the same id."""
    spec = ";".join(f"{bid}.{p.op}.{p.entry.id}.{p.entry.version}.{p.entry.qbo_sync_token or ''}"
                    for bid, p in bids(plans))
    return "tb" + hashlib.sha256(f"{firm_id}|{spec}".encode()).hexdigest()[:32]


def _delete_body(plan: Plan) -> dict[str, Any]:
    return {"Id": plan.entry.qbo_time_activity_id, "SyncToken": plan.entry.qbo_sync_token}


def send(ctx: Context, plans: list[Plan]) -> dict[str, BatchItemResult]:
    """One write call: a plain create/update/delete for one entry, else one batch."""
    if len(plans) == 1:
        return {"t0": single(ctx, plans[0])}
    items = []
    for bid, plan in bids(plans):
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
