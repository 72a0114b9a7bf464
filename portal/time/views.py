"""My Time: the signed-in user's week, recording time, editing and submitting drafts.

Everyone (staff, managers, admins) sees only their own entries here; approving other people's
time happens on Reports -> Timesheets. Locked or non-draft entries are refused server-side (409).
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.auth.access import db_id
from portal.extensions import db
from portal.models import TimeEntry
from portal.time import services
from portal.time.forms import TimeEntryForm

bp = Blueprint("time", __name__)


def _new_form(**kwargs: object) -> TimeEntryForm:
    return TimeEntryForm(
        clients=services.client_choices(), categories=services.category_choices(), **kwargs
    )


def _edit_form(entry: TimeEntry, **kwargs: object) -> TimeEntryForm:
    return TimeEntryForm(
        obj=entry,
        clients=services.client_choices(entry.client_id),
        categories=services.category_choices(entry.category_id),
        **kwargs,
    )


def _week_url(day: date) -> str:
    return url_for("time.index", week=services.week_start(day).isoformat())


@bp.route("/")
@login_required
def index():
    today = date.today()
    start = services.parse_week(request.args.get("week"), today)
    form = _new_form()
    # Recording from another week's page defaults to that week, not to a date outside it.
    form.entry_date.data = today if start == services.week_start(today) else start
    return render_template(
        "time/index.html",
        week=services.my_week(start),
        form=form,
        prev_week=(start - timedelta(days=7)).isoformat(),
        next_week=(start + timedelta(days=7)).isoformat(),
        this_week=services.week_start(today),
        today=today,
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    form = _new_form()
    if request.method == "GET":
        day = request.args.get("date")
        try:
            form.entry_date.data = date.fromisoformat(day) if day else date.today()
        except ValueError:
            form.entry_date.data = date.today()
    if form.validate_on_submit():
        entry = TimeEntry(firm_id=current_user.firm_id, user_id=current_user.id, status="draft")
        services.apply_form(entry, form)
        db.session.add(entry)
        db.session.commit()
        flash(f"Recorded {entry.hours} h on {entry.entry_date:%a %b %d}.", "success")
        return redirect(_week_url(entry.entry_date))
    status = 422 if form.is_submitted() else 200
    return render_template("time/form.html", form=form, entry=None), status


@bp.route("/<int:entry_id>/edit", methods=["GET", "POST"])
@login_required
def edit(entry_id: int):
    entry = services.own_entry(entry_id)
    if request.method == "POST":
        services.require_editable(entry)
    elif not entry.is_editable:
        # Looking is fine; the page explains why there is nothing to change.
        return render_template("time/form.html", form=None, entry=entry)
    form = _edit_form(entry)
    if form.validate_on_submit():
        services.apply_form(entry, form)
        db.session.commit()
        flash("Time entry updated.", "success")
        return redirect(_week_url(entry.entry_date))
    status = 422 if form.is_submitted() else 200
    return render_template("time/form.html", form=form, entry=entry), status


@bp.route("/<int:entry_id>/delete", methods=["POST"])
@login_required
def delete(entry_id: int):
    entry = services.own_entry(entry_id)
    services.require_editable(entry)
    day = entry.entry_date
    db.session.delete(entry)
    db.session.commit()
    flash("Time entry deleted.", "success")
    return redirect(_week_url(day))


@bp.route("/submit", methods=["POST"])
@login_required
def submit():
    """Submit the selected drafts, or (scope=week) every draft of the given week."""
    back = url_for("time.index", week=request.form.get("week") or None)
    if request.form.get("scope") == "week":
        start = services.parse_week(request.form.get("week"), date.today())
        ids = services.my_week(start).draft_ids
    else:
        ids = request.form.getlist("ids", type=db_id)
    if not ids:
        flash("Select at least one draft entry to submit.", "warning")
        return redirect(back)
    count = services.submit_drafts(ids)
    db.session.commit()
    if count:
        flash(f"Submitted {services.plural(count)} for approval.", "success")
    else:
        flash("Nothing was submitted: only your own unlocked drafts can be submitted.", "warning")
    return redirect(back)
