"""Invoice create and edit: the full form with its line rows (routes on ``views.bp``).

Edits go through `load_editable_invoice`, so processed and void invoices stay read-only.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy.exc import IntegrityError

from portal.auth.access import approver_required, db_id, firm_id, get_for_firm, scoped
from portal.extensions import db
from portal.invoices.forms import InvoiceForm, LineForm
from portal.invoices.from_time import DEFAULT_TERMS_DAYS
from portal.invoices.lines import billable_choices, billable_value, replace_lines
from portal.invoices.numbering import next_number
from portal.invoices.views import bp, load_editable_invoice
from portal.models import Client, Invoice, line_amount


def _client_choices(current_client_id: int | None = None) -> dict[str, str]:
    stmt = scoped(Client).where(Client.active.is_(True))
    if current_client_id:
        stmt = scoped(Client).where(
            db.or_(Client.active.is_(True), Client.id == current_client_id)
        )
    clients = db.session.execute(stmt.order_by(Client.display_name)).scalars()
    return {str(c.id): c.display_name for c in clients}


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
    client_id = request.args.get("client_id", type=db_id)
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
