"""The home page: what needs doing today."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import func

from portal.auth.access import scoped
from portal.extensions import db
from portal.models import Client, Invoice, SyncRun, TimeEntry

bp = Blueprint("dashboard", __name__)


@bp.route("/")
def root():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    return redirect(url_for("auth.login"))


@bp.route("/dashboard")
@login_required
def index():
    def count(stmt) -> int:
        return db.session.execute(stmt.with_only_columns(func.count())).scalar_one()

    stats = {
        "clients": count(scoped(Client).where(Client.active.is_(True))),
        "new_invoices": count(scoped(Invoice).where(Invoice.status == "new")),
        "draft_invoices": count(scoped(Invoice).where(Invoice.status == "draft")),
        "submitted_time": count(scoped(TimeEntry).where(TimeEntry.status == "submitted")),
        "my_drafts": count(
            scoped(TimeEntry).where(
                TimeEntry.user_id == current_user.id, TimeEntry.status == "draft"
            )
        ),
    }
    last_run = db.session.execute(
        scoped(SyncRun).order_by(SyncRun.started_at.desc()).limit(1)
    ).scalar_one_or_none()
    return render_template("dashboard/index.html", stats=stats, last_run=last_run)
