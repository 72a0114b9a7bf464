"""Glue between the HTTP layer and the query language (``qbo_sandbox.query``).

The parser/executor lives in ``query.py`` (``parse(text) -> Query`` raising
``QueryError(code, message, detail)``; ``execute(q, entities) -> dict``). This module only picks
the stored entities to hand it and wraps the result in QBO's envelope.
"""

from __future__ import annotations

import importlib
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
    rows = sb.store.list_entities(realm, entity) if entity else []
    try:
        return qmod.execute(parsed, rows)
    except qmod.QueryError as exc:
        raise fault(exc.code, exc.message, exc.detail, "") from None


def run(sb: Sandbox, realm: str, text: str) -> dict[str, Any]:
    return {"QueryResponse": query_response(sb, realm, text), "time": sb.time_field(realm)}
