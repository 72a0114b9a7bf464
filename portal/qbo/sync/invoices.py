"""Push NEW invoices to QBO (I2, I3), exactly once (I4).

Every ``new`` invoice without a QBO id goes out in chunks of 30:

1. One Item query per run tells which codes are usable (``portal.qbo.sync.items``). Each
   invoice's client is linked (or pushed) first through ``customers.ensure_customer``.
2. ``portal.qbo.mapping.invoices`` builds the payload or the reasons to hold the invoice back:
   a hold keeps it ``new`` with ``sync_message`` saying what to fix. Holds for codes are checked
   again every run (the fix is usually made in QBO or in Customizations, not on the invoice);
   the sync log gets a ``held`` event when the reason changes, not every hour.
3. Before any create, one ``DocNumber IN (...)`` query per chunk: an invoice we already created
   (our marker in PrivateNote; the answer was lost, or the worker died before our commit) is
   linked, never created twice; one that is someone else's is a DocNumber clash (6140), reported
   and not retried until the invoice is edited (renumbered).
4. Creates go out as one plain POST (one invoice) or one batch call per chunk, with a requestid
   derived from what is written (invoice, version, payload digest), so a retried call replays.
5. Success: ``processed_externally`` with the QBO Id, DocNumber and SyncToken; from then on the
   invoice is read-only (portal.invoices.views refuses edits server-side).

A transport, auth or throttle failure that outlasts the client's retries stops the run: the
chunk's invoices get a ``failed`` event, earlier chunks stay committed, and the error is raised
so the job (and its SyncRun) fail visibly.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.models import BillableCategory, Client, Firm, Invoice, InvoiceLine, SyncRun
from portal.models._common import utcnow
from portal.qbo.client import BatchItemResult, QboClient, escape
from portal.qbo.errors import (
    DuplicateDocNumber,
    NotFound,
    QboError,
    StaleObject,
    ValidationFault,
)
from portal.qbo.mapping import invoices as mapping
from portal.qbo.mapping.invoices import ItemInfo, MappedInvoice, code_key
from portal.qbo.sync import events, items
from portal.qbo.sync.events import Tally, record

log = logging.getLogger("portal.sync")

ENTITY = "invoice"
CHUNK = 30
CENT = Decimal("0.01")
Progress = Callable[[int, int], None]
Plan = tuple[Invoice, MappedInvoice]

# Everything the mapping reads, loaded in a few queries per chunk instead of one per line.
LOAD = (
    selectinload(Invoice.client),
    selectinload(Invoice.lines).selectinload(InvoiceLine.category)
    .selectinload(BillableCategory.type),
    selectinload(Invoice.lines).selectinload(InvoiceLine.type),
)

CLIENT_HELD = (
    'The client "{name}" is not linked to a QuickBooks customer and could not be sent: {why} '
    "Fix that first; the invoice goes with the next sync."
)
CLASH = (
    "QuickBooks already has invoice number {number} (QuickBooks invoice Id {qid}{whose}), and it "
    "was not sent from this portal. Fix: change this invoice's number (or the one in "
    "QuickBooks), then push it again."
)
REFUSED = ("QuickBooks refused the invoice: {error}. Fix: correct the invoice (or the record "
           "QuickBooks names), then push it again.")


# -- entry point ---------------------------------------------------------------------------------
def due_invoices(firm_id: int, invoice_ids: Iterable[int] | None = None) -> list[Invoice]:
    """NEW invoices not yet in QBO. Invoices QBO refused as they are wait until edited, unless
    named explicitly (a person pressed Push)."""
    stmt = (db.select(Invoice)
            .where(Invoice.firm_id == firm_id, Invoice.status == "new",
                   Invoice.qbo_invoice_id.is_(None))
            .options(*LOAD).order_by(Invoice.id))
    if invoice_ids is not None:
        return list(db.session.execute(stmt.where(Invoice.id.in_(list(invoice_ids)))).scalars())
    refused = events.holds(firm_id, ENTITY)
    return [inv for inv in db.session.execute(stmt).scalars()
            if inv.id not in refused or refused[inv.id].version != inv.version]


def push_invoices(firm_id: int, run: SyncRun, invoice_ids: Iterable[int] | None = None,
                  qbo: QboClient | None = None, progress: Progress | None = None
                  ) -> dict[str, int]:
    """Push the firm's due invoices (or only ``invoice_ids``); commit per chunk; return counts.

    Nothing due -> no QboClient and no QBO call at all (the hourly run of a quiet firm).
    """
    explicit = invoice_ids is not None
    due = due_invoices(firm_id, invoice_ids)
    total = len(due)
    if progress:
        progress(0, total)
    if not due:
        return {}
    rollup = db.session.get(Firm, firm_id).invoice_rollup
    codes = mapping.codes_of(due, rollup)
    ids = [inv.id for inv in due]
    # Keep ids, not rows, between chunks: every commit expires each object the session still
    # holds, and 2,000 invoices with their lines made every chunk's commit walk them all
    # (push_chunk loads each chunk fresh anyway). The session holds objects weakly, but
    # invoices and their lines reference each other, so only the cycle collector frees them;
    # run it once. Invoices a caller still holds stay in the session, as before.
    del due
    gc.collect()
    tally = Tally()
    own = qbo is None
    qbo = qbo or QboClient(firm_id)
    try:
        known = items.lookup_items(qbo, firm_id, codes, fresh=True)
        for start in range(0, total, CHUNK):
            chunk = ids[start:start + CHUNK]
            _guarded_chunk(qbo, firm_id, run, chunk, rollup, known, tally, explicit)
            if progress:
                progress(min(start + CHUNK, total), total)
    finally:
        if own:
            qbo.close()
    return tally.as_dict()


def _guarded_chunk(qbo: QboClient, firm_id: int, run: SyncRun, chunk: list[int], rollup: str,
                   known: dict[str, ItemInfo], tally: Tally, explicit: bool) -> None:
    run_id = run.id
    try:
        push_chunk(qbo, firm_id, run, chunk, rollup, known, tally, explicit)
        db.session.commit()
    except QboError as exc:
        db.session.rollback()
        run = db.session.get(SyncRun, run_id)
        numbers = dict(db.session.execute(
            db.select(Invoice.id, Invoice.number).where(Invoice.id.in_(chunk))).all())
        for invoice_id in chunk:
            record(run, ENTITY, invoice_id, "push", "failed",
                   f"Invoice {numbers.get(invoice_id, invoice_id)} was not sent: QuickBooks did "
                   f"not complete the request ({_describe(exc)}). The next sync retries; it "
                   "checks QuickBooks first, so nothing is created twice.", counts=tally)
        db.session.commit()
        raise


# -- one chunk -----------------------------------------------------------------------------------
def push_chunk(qbo: QboClient, firm_id: int, run: SyncRun, invoice_ids: list[int], rollup: str,
               known: dict[str, ItemInfo], tally: Tally, explicit: bool = False) -> None:
    """Link clients, map, look up, create and record one chunk (<= 30 invoices); no commit.

    The rows are locked (FOR UPDATE on PostgreSQL) and re-checked, so an invoice edited or sent
    back to draft meanwhile is not pushed in a stale form, and the edit view waits for us.
    """
    chunk = list(db.session.execute(
        db.select(Invoice)
        .where(Invoice.id.in_(invoice_ids), Invoice.firm_id == firm_id,
               Invoice.status == "new", Invoice.qbo_invoice_id.is_(None))
        .options(*LOAD).order_by(Invoice.id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalars())
    refused = events.holds(firm_id, ENTITY)
    plans: list[Plan] = []
    for invoice in chunk:
        customer_id = _customer(qbo, invoice, run)
        if customer_id is None:
            _hold(invoice, run, tally, _client_reason(invoice.client), explicit)
            continue
        mapped = mapping.invoice_payload(invoice, rollup, customer_id, known)
        if mapped.held:
            _hold(invoice, run, tally, " ".join(mapped.problems), explicit)
            continue
        plans.append((invoice, mapped))
    if plans:
        _push_plans(qbo, firm_id, run, plans, tally)
    done = [inv.id for inv in chunk if inv.qbo_invoice_id and inv.id in refused]
    events.release(firm_id, ENTITY, done)  # pushed after all: forget the old refusal


def _push_plans(qbo: QboClient, firm_id: int, run: SyncRun, plans: list[Plan], tally: Tally
                ) -> None:
    """Look the chunk's DocNumbers up, link ours, report clashes, create the rest."""
    existing = find_existing(qbo, [inv.number for inv, _ in plans])
    creates: list[Plan] = []
    for invoice, mapped in plans:
        found = existing.get(code_key(invoice.number))
        if found is None:
            creates.append((invoice, mapped))
        elif is_ours(found, invoice):
            _accept(invoice, found, mapped, run, tally, "linked",
                    "It was already in QuickBooks from an earlier push whose answer was lost")
        else:
            _refuse(invoice, run, tally, "doc_number_clash", _clash_message(invoice, found))
    if not creates:
        return
    results = send(qbo, firm_id, creates)
    for invoice, mapped in creates:
        outcome = results[_bid(invoice)]
        if outcome.ok:
            _accept(invoice, outcome.data, mapped, run, tally, "pushed", None)
        else:
            _failed(qbo, firm_id, invoice, outcome.error, run, tally)


