"""The live QuickBooks check on Customizations (I1): which codes QBO has as usable
Products/Services, and which NEW invoices would be held right now and why.

One Item query for every code of the firm (cached briefly in Redis by
``portal.qbo.sync.items``), made with a single attempt and short timeouts: the page must render
quickly even when QBO is slow or down, and then simply says it could not check.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask import current_app

from portal.auth.access import scoped
from portal.extensions import db
from portal.models import BillableType, Firm, Invoice, QboConnection
from portal.qbo.client import QboClient
from portal.qbo.errors import QboError
from portal.qbo.mapping.invoices import MISSING, ItemInfo, code_key, invoice_payload
from portal.qbo.sync import events
from portal.qbo.sync.items import lookup_items

log = logging.getLogger(__name__)

WOULD_HOLD_SCAN = 200  # NEW invoices examined for the panel (oldest first)
PAGE_CHECK_CONFIG = {"QBO_MAX_ATTEMPTS": 1, "QBO_CONNECT_TIMEOUT": 3.0, "QBO_HTTP_TIMEOUT": 8.0}


@dataclass
class WouldHold:
    invoice: Invoice
    reasons: list[str]


@dataclass
class QboCheck:
    state: str  # ok | not_connected | error
    items: dict[str, ItemInfo] = field(default_factory=dict)
    error: str | None = None
    would_hold: list[WouldHold] = field(default_factory=list)
    scanned: int = 0

    def info(self, code: str) -> ItemInfo:
        return self.items.get(code_key(code)) or ItemInfo(code, MISSING)


def _codes(types: Iterable[BillableType]) -> set[str]:
    codes: set[str] = set()
    for btype in types:
        if btype.code:
            codes.add(btype.code)
        codes.update(c.code for c in btype.categories if c.code)
    return codes


def live_check(firm: Firm, types: list[BillableType]) -> QboCheck:
    conn = db.session.execute(scoped(QboConnection)).scalar_one_or_none()
    if conn is None or conn.status != "connected":
        return QboCheck("not_connected")
    codes = _codes(types)
    try:
        config = {**current_app.config, **PAGE_CHECK_CONFIG}
        with QboClient(firm.id, app_config=config) as qbo:
            items = lookup_items(qbo, firm.id, codes)
    except QboError as exc:
        log.warning("event=qbo_item_check_failed firm=%s error=%s", firm.id, type(exc).__name__)
        return QboCheck("error", error=exc.message)
    check = QboCheck("ok", items=items)
    _would_hold(firm, check)
    return check


def _would_hold(firm: Firm, check: QboCheck) -> None:
    """NEW invoices that the next push would hold, with the reasons (no QBO call)."""
    invoices = list(db.session.execute(
        scoped(Invoice).where(Invoice.status == "new", Invoice.qbo_invoice_id.is_(None))
        .order_by(Invoice.id).limit(WOULD_HOLD_SCAN)
    ).scalars())
    check.scanned = len(invoices)
    client_holds = events.holds(firm.id, "client")
    for invoice in invoices:
        client = invoice.client
        reasons: list[str] = []
        hold = client_holds.get(client.id)
        if not client.qbo_customer_id and hold is not None and hold.version == client.version:
            reasons.append(f'The client "{client.display_name}" cannot be sent to QuickBooks: '
                           f"{hold.reason}")
        mapped = invoice_payload(invoice, firm.invoice_rollup, client.qbo_customer_id or "-",
                                 check.items)
        reasons.extend(mapped.problems)
        if reasons:
            check.would_hold.append(WouldHold(invoice, reasons))
