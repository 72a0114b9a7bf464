"""Clients: list, create/edit for the three kinds, the client's page (Main, Invoices, Time),
deactivate/reactivate/delete and the admin-only Sync button. All roles manage clients."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from portal.auth.access import admin_required, firm_id, get_for_firm, page_number, scoped
from portal.clients import service
from portal.clients.forms import KIND_CHOICES, ClientFilterForm, ClientForm
from portal.extensions import db
from portal.models import Client, Invoice, TimeEntry, display_name_for

bp = Blueprint("clients", __name__)
log = logging.getLogger(__name__)
KIND_LABELS = dict(KIND_CHOICES)


@bp.context_processor
def _labels() -> dict:
    return {"kind_labels": KIND_LABELS}


def _paginate(stmt):
    return db.paginate(
        stmt,
        page=page_number(),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )


@bp.route("/")
@login_required
def index() -> str:
    filters = ClientFilterForm(formdata=request.args)
    values = {name: filters.value(name) for name in ("q", "kind", "qb", "status")}
    page = _paginate(service.list_query(**values))
    filtered = bool(values["q"] or values["kind"] or values["qb"] or values["status"] != "active")
    firm_has_clients = page.total > 0 or bool(
        db.session.execute(scoped(Client).with_only_columns(func.count())).scalar_one()
    )
    return render_template(
        "clients/index.html",
        filters=filters,
        page=page,
        filtered=filtered,
        firm_has_clients=firm_has_clients,
    )


def _render_form(form: ClientForm, client: Client | None, duplicate: Client | None, status: int):
    preview = display_name_for(
        form.kind.data or "individual",
        form.first_name.data,
        form.last_name.data,
        form.spouse_first_name.data,
        form.spouse_last_name.data,
        form.company_name.data,
    )
    return (
        render_template(
            "clients/form.html", form=form, client=client, duplicate=duplicate, preview=preview
        ),
        status,
    )


def _duplicate_to_confirm(form: ClientForm, client: Client, was: tuple[str, bool] | None):
    """The active namesake the user must confirm, or None.

    Asked when the name or the active flag changes (or on create), not on every later edit of a
    client that was knowingly saved with a shared name.
    """
    if form.confirm_duplicate.data or not client.active:
        return None
    if was is not None:
        old_name, old_active = was
        if old_active and old_name.lower() == client.display_name.lower():
            return None
    return service.find_duplicate(client.display_name, exclude_id=client.id)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    form = ClientForm()
    if not form.validate_on_submit():
        return _render_form(form, None, None, 422 if request.method == "POST" else 200)
    client = Client(firm_id=firm_id())
    service.apply_form(client, form)
    client.refresh_name()
    duplicate = _duplicate_to_confirm(form, client, None)
    if duplicate is not None:
        return _render_form(form, None, duplicate, 422)
    db.session.add(client)
    db.session.commit()
    log.info("client=%s firm=%s action=created", client.id, client.firm_id)
    flash(f"Client {client.display_name} added.", "success")
    return redirect(url_for("clients.detail", client_id=client.id))


@bp.route("/<int:client_id>/edit", methods=["GET", "POST"])
@login_required
def edit(client_id: int):
    client = get_for_firm(Client, client_id)
    form = ClientForm(obj=client)
    if not form.validate_on_submit():
        return _render_form(form, client, None, 422 if request.method == "POST" else 200)
    was = (client.display_name, client.active)
    if not service.apply_form(client, form):
        flash("Nothing changed.", "info")
        return redirect(url_for("clients.detail", client_id=client.id))
    client.refresh_name()
    duplicate = _duplicate_to_confirm(form, client, was)
    if duplicate is not None:
        db.session.rollback()  # undo the in-memory edit; nothing was saved
        return _render_form(form, client, duplicate, 422)
    client.touch()
    db.session.commit()
    log.info("client=%s firm=%s action=updated version=%s", client.id, client.firm_id,
             client.version)
    flash(f"Client {client.display_name} saved.", "success")
    return redirect(url_for("clients.detail", client_id=client.id))


def _header_context(client: Client) -> dict:
    return {"client": client, "history": service.history_of(client)}


@bp.route("/<int:client_id>")
@login_required
def detail(client_id: int) -> str:
    client = get_for_firm(Client, client_id)
    return render_template("clients/detail.html", tab="main", **_header_context(client))


@bp.route("/<int:client_id>/invoices")
@login_required
def invoices(client_id: int) -> str:
    client = get_for_firm(Client, client_id)
    stmt = (
        scoped(Invoice)
        .where(Invoice.client_id == client.id)
        .order_by(Invoice.issue_date.desc(), Invoice.id.desc())
    )
    return render_template(
        "clients/invoices.html", tab="invoices", page=_paginate(stmt), **_header_context(client)
    )


@bp.route("/<int:client_id>/time")
@login_required
def time(client_id: int) -> str:
    client = get_for_firm(Client, client_id)
    stmt = (
        scoped(TimeEntry)
        .where(TimeEntry.client_id == client.id)
        .options(selectinload(TimeEntry.user), selectinload(TimeEntry.category))
        .order_by(TimeEntry.entry_date.desc(), TimeEntry.id.desc())
    )
    total_hours = db.session.execute(
        scoped(TimeEntry)
        .where(TimeEntry.client_id == client.id)
        .with_only_columns(func.coalesce(func.sum(TimeEntry.hours), 0))
    ).scalar_one()
    return render_template(
        "clients/time.html",
        tab="time",
        page=_paginate(stmt),
        total_hours=total_hours,
        **_header_context(client),
    )


def _post_target(client: Client) -> Response:
    return redirect(url_for("clients.detail", client_id=client.id))


@bp.route("/<int:client_id>/deactivate", methods=["POST"])
@login_required
def deactivate(client_id: int) -> Response:
    client = get_for_firm(Client, client_id)
    if not client.active:
        flash(f"{client.display_name} is already inactive.", "info")
        return _post_target(client)
    client.active = False
    client.touch()
    db.session.commit()
    log.info("client=%s firm=%s action=deactivated", client.id, client.firm_id)
    flash(f"{client.display_name} is now inactive. Reactivate it at any time.", "success")
    return _post_target(client)


@bp.route("/<int:client_id>/reactivate", methods=["POST"])
@login_required
def reactivate(client_id: int) -> Response:
    client = get_for_firm(Client, client_id)
    if client.active:
        flash(f"{client.display_name} is already active.", "info")
        return _post_target(client)
    client.active = True
    client.touch()
    db.session.commit()
    log.info("client=%s firm=%s action=reactivated", client.id, client.firm_id)
    flash(f"{client.display_name} is active again.", "success")
    namesake = service.find_duplicate(client.display_name, exclude_id=client.id)
    if namesake is not None:
        flash(f"Another active client is also named {namesake.display_name}.", "warning")
    return _post_target(client)


@bp.route("/<int:client_id>/delete", methods=["POST"])
@login_required
def delete(client_id: int) -> Response:
    client = get_for_firm(Client, client_id)
    if not service.history_of(client).deletable:
        flash(
            f"{client.display_name} has invoices or time entries, so it cannot be deleted. "
            "Deactivate it instead.",
            "danger",
        )
        return _post_target(client)
    name = client.display_name
    db.session.delete(client)
    db.session.commit()
    log.info("client=%s firm=%s action=deleted", client_id, current_user.firm_id)
    flash(f"Client {name} deleted.", "success")
    return redirect(url_for("clients.index"))


@bp.route("/<int:client_id>/sync", methods=["POST"])
@admin_required
def sync(client_id: int) -> Response:
    client = get_for_firm(Client, client_id)
    category, message = service.request_sync(client, current_user.id)
    flash(message, category)
    return _post_target(client)
