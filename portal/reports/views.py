"""Reports: the hub and Reports -> Timesheets (DESIGN T1).

Managers and admins see everyone's time in the firm and approve or return it; staff see only
their own entries (the staff filter is forced to themselves) and get 403 on the actions.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from urllib.parse import parse_qsl, urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import func

from portal.auth.access import approver_required, db_id, firm_id, page_number, scoped
from portal.extensions import db
from portal.jobs.time_jobs import enqueue_time_push, firm_is_connected
from portal.models import Client, TimeEntry, User
from portal.reports import timesheets
from portal.reports.forms import TimesheetFilterForm
from portal.time.services import plural

bp = Blueprint("reports", __name__)

MAX_IDS = 1000  # one action covers at most this many selected rows


@bp.route("/")
@login_required
def index():
    awaiting = None
    if current_user.can_approve:
        awaiting = db.session.execute(
            scoped(TimeEntry)
            .where(TimeEntry.status == "submitted", TimeEntry.locked.is_(False))
            .with_only_columns(func.count())
        ).scalar_one()
    return render_template("reports/index.html", awaiting=awaiting)


def _filter_form() -> TimesheetFilterForm:
    """The filter form bound to the query string, with the firm's staff and clients as choices
    (staff users only ever get themselves)."""
    if current_user.can_approve:
        users = db.session.execute(scoped(User).order_by(User.name, User.id)).scalars()
        staff = [(u.id, u.name if u.active else f"{u.name} (inactive)") for u in users]
    else:
        staff = [(current_user.id, current_user.name)]
    clients = [
        (c.id, c.display_name if c.active else f"{c.display_name} (inactive)")
        for c in db.session.execute(
            scoped(Client).order_by(Client.display_name, Client.id)
        ).scalars()
    ]
    form = TimesheetFilterForm(request.args, staff=staff, clients=clients)
    if not current_user.can_approve:
        form.staff.data = current_user.id  # staff see only their own time, whatever the URL
    return form


def _filter_or_none(form: TimesheetFilterForm) -> timesheets.TimesheetFilter | None:
    if not form.validate():
        return None
    flt = form.to_filter(date.today())
    if not current_user.can_approve:
        flt.user_id = current_user.id
    return flt


def _filter_args() -> dict[str, str]:
    """The current filters (without the page) for links such as the CSV export."""
    return {k: v for k, v in request.args.items() if k != "page" and v != ""}


@bp.route("/timesheets")
@login_required
def timesheets_report():
    form = _filter_form()
    flt = _filter_or_none(form)
    page = totals = None
    if flt is not None:
        page = db.paginate(
            timesheets.entries_stmt(flt),
            page=page_number(),
            per_page=current_app.config["PAGE_SIZE"],
            error_out=False,
        )
        totals = timesheets.totals(flt)
    return render_template(
        "reports/timesheets.html",
        form=form,
        flt=flt,
        page=page,
        totals=totals,
        periods=timesheets.PERIODS,
        entry_amount=timesheets.entry_amount,
        filter_args=_filter_args(),
        back=urlencode(list(request.args.items(multi=True))),
    )


@bp.route("/timesheets.csv")
@login_required
def timesheets_csv():
    """Every row the same filters match (all pages), with the table's columns."""
    form = _filter_form()
    flt = _filter_or_none(form)
    if flt is None:
        problems = "; ".join(f"{form[name].label.text}: {errs[0]}"
                             for name, errs in form.errors.items())
        abort(400, description=f"The filters are not valid ({problems}).")
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(timesheets.CSV_HEADER)
    entries = db.session.execute(timesheets.entries_stmt(flt)).scalars()
    writer.writerows(timesheets.csv_rows(entries))
    start = flt.start.isoformat() if flt.start else "start"
    end = flt.end.isoformat() if flt.end else "end"
    filename = f"timesheets-{start}-to-{end}.csv"
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def _selected_ids() -> list[int]:
    ids = request.form.getlist("ids", type=db_id)
    if len(ids) > MAX_IDS:
        abort(400, description=f"Select at most {MAX_IDS} entries at a time.")
    return ids


def _back_to_report():
    """Back to the report with the filters the user was looking at. The query string is
    re-encoded from parsed pairs, so it can only ever be a query string of this page."""
    query = urlencode(parse_qsl(request.form.get("back", ""), keep_blank_values=True))
    url = url_for("reports.timesheets_report")
    return redirect(f"{url}?{query}" if query else url)


def _flash_result(result: timesheets.ActionResult, verb: str, skipped_reason: str) -> None:
    if result.changed:
        flash(f"{verb} {plural(result.changed)}.", "success")
    if result.locked:
        flash(f"{plural(result.locked)} could not be changed: locked because invoiced.",
              "warning")
    if result.skipped:
        flash(f"{plural(result.skipped)} skipped: {skipped_reason}.", "info")
    if not (result.changed or result.locked or result.skipped):
        flash("Select at least one entry first.", "warning")


def _push_time_soon(result: timesheets.ActionResult, ids: list[int]) -> None:
    """With QuickBooks connected, queue a time push for what just changed (issue 7): approved
    entries appear in QBO within seconds, returned ones disappear. The change is already
    committed, so a queue failure only delays it to the hourly sync."""
    if not result.changed or not firm_is_connected(firm_id()):
        return
    try:
        enqueue_time_push(firm_id(), "approval", ids, requested_by_id=current_user.id)
    except Exception:  # Redis down: the hourly sync still carries the entries
        current_app.logger.exception("time push could not be queued")
        flash("QuickBooks gets these changes with the next hourly sync.", "info")


@bp.route("/timesheets/approve", methods=["POST"])
@approver_required
def approve():
    ids = _selected_ids()
    result = timesheets.approve(ids, current_user)
    db.session.commit()
    _flash_result(result, "Approved", "only submitted entries can be approved")
    _push_time_soon(result, ids)
    return _back_to_report()


@bp.route("/timesheets/return", methods=["POST"])
@approver_required
def return_to_draft():
    ids = _selected_ids()
    result = timesheets.return_to_draft(ids)
    db.session.commit()
    _flash_result(result, "Returned to draft", "they are already drafts")
    _push_time_soon(result, ids)
    return _back_to_report()
