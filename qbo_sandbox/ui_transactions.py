"""Sandbox UI pages for transactions and lists: invoices and payments, time activities, the
employee/item/vendor lists and the webhook log (routes on ``ui.bp``)."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, request, url_for

from . import service
from .clock import parse_iso
from .core import current_sandbox
from .errors import QboFault
from .ui import bp, company_or_404, fault_messages, login_required, names, ref_name, render


# -- invoices and payments -----------------------------------------------------------------------
def invoice_state(inv: dict[str, Any]) -> str:
    if str(inv.get("PrivateNote", "")).startswith("Voided"):
        return "Voided"
    total, balance = inv.get("TotalAmt", 0), inv.get("Balance", 0)
    if balance <= 0 and total > 0:
        return "Paid"
    return "Partially paid" if 0 < balance < total else "Open"


@bp.get("/company/<realm>/invoices")
@login_required
def invoices(realm: str) -> Any:
    company_or_404(realm)
    rows = current_sandbox().store.list_entities(realm, "Invoice")
    customer_id = request.args.get("customer", "")
    if customer_id:
        rows = [i for i in rows if (i.get("CustomerRef") or {}).get("value") == customer_id]
    rows.sort(key=lambda i: (i.get("TxnDate", ""), int(i["Id"])), reverse=True)
    return render(
        "ui/invoices.html",
        realm,
        invoices=rows,
        lookup=names(realm, "Customer"),
        ref_name=ref_name,
        state=invoice_state,
    )


def _invoice_page(realm: str, inv: dict[str, Any], **extra: Any) -> str:
    lookup = names(realm, "Customer", "Item")
    return render(
        "ui/invoice.html",
        realm,
        invoice=inv,
        lookup=lookup,
        ref_name=ref_name,
        state=invoice_state(inv),
        today=current_sandbox().today(realm),
        amount=extra.get("amount", f"{inv.get('Balance', 0):.2f}"),
        errors=extra.get("errors", []),
    )


@bp.get("/company/<realm>/invoices/<iid>")
@login_required
def invoice(realm: str, iid: str) -> Any:
    company_or_404(realm)
    inv = service.Ctx(current_sandbox(), realm).load("Invoice", iid) or abort(404)
    return _invoice_page(realm, inv)


@bp.post("/company/<realm>/invoices/<iid>/payments")
@login_required
def record_payment(realm: str, iid: str) -> Any:
    """Create a Payment applied to this invoice, exactly as an API client would."""
    company_or_404(realm)
    sb = current_sandbox()
    inv = service.Ctx(sb, realm).load("Invoice", iid) or abort(404)
    raw = request.form.get("amount", "").strip().replace(",", "").lstrip("$")
    try:
        amount = round(float(raw), 2)
    except ValueError:
        return _invoice_page(realm, inv, amount=raw, errors=["Enter an amount, e.g. 25.00."]), 400
    if amount <= 0:
        return _invoice_page(realm, inv, amount=raw, errors=["The amount must be above 0."]), 400
    payload: dict[str, Any] = {
        "CustomerRef": {"value": inv["CustomerRef"]["value"]},
        "TotalAmt": amount,
        "TxnDate": request.form.get("date") or sb.today(realm),
        "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}],
    }
    if request.form.get("reference"):
        payload["PaymentRefNum"] = request.form["reference"][:21]
    try:
        pay = service.write(sb, realm, "Payment", payload, None)["Payment"]
    except QboFault as exc:
        return _invoice_page(realm, inv, amount=raw, errors=fault_messages(exc)), 400
    number = inv.get("DocNumber") or inv["Id"]
    flash(f"Recorded payment {pay['Id']} of ${amount:,.2f} on invoice {number}.", "ok")
    return redirect(url_for("ui.invoice", realm=realm, iid=iid))


# -- time activities and name lists --------------------------------------------------------------
def duration(ta: dict[str, Any]) -> str:
    """``h:mm`` from Hours/Minutes or StartTime/EndTime minus breaks."""
    if ta.get("Hours") is not None or ta.get("Minutes") is not None:
        minutes = int(ta.get("Hours") or 0) * 60 + int(ta.get("Minutes") or 0)
    else:
        start, end = parse_iso(ta.get("StartTime", "")), parse_iso(ta.get("EndTime", ""))
        if not start or not end:
            return ""
        minutes = int((end - start).total_seconds() // 60)
        minutes -= int(ta.get("BreakHours") or 0) * 60 + int(ta.get("BreakMinutes") or 0)
    return f"{minutes // 60}:{minutes % 60:02d}"


@bp.get("/company/<realm>/time")
@login_required
def time_activities(realm: str) -> Any:
    company_or_404(realm)
    rows = current_sandbox().store.list_entities(realm, "TimeActivity")
    rows.sort(key=lambda t: (t.get("TxnDate", ""), int(t["Id"])), reverse=True)
    return render(
        "ui/time.html",
        realm,
        times=rows,
        lookup=names(realm, "Customer", "Employee", "Vendor", "Item"),
        ref_name=ref_name,
        duration=duration,
    )


@bp.get("/company/<realm>/<kind>")
@login_required
def name_list(realm: str, kind: str) -> Any:
    entity = {"employees": "Employee", "items": "Item", "vendors": "Vendor"}.get(kind)
    if entity is None:
        abort(404)
    company_or_404(realm)
    rows = current_sandbox().store.list_entities(realm, entity)
    rows.sort(key=lambda d: str(d.get("FullyQualifiedName") or d.get("DisplayName")).casefold())
    return render(f"ui/{kind}.html", realm, rows=rows, kind=kind)


@bp.get("/company/<realm>/webhooks")
@login_required
def webhook_log(realm: str) -> Any:
    hooks = current_app.extensions["qbo_webhooks"]
    rows = list(reversed(hooks.deliveries(realm)))
    return render("ui/webhooks.html", realm, deliveries=rows, queued=hooks.pending_events())


@bp.post("/company/<realm>/webhooks/deliver")
@login_required
def webhook_deliver(realm: str) -> Any:
    company_or_404(realm)
    attempted = current_app.extensions["qbo_webhooks"].run(flush=True, ignore_backoff=True)
    flash(f"Attempted {len(attempted)} deliveries.", "ok")
    return redirect(url_for("ui.webhook_log", realm=realm))
