"""Invoices: list, detail, create/edit with lines, status changes, and invoice-from-time.

Viewing is open to every signed-in user of the firm; changing invoices (and approving time by
invoicing it) is for admins and managers. A processed_externally or void invoice is read-only
whatever the request: `load_editable_invoice` is the one guard every changing route goes through.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal.auth.access import (
    admin_required,
    approver_required,
    firm_id,
    get_for_firm,
    scoped,
)
from portal.extensions import db
from portal.invoices.forms import AddLineForm, InvoiceForm, LineForm
from portal.invoices.from_time import (
    DEFAULT_TERMS_DAYS,
    FromTimeError,
    billable_entries_stmt,
    generate_invoice_from_time,
    release_entries,
    unbilled_counts,
)
from portal.invoices.lines import append_line, billable_choices, billable_value, replace_lines
from portal.invoices.numbering import next_number
from portal.models import (
    INVOICE_STATUSES,
    Client,
    Invoice,
    InvoiceLine,
    QboConnection,
    TimeEntry,
    line_amount,
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


def _client_choices(current_client_id: int | None = None) -> dict[str, str]:
    stmt = scoped(Client).where(Client.active.is_(True))
    if current_client_id:
        stmt = scoped(Client).where(
            db.or_(Client.active.is_(True), Client.id == current_client_id)
        )
    clients = db.session.execute(stmt.order_by(Client.display_name)).scalars()
    return {str(c.id): c.display_name for c in clients}


@bp.route("/")
@login_required
def index():
    status = request.args.get("status", "")
    client_id = request.args.get("client_id", type=int)
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
        page=request.args.get("page", 1, type=int),
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


def _save(form: InvoiceForm, invoice: Invoice) -> bool:
    """Apply a validated form to `invoice` and commit; False (with the number field's message)
    when another request took the number first."""
    action = request.form.get("action")
    invoice.client_id = int(form.client_id.data)
    invoice.number = form.number.data
    invoice.issue_date = form.issue_date.data
    invoice.due_date = form.due_date.data
    invoice.memo = form.memo.data or None
    invoice.status = "new" if action == "new" else "draft"
    replace_lines(invoice, form.rows)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        form.number.errors = [f"Invoice number {form.number.data} is already used in your firm."]
        return False
    return True


def _saved_flash(invoice: Invoice, verb: str) -> None:
    if invoice.status == "new":
        flash(f"Invoice {invoice.number} {verb} as New: it goes to QuickBooks with the next sync.",
              "success")
    else:
        flash(f"Invoice {invoice.number} {verb} as a draft.", "success")


def _form_page(form: InvoiceForm, invoice: Invoice | None, status: int = 200):
    # One blank row rendered inside <template>; the JS copies it with a fresh index.
    row_template = LineForm(prefix="lines-__index__-")
    row_template.billable.choices = billable_choices(firm_id())
    amounts = [_row_amount(entry.form) for entry in form.lines]
    return render_template(
        "invoices/form.html",
        form=form,
        invoice=invoice,
        rows=list(zip(form.lines, amounts, strict=True)),
        total=sum((a for a in amounts if a is not None), Decimal("0")),
        row_template=row_template,
    ), status


def _row_amount(row: LineForm) -> Decimal | None:
    """The amount shown next to a row when its quantity and rate are valid."""
    quantity, rate = row.quantity.data, row.rate.data
    if quantity is None or rate is None or row.quantity.errors or row.rate.errors:
        return None
    return line_amount(quantity, rate)


def _prepare(form: InvoiceForm, current_client_id: int | None = None) -> None:
    form.set_choices(_client_choices(current_client_id), billable_choices(firm_id()))


@bp.route("/new", methods=["GET", "POST"])
@approver_required
def new():
    if request.method == "POST":
        form = InvoiceForm(firm_id=firm_id())
        _prepare(form)
        if form.validate():
            invoice = Invoice(firm_id=firm_id())
            db.session.add(invoice)
            if _save(form, invoice):
                _saved_flash(invoice, "created")
                return redirect(url_for("invoices.detail", invoice_id=invoice.id))
        return _form_page(form, None, 422)
    today = date.today()
    client_id = request.args.get("client_id", type=int)
    form = InvoiceForm(
        formdata=None,
        firm_id=firm_id(),
        data={
            "client_id": str(client_id) if client_id else "",
            "number": next_number(firm_id()),
            "issue_date": today,
            "due_date": today + timedelta(days=DEFAULT_TERMS_DAYS),
        },
    )
    _prepare(form)
    return _form_page(form, None)


@bp.route("/<int:invoice_id>/edit", methods=["GET", "POST"])
@approver_required
def edit(invoice_id: int):
    invoice = load_editable_invoice(invoice_id)
    if request.method == "POST":
        form = InvoiceForm(firm_id=firm_id(), invoice_id=invoice.id)
        _prepare(form, invoice.client_id)
        if form.validate():
            invoice.version = (invoice.version or 0) + 1
            if _save(form, invoice):
                _saved_flash(invoice, "saved")
                return redirect(url_for("invoices.detail", invoice_id=invoice.id))
            invoice = get_for_firm(Invoice, invoice_id)
        return _form_page(form, invoice, 422)
    rows = [
        {
            "description": line.description,
            "quantity": line.quantity,
            "rate": line.rate,
            "billable": billable_value(line.category_id, line.type_id),
        }
        for line in invoice.lines
    ]
    form = InvoiceForm(
        formdata=None,
        firm_id=firm_id(),
        invoice_id=invoice.id,
        data={
            "client_id": str(invoice.client_id),
            "number": invoice.number,
            "issue_date": invoice.issue_date,
            "due_date": invoice.due_date,
            "memo": invoice.memo,
            "lines": rows,
        },
    )
    while len(form.lines) < len(rows) + 2:  # room for a couple more lines without JS
        form.lines.append_entry()
    _prepare(form, invoice.client_id)
    return _form_page(form, invoice)


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


@bp.route("/from-time", methods=["GET", "POST"])
@approver_required
def from_time():
    if request.method == "POST":
        client_id = request.form.get("client_id", type=int) or 0
        entry_ids = request.form.getlist("entry_ids", type=int)
        try:
            invoice = generate_invoice_from_time(firm_id(), client_id, entry_ids)
            db.session.commit()
        except FromTimeError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for("invoices.from_time", client_id=client_id or None))
        except IntegrityError:
            db.session.rollback()
            flash("Another invoice was created at the same moment. Nothing was created; "
                  "please try again.", "danger")
            return redirect(url_for("invoices.from_time", client_id=client_id or None))
        flash(f"Draft invoice {invoice.number} created from {len(set(entry_ids))} time entries; "
              "they are now locked. Review it, then mark it as New for QuickBooks.", "success")
        return redirect(url_for("invoices.detail", invoice_id=invoice.id))

    client_id = request.args.get("client_id", type=int)
    client = get_for_firm(Client, client_id) if client_id else None
    entries = []
    if client is not None:
        entries = db.session.execute(
            billable_entries_stmt(firm_id(), client.id).options(
                selectinload(TimeEntry.user), selectinload(TimeEntry.category)
            )
        ).scalars().all()
    counts = unbilled_counts(firm_id())
    clients = db.session.execute(
        scoped(Client).where(db.or_(Client.active.is_(True), Client.id.in_(counts)))
        .order_by(Client.display_name)
    ).scalars().all()
    return render_template(
        "invoices/from_time.html",
        client=client,
        clients=clients,
        counts=counts,
        entries=entries,
        total_hours=sum((e.hours for e in entries), 0),
        line_amount=line_amount,
    )
