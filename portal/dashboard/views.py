"""The home page: what needs doing today, for the person signed in.

Every figure is firm-scoped (``scoped()``) and only computed for the roles that see it, so a
staff member's page never pays for (or leaks) approval, invoice or QuickBooks figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import func

from portal.auth.access import scoped
from portal.extensions import db
from portal.integrations.views import attention_query, firm_qbo
from portal.models import Client, Invoice, SyncRun, TimeEntry
from portal.models._common import ZERO
from portal.time.services import week_start

bp = Blueprint("dashboard", __name__)

RECENT_ENTRIES = 5
RECENT_RUNS = 5


@dataclass
class MyWeek:
    """The signed-in user's Monday-to-Sunday week: what a timesheet would show."""

    start: date
    end: date
    hours: Decimal
    draft_hours: Decimal
    drafts: int  # drafts not yet submitted, any week: they all still need submitting
    recent: list[TimeEntry] = field(default_factory=list)


def _count(stmt: Any) -> int:
    """Row count of a scoped select, without loading the rows."""
    return db.session.execute(
        db.select(func.count()).select_from(stmt.order_by(None).subquery())
    ).scalar_one()


def _my_week(today: date) -> MyWeek:
    start = week_start(today)
    end = start + timedelta(days=6)
    mine = scoped(TimeEntry).where(TimeEntry.user_id == current_user.id)
    in_week = mine.where(TimeEntry.entry_date.between(start, end))
    hours = db.session.execute(
        in_week.with_only_columns(func.coalesce(func.sum(TimeEntry.hours), 0))
    ).scalar_one()
    draft_hours = db.session.execute(
        in_week.where(TimeEntry.status == "draft").with_only_columns(
            func.coalesce(func.sum(TimeEntry.hours), 0)
        )
    ).scalar_one()
    recent = db.session.execute(
        mine.order_by(TimeEntry.entry_date.desc(), TimeEntry.id.desc()).limit(RECENT_ENTRIES)
    ).scalars()
    return MyWeek(
        start=start,
        end=end,
        hours=Decimal(hours or ZERO),
        draft_hours=Decimal(draft_hours or ZERO),
        drafts=_count(mine.where(TimeEntry.status == "draft")),
        recent=list(recent),
    )


def _approver_figures() -> dict[str, Any]:
    """What a manager acts on: time waiting for approval and invoices on their way to QBO."""
    new_invoices = scoped(Invoice).where(Invoice.status == "new")
    new_total = db.session.execute(
        new_invoices.with_only_columns(func.coalesce(func.sum(Invoice.total), 0))
    ).scalar_one()
    return {
        "submitted_time": _count(scoped(TimeEntry).where(TimeEntry.status == "submitted")),
        "new_invoices": _count(new_invoices),
        "new_total": Decimal(new_total or ZERO),
        "draft_invoices": _count(scoped(Invoice).where(Invoice.status == "draft")),
    }


def _admin_figures() -> dict[str, Any]:
    """The QuickBooks panel: connection, the latest runs, and records needing a fix."""
    runs = db.session.execute(
        scoped(SyncRun).order_by(SyncRun.started_at.desc(), SyncRun.id.desc()).limit(RECENT_RUNS)
    ).scalars()
    return {
        "qbo": firm_qbo(),
        "runs": list(runs),
        "attention": _count(attention_query()),
    }


@bp.route("/")
def root():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    return redirect(url_for("auth.login"))


@bp.route("/dashboard")
@login_required
def index():
    today = date.today()
    active_clients = _count(scoped(Client).where(Client.active.is_(True)))
    return render_template(
        "dashboard/index.html",
        today=today,
        week=_my_week(today),
        active_clients=active_clients,
        approver=_approver_figures() if current_user.can_approve else None,
        admin=_admin_figures() if current_user.is_admin else None,
    )
