"""Invoice from time: pick a client's approved, unbilled time and turn it into a draft invoice
(routes on ``views.bp``)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal.auth.access import approver_required, db_id, firm_id, get_for_firm, scoped
from portal.extensions import db
from portal.invoices.from_time import (
    FromTimeError,
    billable_entries_stmt,
    generate_invoice_from_time,
    unbilled_counts,
)
from portal.invoices.views import bp
from portal.models import Client, TimeEntry, line_amount


@bp.route("/from-time", methods=["GET", "POST"])
@approver_required
def from_time():
    if request.method == "POST":
        client_id = request.form.get("client_id", type=db_id) or 0
        entry_ids = request.form.getlist("entry_ids", type=db_id)
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

    client_id = request.args.get("client_id", type=db_id)
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
