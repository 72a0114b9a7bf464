"""``POST /batch``: up to 30 independent operations, one answer per ``bId``.

Items run one after another; a failing item gets its own ``Fault`` and never rolls back the
others. Per-item latency (``batch_item_latency_ms``) is slept outside the store lock.
"""

from __future__ import annotations

from typing import Any

from . import cdc, queries, service
from .core import Sandbox
from .errors import QboFault, bad_length, fault, required, unsupported


def run(
    sb: Sandbox, realm: str, body: Any, opts: dict[str, Any], check_bids: bool = False
) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("BatchItemRequest"), list):
        raise required("BatchItemRequest")
    items = body["BatchItemRequest"]
    unknown = [k for k in body if k != "BatchItemRequest"]
    if unknown:
        raise fault(
            "2010",
            "Request has invalid or unsupported property",
            f'Property Name:Unrecognized field "{unknown[0]}" (class com.intuit.schema.finance.v3.'
            "IntuitBatchRequest), not marked as ignorable",
            "",
        )
    limit = sb.config["batch_max_items"]
    if len(items) > limit:
        raise fault(
            "1040",
            "Batch size exceeds allowed limit",
            f"Batch size {len(items)} exceeds the maximum of {limit} items",
            "",
        )
    if not items:
        raise required("BatchItemRequest")
    seen: set[str] = set()
    for item in items:
        bid = str(item.get("bId", "")) if isinstance(item, dict) else ""
        if not bid:
            raise required("BatchItemRequest.bId")
        if check_bids and len(bid) > 10:
            raise bad_length("bId", 10, len(bid), 1)
        if bid in seen:
            raise fault(
                "2010",
                "Request has invalid or unsupported property",
                f"Duplicate bId : {bid}",
                "bId",
            )
        seen.add(bid)
    out = []
    for item in items:
        sb.clock.sleep(sb.config["batch_item_latency_ms"] / 1000)
        try:
            out.append({"bId": str(item["bId"]), **_one(sb, realm, item, opts)})
        except QboFault as exc:
            out.append({"bId": str(item["bId"]), "Fault": exc.fault_dict()})
    return {"BatchItemResponse": out, "time": sb.time_field(realm)}


def _one(sb: Sandbox, realm: str, item: dict[str, Any], opts: dict[str, Any]) -> dict[str, Any]:
    keys = [k for k in item if k not in ("bId", "operation", "optionsData")]
    if keys == ["Query"]:
        return {"QueryResponse": queries.query_response(sb, realm, str(item["Query"]))}
    if keys == ["CDCQuery"]:
        spec = item["CDCQuery"] if isinstance(item["CDCQuery"], dict) else {}
        body = cdc.run(sb, realm, spec.get("Entities"), spec.get("ChangedSince"))
        return {"CDCResponse": body["CDCResponse"]}
    if len(keys) != 1:
        raise fault(
            "2010",
            "Request has invalid or unsupported property",
            "Each BatchItemRequest needs exactly one of an entity, Query or CDCQuery",
            "",
        )
    entity = keys[0]
    if entity not in service.ENTITIES:
        raise unsupported(f"Operation on {entity} is not supported in this batch.")
    op = item.get("operation")
    if op not in ("create", "update", "delete", "void"):
        raise fault(
            "2170", "Invalid Enumeration", f"Invalid Enumeration : operation {op}", "operation"
        )
    payload = item[entity]
    if op == "create" and isinstance(payload, dict) and payload.get("Id"):
        raise unsupported("Create must not carry an Id.")
    body = service.write(sb, realm, entity, payload, None if op == "create" else op, opts)
    return {entity: body[entity]}
