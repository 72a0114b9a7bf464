"""The QuickBooks check on Customizations (I1): which codes QBO has as usable
Products/Services, and which NEW invoices would be held right now and why.

The page never calls QBO (DESIGN §1). It reads the answers ``portal.qbo.sync.items`` caches in
Redis (one Item query for every code of the firm, kept briefly); when some are missing it
queues ``portal.jobs.item_check_jobs.refresh_item_check`` and renders a pending check, which the
page's script follows through ``status()`` and turns into a reload once the answers are there.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from redis.exceptions import RedisError

from portal.auth.access import scoped
from portal.extensions import db
from portal.jobs.item_check_jobs import (
    enqueue_item_check,
    job_failed,
    recorded_failure,
    waiting_job,
)
from portal.models import BillableType, Firm, Invoice, QboConnection
from portal.qbo.mapping.invoices import MISSING, ItemInfo, code_key, invoice_payload
from portal.qbo.sync import events
from portal.qbo.sync.items import cache_key
from portal.redis_conn import get_redis

WOULD_HOLD_SCAN = 200  # NEW invoices examined for the panel (oldest first)
UNKNOWN_FAILURE = "the check did not finish"


@dataclass
class WouldHold:
    invoice: Invoice
    reasons: list[str]


@dataclass
class QboCheck:
    state: str  # ok | pending | not_connected | error
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


def firm_codes(firm_id: int) -> set[str]:
    """Every code of the firm, active or not (for the job, which has no signed-in user)."""
    types = db.session.execute(
        db.select(BillableType).where(BillableType.firm_id == firm_id)).scalars()
    return _codes(types)


def cached_items(firm_id: int, realm_id: str, codes: Iterable[str]
                 ) -> dict[str, ItemInfo] | None:
    """The cached answer for every code, or None when any is missing (or Redis is down)."""
    keys = sorted({code_key(c) for c in codes if c and c.strip()})
    if not keys:
        return {}
    try:
        raw = get_redis().hmget(cache_key(firm_id, realm_id), keys)
    except RedisError:
        return None
    if any(value is None for value in raw):
        return None
    return {k: ItemInfo(**json.loads(v)) for k, v in zip(keys, raw, strict=True)}


def _connection() -> QboConnection | None:
    conn = db.session.execute(scoped(QboConnection)).scalar_one_or_none()
    return conn if conn is not None and conn.status == "connected" else None


def live_check(firm: Firm, types: list[BillableType]) -> QboCheck:
    """The check from cached answers only; queues the job (and says pending) when missing."""
    conn = _connection()
    if conn is None:
        return QboCheck("not_connected")
    items = cached_items(firm.id, conn.realm_id, _codes(types))
    if items is None:
        failure = recorded_failure(firm.id)
        if failure is not None:
            return QboCheck("error", error=failure)
        enqueue_item_check(firm.id)
        return QboCheck("pending")
    check = QboCheck("ok", items=items)
    _would_hold(firm, check)
    return check


def status(firm: Firm, types: list[BillableType]) -> dict[str, object]:
    """What the page's script needs while the check is pending (never calls QBO or queues)."""
    conn = _connection()
    if conn is None or cached_items(firm.id, conn.realm_id, _codes(types)) is not None:
        return {"ready": True, "failed": False, "message": None}
    failure = recorded_failure(firm.id)
    if failure is None and waiting_job(firm.id) is None and job_failed(firm.id):
        failure = UNKNOWN_FAILURE
    return {"ready": False, "failed": failure is not None, "message": failure}


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
