"""Client sync actions on the Integrations tab (admins only): Import Clients, Sync Clients, the
run status polled by the progress bar, and the review-list decisions.

Registered as ``qbo_clients`` under ``/integrations/quickbooks/clients``. Nothing here calls
QBO: the buttons enqueue jobs (coalescing repeated clicks), the review decisions only change
portal rows. The panel itself is ``templates/integrations/_qbo_clients.html``, fed by the
``client_sync_panel()`` template function below.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, flash, jsonify, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from portal.auth.access import admin_required, db_id, firm_id, get_for_firm, scoped
from portal.extensions import db
from portal.jobs.client_jobs import ACTIVE, IMPORT_KIND, PUSH_KIND, enqueue_import, enqueue_push
from portal.models import Client, ClientReview, QboConnection, SyncEvent, SyncHold, SyncRun
from portal.models._common import utcnow
from portal.qbo.sync.pull import DecisionError, decide

bp = Blueprint("qbo_clients", __name__)
log = logging.getLogger(__name__)

REVIEW_LIMIT = 50
NOT_CONNECTED = "QuickBooks is not connected. Connect it first."
QUEUE_DOWN = "The job queue is not reachable right now; try again in a minute."


def _connected() -> bool:
    conn = db.session.execute(scoped(QboConnection)).scalar_one_or_none()
    return conn is not None and conn.is_connected


def _back() -> Response:
    return redirect(url_for("integrations.index") + "#qbo-clients")


def run_status(run: SyncRun) -> dict[str, Any]:
    """The JSON the progress bar polls (and the panel renders first)."""
    total = run.progress_total
    done = run.progress_done or 0
    percent = None
    if total:
        percent = min(100, round(100 * done / total))
    elif run.status in ("succeeded", "skipped"):
        percent = 100
    return {
        "id": run.id, "kind": run.kind, "status": run.status, "trigger": run.trigger,
        "progress_done": done, "progress_total": total, "percent": percent,
        "counts": dict(run.counts or {}), "message": run.message,
        "finished": run.status not in ACTIVE,
        "label": _label(run, done, total),
    }


def _label(run: SyncRun, done: int, total: int | None) -> str:
    what = "Import" if run.kind == IMPORT_KIND else "Client sync"
    if run.status == "queued":
        return f"{what} queued…"
    if run.status == "running":
        return f"{what} running: {done} of {total}" if total is not None else f"{what} running…"
    if run.status == "succeeded":
        counts = run.counts or {}
        if run.kind == IMPORT_KIND:
            imported = counts.get("imported", 0) + counts.get("imported_job", 0)
            return (f"Import done: {imported} imported, {counts.get('already_linked', 0)} "
                    f"already linked, {counts.get('review', 0)} sent to review.")
        parts = [f"{v} {k.replace('_', ' ')}" for k, v in sorted(counts.items()) if v]
        return "Client sync done: " + (", ".join(parts) if parts else "nothing to send") + "."
    if run.status == "skipped":
        return f"{what} skipped: {run.message or ''}".strip()
    return f"{what} failed: {run.message or 'see the sync log'}"


@bp.app_context_processor
def _panel_function() -> dict[str, Any]:
    return {"client_sync_panel": client_sync_panel, "client_sync_states": client_sync_states,
            "client_sync_state": client_sync_state}


STATE_LABELS = {"linked": "Linked", "pending": "Pending", "attention": "Needs attention"}


def client_sync_states(clients: list[Client]) -> dict[int, dict[str, str]]:
    """client id -> {"state": linked | pending | attention, "label", "reason"} (K5 list)."""
    ids = [c.id for c in clients]
    holds = {}
    if ids:
        holds = {h.entity_id: h for h in db.session.execute(
            scoped(SyncHold).where(SyncHold.entity == "client", SyncHold.entity_id.in_(ids))
        ).scalars()}
    out: dict[int, dict[str, str]] = {}
    for client in clients:
        held = holds.get(client.id)
        if held is not None and client.needs_push:
            state, reason = "attention", held.reason
        elif client.is_linked and not client.needs_push:
            state, reason = "linked", f"QuickBooks customer Id {client.qbo_customer_id}"
        else:
            state, reason = "pending", "Goes to QuickBooks with the next sync."
        out[client.id] = {"state": state, "label": STATE_LABELS[state], "reason": reason}
    return out


def client_sync_state(client: Client) -> dict[str, Any]:
    """The Main tab's sync line: state, a queued/running run covering it, the last outcome."""
    from portal.jobs.client_jobs import covering_run

    state: dict[str, Any] = dict(client_sync_states([client])[client.id])
    run = covering_run(client.firm_id, client.id)
    state["run"] = run.status if run is not None else None
    state["last"] = db.session.execute(
        scoped(SyncEvent).where(SyncEvent.entity == "client", SyncEvent.entity_id == client.id)
        .order_by(SyncEvent.id.desc()).limit(1)
    ).scalar_one_or_none()
    return state