def _customer(qbo: QboClient, invoice: Invoice, run: SyncRun) -> str | None:
    if invoice.client.qbo_customer_id:
        return invoice.client.qbo_customer_id
    from portal.qbo.sync.customers import ensure_customer

    return ensure_customer(qbo, invoice.client, run)


def _client_reason(client: Client) -> str:
    hold = events.holds(client.firm_id, "client").get(client.id)
    why = (hold.reason if hold is not None else
           "it needs a decision on the Integrations tab (see Needs attention).")
    return CLIENT_HELD.format(name=client.display_name, why=why)


def find_existing(qbo: QboClient, numbers: list[str]) -> dict[str, dict[str, Any]]:
    """DocNumber key -> the QBO invoice carrying it (ours preferred when there are several)."""
    wanted = sorted({n.strip() for n in numbers if n and n.strip()})
    if not wanted:
        return {}
    literals = ", ".join(escape(n) for n in wanted)
    rows = qbo.query(f"SELECT * FROM Invoice WHERE DocNumber IN ({literals}) "  # noqa: S608
                     "MAXRESULTS 1000").get("Invoice") or []
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        key = code_key(str(row.get("DocNumber") or ""))
        if key not in found or mapping.marker_in(row):
            found[key] = row
    return found


def is_ours(found: dict[str, Any], invoice: Invoice) -> bool:
    """Sent by this portal for this invoice: our marker is in its PrivateNote."""
    return mapping.marker(invoice.firm_id, invoice.id) in str(found.get("PrivateNote") or "")


