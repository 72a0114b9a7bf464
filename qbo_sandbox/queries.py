"""Glue between the HTTP layer and the query language (``qbo_sandbox.query``).

The parser/executor lives in ``query.py`` (``parse(text) -> Query`` raising
``QueryError(code, message, detail)``; ``execute(q, entities) -> dict``). This module only picks
the stored entities to hand it and wraps the result in QBO's envelope.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

from .core import Sandbox
from .errors import fault, system_fault
from .service import ENTITIES

# Real QBO entities this sandbox does not store: queries on them answer with no rows.
EMPTY_ENTITIES = {
    "Account",
    "Attachable",
    "Bill",
    "BillPayment",
    "Budget",
    "Class",
    "CreditMemo",
    "Deposit",
    "Department",
    "Estimate",
    "JournalEntry",
    "PaymentMethod",
    "Purchase",
    "PurchaseOrder",
    "RefundReceipt",
    "SalesReceipt",
    "TaxAgency",
    "TaxCode",
    "TaxRate",
    "Term",
    "Transfer",
    "VendorCredit",
}


def query_response(sb: Sandbox, realm: str, text: str) -> dict[str, Any]:
    """The inner ``QueryResponse`` dict (shared by /query and batch items)."""
    try:
        qmod = importlib.import_module("qbo_sandbox.query")
    except ImportError:
        raise system_fault("the query engine is not installed", status=400) from None
    if not text or not text.strip():
        raise fault(
            "4000",
            "Error parsing query",
            'QueryParserError: Encountered " <EOF> "" at line 1, column 1.',
            "",
        )
    try:
        parsed = qmod.parse(text)
    except qmod.QueryError as exc:
        raise fault(exc.code, exc.message, exc.detail, "") from None
    wanted = str(parsed.entity)
    entity = next((e for e in ENTITIES if e.lower() == wanted.lower()), None)
    if entity is None and wanted.lower() not in {e.lower() for e in EMPTY_ENTITIES}:
        raise fault(
            "4001",
            "Invalid query",
            f"QueryValidationError: Invalid context declaration : {wanted}",
            "",
        )
    rows = _candidates(sb, realm, entity, parsed) if entity else []
    try:
        body = qmod.execute(parsed, rows)
    except qmod.QueryError as exc:
        raise fault(exc.code, exc.message, exc.detail, "") from None
    if entity and body.get(entity):  # the rows are the store's shared mirror: hand out copies
        body[entity] = json.loads(json.dumps(body[entity]))
    return body


# Kinds whose ``=``/``IN`` is plain equality of a normalised value (query_values._normal).
_INDEXABLE = ("id", "ref", "str", "email")


def _candidates(sb: Sandbox, realm: str, entity: str, parsed: Any) -> list[dict[str, Any]]:
    """A superset of the rows ``parsed`` selects: the index hits of its first ``=``/``IN``
    condition on an indexable property (every condition is still checked by ``execute``),
    else every live row. Keeps lookups by name or Id from scanning the whole realm."""
    from .query_values import NULL, _lit, _normal, lookup

    for cond in parsed.where:
        kind = cond.field.kind
        if cond.op not in ("=", "IN") or kind not in _INDEXABLE or NULL in cond.values:
            continue
        path = cond.field.path

        def key(doc: dict[str, Any], kind: str = kind, path: tuple[str, ...] = path) -> Any:
            raw = lookup(doc, path)
            return None if raw is None or raw == "" else _normal(kind, raw)

        keys = [_lit(kind, v) for v in cond.values]
        return sb.store.select(realm, entity, ("query", kind, path), key, keys)
    return sb.store.select(realm, entity)


def run(sb: Sandbox, realm: str, text: str) -> dict[str, Any]:
    return {"QueryResponse": query_response(sb, realm, text), "time": sb.time_field(realm)}
