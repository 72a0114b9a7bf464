"""Invoices: list, detail, create/edit with lines, status changes, and invoice-from-time.

Viewing is open to every signed-in user of the firm; changing invoices (and approving time by
invoicing it) is for admins and managers. A processed_externally or void invoice is read-only
whatever the request: `load_editable_invoice` is the one guard every changing route goes through.

This module holds the blueprint, the guard, list, detail, lines, status, delete and push;
`form_views` (create/edit) and `from_time_views` (invoice-from-time) add routes to the same `bp`.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from portal.auth.access import (
    admin_required,
    approver_required,
    db_id,
    firm_id,
    get_for_firm,
    page_number,
    scoped,
)
from portal.extensions import db
from portal.invoices.forms import AddLineForm
from portal.invoices.from_time import release_entries
from portal.invoices.lines import append_line, billable_choices
from portal.models import (
    INVOICE_STATUSES,
    Client,
    Invoice,
    InvoiceLine,
    QboConnection,
    TimeEntry,
)
from portal.models.invoice import STATUS_LABELS

bp = Blueprint("invoices", __name__)

PROCESSED_MESSAGE = "This invoice was processed in QuickBooks and can no longer be changed."
VOID_MESSAGE = "This invoice is void and can no longer be changed."
# (from, to) -> past-tense verb for the flash.
TRANSITIONS = {
    ("draft", "new"): "marked as New: it goes to QuickBooks with the next sync",
    ("new", "draft"): "moved back to draft",
    ("new", "void"): "voided",
}


def load_editable_invoice(invoice_id: int) -> Invoice:
    """The firm's invoice if it may still change; 404 for other firms' ids, 409 once it was
    processed in QuickBooks or voided. On POST the row is locked (PostgreSQL) so a concurrent
    push cannot slip in between this check and the caller's commit."""
    stmt = scoped(Invoice).where(Invoice.id == invoice_id)
    if request.method == "POST":
        stmt = stmt.with_for_update()
    invoice = db.session.execute(stmt).scalar_one_or_none()
    if invoice is None:
        abort(404)
    if invoice.status == "processed_externally":
        abort(409, description=PROCESSED_MESSAGE)
    if invoice.status == "void":
        abort(409, description=VOID_MESSAGE)
    return invoice


