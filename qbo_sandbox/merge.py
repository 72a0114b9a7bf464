"""Merging customers, as QBO's UI does it (there is no merge API; reference §8.1).

Merging A into B moves A's invoices, payments and time activities to B (each saved as an
``Update``, so CDC and webhooks see them), moves A's balance to B and makes A inactive. One
``Merge`` change event is emitted for B carrying A's Id as ``merged_from_id`` (legacy webhook
``deletedId``); A's own deactivation is not reported separately.

UNCONFIRMED: QBO's merged-away record may read as deleted rather than inactive; we keep it
inactive with its name (so the name stays taken, as for any inactive name).
"""

from __future__ import annotations

import copy
from typing import Any

from .core import Sandbox
from .entities.txns import adjust_customer
from .errors import business, not_found
from .service import Ctx

MOVABLE = ("Invoice", "Payment", "TimeActivity")


def merge_customers(sb: Sandbox, realm: str, from_id: str, into_id: str) -> dict[str, Any]:
    """Merge customer ``from_id`` into ``into_id``; returns the surviving customer."""
    ctx = Ctx(sb, realm)
    with sb.store.transaction():
        source = ctx.load("Customer", from_id)
        if source is None:
            raise not_found("Customer", str(from_id))
        target = ctx.load("Customer", into_id)
        if target is None:
            raise not_found("Customer", str(into_id))
        _check(ctx, source, target)
        ref = {"value": target["Id"], "name": target["DisplayName"]}
        for entity in MOVABLE:
            for doc in ctx.all(entity):
                if (doc.get("CustomerRef") or {}).get("value") != source["Id"]:
                    continue
                new = copy.deepcopy(doc)
                new["CustomerRef"] = dict(ref)
                ctx.save(entity, new, "Update", doc)
        remaining = (ctx.load("Customer", source["Id"]) or source).get("Balance", 0) or 0
        adjust_customer(ctx, source["Id"], -remaining)
        adjust_customer(ctx, target["Id"], remaining)
        fresh = ctx.load("Customer", source["Id"]) or source
        ctx.save("Customer", dict(fresh, Active=False), "Update", fresh)
        ctx.events.pop()  # the Merge event below stands for the merged-away customer
        ctx.event("Customer", target["Id"], "Merge", merged_from=source["Id"])
        survivor = ctx.load("Customer", target["Id"]) or target
    sb.emit(ctx.events)
    return survivor


def _check(ctx: Ctx, source: dict[str, Any], target: dict[str, Any]) -> None:
    if source["Id"] == target["Id"]:
        raise business("A customer can't be merged into itself.")
    if source.get("Active") is False:
        raise business(f"{source['DisplayName']} is inactive and can't be merged.")
    if target.get("Active") is False:
        raise business(f"{target['DisplayName']} is inactive; make it active before merging.")
    children = [
        c["DisplayName"]
        for c in ctx.all("Customer")
        if (c.get("ParentRef") or {}).get("value") == source["Id"] and c.get("Active") is not False
    ]
    if children:
        raise business(
            f"{source['DisplayName']} has active sub-customers ({', '.join(children)}); "
            "merge or move them first."
        )