# -- sending -------------------------------------------------------------------------------------
def _bid(invoice: Invoice) -> str:
    return f"i{invoice.id}"


def _digest(mapped: MappedInvoice) -> str:
    text = json.dumps(mapped.payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def single_request_id(firm_id: int, invoice: Invoice, mapped: MappedInvoice) -> str:
    """<= 50 chars: firm, invoice, version and what is written; the same on every retry."""
    return f"iv-{firm_id}-{invoice.id}-v{invoice.version}-{_digest(mapped)[:12]}"


def batch_request_id(firm_id: int, plans: list[Plan]) -> str:
    """<= 36 chars: the same planned creates (ids, versions, payloads) -> the same id."""
    spec = ";".join(f"{inv.id}.{inv.version}.{_digest(m)}" for inv, m in plans)
    return "ib" + hashlib.sha256(f"{firm_id}|{spec}".encode()).hexdigest()[:32]


def send(qbo: QboClient, firm_id: int, plans: list[Plan]) -> dict[str, BatchItemResult]:
    """One plain create for a single invoice, else one batch call (<= 30 items)."""
    if len(plans) == 1:
        invoice, mapped = plans[0]
        bid = _bid(invoice)
        try:
            data = qbo.create("Invoice", mapped.payload or {},
                              single_request_id(firm_id, invoice, mapped))
        except (DuplicateDocNumber, ValidationFault, NotFound, StaleObject) as exc:
            return {bid: BatchItemResult(bid, None, None, exc)}
        return {bid: BatchItemResult(bid, "Invoice", data, None)}
    batch = [{"bId": _bid(inv), "operation": "create", "Invoice": mapped.payload}
             for inv, mapped in plans]
    return qbo.batch(batch, batch_request_id(firm_id, plans))


# -- outcomes ------------------------------------------------------------------------------------
def _accept(invoice: Invoice, data: dict[str, Any], mapped: MappedInvoice, run: SyncRun,
            tally: Tally, action: str, why: str | None) -> None:
    invoice.qbo_invoice_id = str(data["Id"])
    invoice.qbo_doc_number = str(data.get("DocNumber") or invoice.number)[:21]
    invoice.qbo_sync_token = str(data.get("SyncToken", "0"))
    invoice.pushed_at = utcnow()
    invoice.status = "processed_externally"
    invoice.sync_message = mapped.omission_note()
    qbo_total = Decimal(str(data.get("TotalAmt", "0"))).quantize(CENT)
    text = (f"Invoice {invoice.number} is QuickBooks invoice Id {invoice.qbo_invoice_id} "
            f"(DocNumber {invoice.qbo_doc_number}), total {qbo_total:,.2f}.")
    if why:
        text = f"{why}. {text}"
    record(run, ENTITY, invoice.id, action, "ok", text, counts=tally)
    if mapped.omitted:
        record(run, ENTITY, invoice.id, "line_omitted", "skipped", mapped.omission_note(),
               counts=tally)
    if qbo_total != mapped.total:
        record(run, ENTITY, invoice.id, "total_mismatch", "failed",
               f"QuickBooks reports a total of {qbo_total:,.2f} for invoice {invoice.number}, "
               f"but the lines sent add up to {mapped.total:,.2f}. Fix: check the invoice in "
               "QuickBooks.", counts=tally)
    log.info("invoice_pushed firm=%s invoice=%s qbo_id=%s action=%s", invoice.firm_id,
             invoice.id, invoice.qbo_invoice_id, action)


def _hold(invoice: Invoice, run: SyncRun, tally: Tally, reason: str, explicit: bool) -> None:
    """Keep the invoice NEW with the reason on it; log an event when the reason is news."""
    tally["held"] += 1
    changed = invoice.sync_message != reason
    invoice.sync_message = reason
    if changed or explicit:
        record(run, ENTITY, invoice.id, "held", "held", f"Invoice {invoice.number}: {reason}")


def _refuse(invoice: Invoice, run: SyncRun, tally: Tally, action: str, reason: str) -> None:
    """QBO refused this invoice as it is: hold it until it is edited (not retried hourly)."""
    invoice.sync_message = reason
    events.hold(invoice.firm_id, ENTITY, invoice.id, invoice.version, reason)
    record(run, ENTITY, invoice.id, action, "held", f"Invoice {invoice.number}: {reason}",
           counts=tally)


def _clash_message(invoice: Invoice, found: dict[str, Any]) -> str:
    name = (found.get("CustomerRef") or {}).get("name")
    return CLASH.format(number=invoice.number, qid=found.get("Id"),
                        whose=f", customer {name}" if name else "")


def _failed(qbo: QboClient, firm_id: int, invoice: Invoice, error: QboError | None,
            run: SyncRun, tally: Tally) -> None:
    if isinstance(error, DuplicateDocNumber):
        _refuse(invoice, run, tally, "doc_number_clash",
                f"QuickBooks says invoice number {invoice.number} is already used "
                f"({_describe(error)}). Fix: change this invoice's number, then push it again.")
    elif isinstance(error, (ValidationFault, NotFound)):
        if error.code in ("610", "2500"):
            items.forget(firm_id, qbo.realm_id)  # an item (or customer) changed under us
        _refuse(invoice, run, tally, "rejected", REFUSED.format(error=_describe(error)))
    else:
        record(run, ENTITY, invoice.id, "push", "failed",
               f"Invoice {invoice.number} was not sent: {_describe(error)}. The next sync "
               "retries; it checks QuickBooks first, so nothing is created twice.",
               counts=tally)


def _describe(error: QboError | None) -> str:
    if error is None:
        return "no answer"
    text = error.detail or error.message or str(error)
    return f"{text} (code {error.code})" if error.code else text