@bp.route("/")
@login_required
def index():
    status = request.args.get("status", "")
    client_id = request.args.get("client_id", type=db_id)
    search = request.args.get("q", "").strip()[:50]
    stmt = scoped(Invoice).options(selectinload(Invoice.client))
    if status in INVOICE_STATUSES:
        stmt = stmt.where(Invoice.status == status)
    if client_id:
        stmt = stmt.where(Invoice.client_id == client_id)
    if search:
        stmt = stmt.where(db.func.lower(Invoice.number).contains(search.lower(), autoescape=True))
    stmt = stmt.order_by(Invoice.issue_date.desc(), Invoice.id.desc())
    page = db.paginate(
        stmt,
        page=page_number(),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    clients = db.session.execute(scoped(Client).order_by(Client.display_name)).scalars().all()
    return render_template(
        "invoices/index.html",
        page=page,
        page_total=sum((inv.total for inv in page.items), 0),
        clients=clients,
        statuses=STATUS_LABELS,
        filters={"status": status, "client_id": client_id, "q": search},
        filtered=bool(status in INVOICE_STATUSES or client_id or search),
    )


def _detail_page(invoice: Invoice, add_form: AddLineForm | None = None, status: int = 200):
    lines = db.session.execute(
        db.select(InvoiceLine)
        .where(InvoiceLine.invoice_id == invoice.id)
        .options(selectinload(InvoiceLine.category), selectinload(InvoiceLine.type))
        .order_by(InvoiceLine.position, InvoiceLine.id)
    ).scalars().all()
    entries = db.session.execute(
        scoped(TimeEntry)
        .where(TimeEntry.invoice_id == invoice.id)
        .options(selectinload(TimeEntry.user), selectinload(TimeEntry.category))
        .order_by(TimeEntry.entry_date, TimeEntry.id)
    ).scalars().all()
    can_change = current_user.can_approve and invoice.status in ("draft", "new")
    if can_change and add_form is None:
        add_form = AddLineForm(formdata=None)
    if add_form is not None:
        add_form.billable.choices = billable_choices(firm_id())
    return render_template(
        "invoices/detail.html",
        invoice=invoice,
        lines=lines,
        entries=entries,
        can_change=can_change,
        add_form=add_form,
        can_push=current_user.is_admin and invoice.status == "new",
        qbo_link=_qbo_link(invoice),
    ), status


def _qbo_link(invoice: Invoice) -> str | None:
    """The invoice in QBO's web UI for the configured environment (None if unknown)."""
    if not invoice.qbo_invoice_id:
        return None
    from portal.qbo.environments import endpoints
    from portal.qbo.errors import QboError

    conn = db.session.execute(scoped(QboConnection)).scalar_one_or_none()
    realm_id = conn.realm_id if conn is not None else None
    try:
        return endpoints().deep_link("invoice", invoice.qbo_invoice_id, realm_id)
    except (QboError, ValueError):
        return None


@bp.route("/<int:invoice_id>/push", methods=["POST"])
@admin_required
def push(invoice_id: int):
    """Queue "Push to QuickBooks" for one NEW invoice (the job does the QBO work, I2)."""
    from portal.jobs.invoice_jobs import enqueue_invoice_push

    invoice = load_editable_invoice(invoice_id)
    back = redirect(url_for("invoices.detail", invoice_id=invoice.id))
    if invoice.status != "new":
        flash("Only New invoices go to QuickBooks. Mark it as New first.", "warning")
        return back
    conn = db.session.execute(scoped(QboConnection)).scalar_one_or_none()
    if conn is None or conn.status != "connected":
        flash("QuickBooks is not connected. Connect it on the Integrations tab first.", "danger")
        return back
    db.session.rollback()  # release the row lock: the worker will take it
    try:
        _run, queued = enqueue_invoice_push(firm_id(), "invoice", [invoice_id],
                                            requested_by_id=current_user.id)
    except Exception:  # noqa: BLE001 - Redis down: say so instead of a 500
        current_app.logger.exception("event=invoice_push_enqueue_failed invoice=%s", invoice_id)
        flash("The push could not be queued right now. Please try again in a minute.", "danger")
        return back
    if queued:
        flash(f"Invoice {invoice.number} is queued for QuickBooks. Refresh in a moment to see "
              "its QuickBooks number.", "success")
    else:
        flash(f"Invoice {invoice.number} is already queued for QuickBooks.", "info")
    return back


@bp.route("/<int:invoice_id>")
@login_required
def detail(invoice_id: int):
    return _detail_page(get_for_firm(Invoice, invoice_id))



@bp.route("/<int:invoice_id>/lines", methods=["POST"])
@approver_required
def add_line(invoice_id: int):
    invoice = load_editable_invoice(invoice_id)
    form = AddLineForm()
    form.billable.choices = billable_choices(firm_id())
    row = form.checked_row(firm_id()) if form.validate() else None
    if row is None:
        if not form.description.errors and not form.description.data:
            form.description.errors.append("Enter a description.")
        return _detail_page(invoice, form, 422)
    append_line(invoice, row)
    invoice.version = (invoice.version or 0) + 1
    db.session.commit()
    flash(f"Line added to invoice {invoice.number}.", "success")
    return redirect(url_for("invoices.detail", invoice_id=invoice.id))


@bp.route("/<int:invoice_id>/status", methods=["POST"])
@approver_required
def set_status(invoice_id: int):
    invoice = load_editable_invoice(invoice_id)
    target = request.form.get("to", "")
    verb = TRANSITIONS.get((invoice.status, target))
    if verb is None:
        flash(f"A {invoice.status_label} invoice cannot be changed to "
              f"{STATUS_LABELS.get(target, 'that status')}.", "warning")
        return redirect(url_for("invoices.detail", invoice_id=invoice.id))
    if target == "new" and not invoice.lines:
        flash("Add at least one line before marking the invoice as New.", "warning")
        return redirect(url_for("invoices.detail", invoice_id=invoice.id))
    invoice.status = target
    released = release_entries(invoice) if target == "void" else 0
    db.session.commit()
    message = f"Invoice {invoice.number} {verb}."
    if released:
        message += f" Its {released} time entries can be invoiced again."
    flash(message, "success")
    return redirect(url_for("invoices.detail", invoice_id=invoice.id))


@bp.route("/<int:invoice_id>/delete", methods=["POST"])
@approver_required
def delete(invoice_id: int):
    invoice = load_editable_invoice(invoice_id)
    if invoice.status != "draft":
        flash("Only draft invoices can be deleted. Void a New invoice instead.", "warning")
        return redirect(url_for("invoices.detail", invoice_id=invoice.id))
    number = invoice.number
    released = release_entries(invoice)
    db.session.delete(invoice)
    db.session.commit()
    message = f"Draft invoice {number} deleted."
    if released:
        message += f" Its {released} time entries are unlocked and can be invoiced again."
    flash(message, "success")
    return redirect(url_for("invoices.index"))


# The create/edit form and invoice-from-time pages add their routes to ``bp``; importing them
# here means ``bp`` is complete whenever this module is imported (portal/__init__.py registers it).
from portal.invoices import form_views, from_time_views  # noqa: E402, F401
