"""Invoice sync on the Integrations tab (admins only): "Sync Invoices" and its panel.

Registered as ``qbo_invoices`` under ``/integrations/quickbooks/invoices``. Nothing here calls
QBO: the button enqueues ``portal.jobs.invoice_jobs.push_invoices`` (repeated clicks coalesce
into the run still waiting). The panel is ``templates/integrations/_qbo_invoices.html``, fed by
the ``invoice_sync_panel()`` template function below.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, flash, redirect, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from portal.auth.access import admin_required, firm_id, scoped
from portal.extensions import db
from portal.jobs.invoice_jobs import KIND, enqueue_invoice_push
from portal.models import Invoice, QboConnection, SyncRun

bp = Blueprint("qbo_invoices", __name__)
log = logging.getLogger(__name__)

HELD_LIMIT = 10


def _back() -> Response:
    return redirect(url_for("integrations.index") + "#qbo-invoices")


@bp.route("/sync", methods=["POST"])
@admin_required
def sync_invoices() -> Response:
    conn = db.session.execute(scoped(QboConnection)).scalar_one_or_none()
    if conn is None or conn.status != "connected":
        flash("QuickBooks is not connected. Connect it first.", "danger")
        return _back()
    try:
        _run, queued = enqueue_invoice_push(firm_id(), "button", None,
                                            requested_by_id=current_user.id)
    except Exception:  # noqa: BLE001 - Redis down: say so instead of a 500
        log.exception("event=invoice_sync_enqueue_failed firm=%s", firm_id())
        flash("The job queue is not reachable right now; try again in a minute.", "danger")
        return _back()
    if queued:
        flash("Sync Invoices is queued: every New invoice goes to QuickBooks now. Held invoices "
              "stay New and say why.", "success")
    else:
        flash("Sync Invoices is already queued.", "info")
    return _back()


@bp.app_context_processor
def _panel_function() -> dict[str, Any]:
    return {"invoice_sync_panel": invoice_sync_panel}


def invoice_sync_panel() -> dict[str, Any]:
    """Counts for the panel: NEW invoices waiting, the held ones, pushed ones, the last run."""
    pending = scoped(Invoice).where(Invoice.status == "new", Invoice.qbo_invoice_id.is_(None))
    waiting = db.session.execute(
        db.select(db.func.count()).select_from(pending.subquery())).scalar_one()
    held_stmt = pending.where(Invoice.sync_message.is_not(None)).order_by(Invoice.id)
    held = list(db.session.execute(held_stmt.limit(HELD_LIMIT)).scalars())
    held_count = db.session.execute(
        db.select(db.func.count()).select_from(held_stmt.subquery())).scalar_one()
    pushed = db.session.execute(
        db.select(db.func.count()).select_from(
            scoped(Invoice).where(Invoice.qbo_invoice_id.is_not(None)).subquery())
    ).scalar_one()
    run = db.session.execute(
        scoped(SyncRun).where(SyncRun.kind == KIND).order_by(SyncRun.id.desc()).limit(1)
    ).scalar_one_or_none()
    return {"waiting": waiting, "held": held, "held_count": held_count, "pushed": pushed,
            "run": run}