def client_sync_panel() -> dict[str, Any]:
    """Everything the Integrations tab's client panel shows, for the current firm."""
    latest = db.session.execute(
        scoped(SyncRun).where(SyncRun.kind.in_((IMPORT_KIND, PUSH_KIND)))
        .order_by(SyncRun.id.desc()).limit(1)
    ).scalar_one_or_none()
    reviews = list(db.session.execute(
        scoped(ClientReview).where(ClientReview.status == "pending")
        .order_by(ClientReview.id).limit(REVIEW_LIMIT)
    ).scalars())
    ids = {int(cid) for r in reviews for cid in r.candidate_client_ids or []}
    clients = {}
    if ids:
        clients = {c.id: c for c in db.session.execute(
            scoped(Client).where(Client.id.in_(ids))).scalars()}
    pending_total = db.session.execute(
        scoped(ClientReview).where(ClientReview.status == "pending")
        .with_only_columns(db.func.count())
    ).scalar_one()
    held = db.session.execute(
        scoped(SyncHold).where(SyncHold.entity == "client").with_only_columns(db.func.count())
    ).scalar_one()
    return {"run": run_status(latest) if latest else None, "reviews": reviews,
            "review_clients": clients, "review_total": pending_total, "held": held}


@bp.route("/import", methods=["POST"])
@admin_required
def import_clients() -> Response:
    if not _connected():
        flash(NOT_CONNECTED, "warning")
        return _back()
    try:
        run, queued = enqueue_import(firm_id(), current_user.id)
    except Exception:  # noqa: BLE001 - Redis down: say so, never a 500
        log.exception("event=import_enqueue_failed firm=%s", firm_id())
        flash(QUEUE_DOWN, "danger")
        return _back()
    flash("Import queued: the progress bar below follows it." if queued else
          "An import is already queued or running; follow it below.", "info")
    return _back()


@bp.route("/sync", methods=["POST"])
@admin_required
def sync_clients() -> Response:
    if not _connected():
        flash(NOT_CONNECTED, "warning")
        return _back()
    try:
        run, queued = enqueue_push(firm_id(), "button", requested_by_id=current_user.id)
    except Exception:  # noqa: BLE001
        log.exception("event=push_enqueue_failed firm=%s", firm_id())
        flash(QUEUE_DOWN, "danger")
        return _back()
    flash("Sync queued: every new or changed client goes to QuickBooks." if queued else
          "A client sync is already queued; your request is part of it.", "info")
    return _back()


@bp.route("/runs/<int:run_id>")
@admin_required
def status(run_id: int):
    run = get_for_firm(SyncRun, run_id)
    return jsonify(run_status(run))


@bp.route("/review/<int:review_id>", methods=["POST"])
@admin_required
def review(review_id: int) -> Response:
    row = get_for_firm(ClientReview, review_id)
    decision = request.form.get("decision", "")
    client_id = request.form.get("client_id", type=db_id)
    run = SyncRun(firm_id=firm_id(), kind="review", trigger="button", status="succeeded",
                  requested_by_id=current_user.id, counts={decision: 1}, progress_done=1,
                  progress_total=1, finished_at=utcnow())
    db.session.add(run)
    db.session.flush()
    try:
        client = decide(row, decision, run, current_user.id, client_id)
    except DecisionError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return _back()
    db.session.commit()
    name = row.qbo_display_name
    if decision == "link" and client is not None:
        flash(f'Linked {client.display_name} to QuickBooks customer "{name}".', "success")
    elif decision == "import" and client is not None:
        flash(f'Imported "{name}" as a new client.', "success")
    else:
        flash(f'Ignored QuickBooks customer "{name}"; it will not be proposed again.', "success")
    return _back()
