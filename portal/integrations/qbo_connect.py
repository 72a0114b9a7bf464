"""Connect QuickBooks: the OAuth 2.0 authorization-code flow, disconnect, and resetting links.

These are the only views that talk to Intuit directly (DESIGN §1): the callback must exchange
the code while the admin waits. Every failure ends in a redirect with a message and nothing
stored. `state` is bound to the session and single-use (C2); a realm other than the one the
firm's records are linked to is refused unless the admin resets the links first (C5).
"""

from __future__ import annotations

import logging
import secrets
import time

from flask import current_app, flash, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select, update

from portal.auth.access import admin_required, firm_id
from portal.extensions import db
from portal.integrations.views import (
    STRIPE_BLOCKS_QBO,
    bp,
    firm_qbo,
    firm_stripe,
    lock_firm,
    stripe_holds_firm,
)
from portal.models import Client, Invoice, TimeEntry
from portal.qbo import oauth, tokens
from portal.qbo.errors import QboError

log = logging.getLogger("portal.integrations")

STATE_KEY = "qbo_oauth"
STATE_MAX_AGE = 15 * 60  # seconds an admin may spend on Intuit's pages


def _to_card():
    return redirect(url_for("integrations.index") + "#qbo-title")


def linked_record_count(for_firm: int) -> int:
    """How many of the firm's records carry a QBO id (they all point at one realm)."""
    total = 0
    for model, column in (
        (Client, Client.qbo_customer_id),
        (Invoice, Invoice.qbo_invoice_id),
        (TimeEntry, TimeEntry.qbo_time_activity_id),
    ):
        total += db.session.execute(
            select(func.count()).select_from(model).where(
                model.firm_id == for_firm, column.is_not(None)
            )
        ).scalar_one()
    return total


@bp.route("/quickbooks/connect", methods=["POST"], endpoint="qbo_connect")
@admin_required
def qbo_connect():
    lock_firm()
    if stripe_holds_firm(firm_stripe()):
        db.session.rollback()
        flash(STRIPE_BLOCKS_QBO, "danger")
        return _to_card()
    db.session.rollback()
    state = oauth.generate_state()
    session[STATE_KEY] = {
        "state": state,
        "firm": firm_id(),
        "user": current_user.id,
        "at": time.time(),
        "nonce": secrets.token_hex(4),
    }
    try:
        url = oauth.build_authorize_url(current_app.config, state)
    except QboError as exc:
        session.pop(STATE_KEY, None)
        log.warning("event=qbo_connect state=failed firm=%s reason=%s", firm_id(), exc.code)
        flash("QuickBooks could not be reached to start the connection. Try again in a "
              "minute.", "danger")
        return _to_card()
    log.info("event=qbo_connect state=redirected firm=%s by=%s", firm_id(), current_user.id)
    return redirect(url)


@bp.route("/quickbooks/callback", endpoint="qbo_callback")
@admin_required
def qbo_callback():
    """Intuit sends the admin back here with code, state and realmId (or an error)."""
    expected = session.pop(STATE_KEY, None)
    given = request.args.get("state", "")
    if (
        not expected
        or not secrets.compare_digest(str(expected.get("state", "")), given)
        or expected.get("firm") != firm_id()
        or expected.get("user") != current_user.id
        or time.time() - float(expected.get("at", 0)) > STATE_MAX_AGE
    ):
        log.warning("event=qbo_callback state=bad_state firm=%s", firm_id())
        flash("The QuickBooks connection could not be verified (it expired or did not start "
              "here). Nothing was changed; please connect again.", "danger")
        return _to_card()

    error = request.args.get("error")
    if error:
        log.info("event=qbo_callback state=refused firm=%s error=%s", firm_id(), error[:40])
        if error == "access_denied":
            flash("QuickBooks was not connected: access was declined on Intuit's page.",
                  "warning")
        else:
            flash("QuickBooks was not connected: Intuit answered with an error "
                  f"({error[:60]}).", "danger")
        return _to_card()

    code, realm_id = request.args.get("code", ""), request.args.get("realmId", "")
    if not code or not realm_id or len(code) > 512 or not realm_id.isdigit():
        flash("QuickBooks sent back an incomplete answer. Nothing was changed; please "
              "connect again.", "danger")
        return _to_card()

    existing = firm_qbo()
    if existing is not None and existing.realm_id and existing.realm_id != realm_id:
        linked = linked_record_count(firm_id())
        if linked:
            log.info("event=qbo_callback state=other_realm firm=%s", firm_id())
            flash(
                f"That is a different QuickBooks company than the one {linked} of your records "
                "are linked to. Nothing was changed. Connect the same company again, or reset "
                "the QuickBooks links below and then connect the new company.",
                "danger",
            )
            return _to_card()

    try:
        token = oauth.exchange_code(code, realm_id, current_app.config)
        company = oauth.fetch_company_name(realm_id, token.access_token, current_app.config)
    except QboError as exc:
        log.warning("event=qbo_callback state=failed firm=%s error=%s", firm_id(),
                    type(exc).__name__)
        flash("QuickBooks did not accept the connection (" + (exc.message or "error")[:120]
              + "). Nothing was stored; please try again.", "danger")
        return _to_card()

    lock_firm()
    if stripe_holds_firm(firm_stripe()):
        db.session.rollback()
        oauth_revoke_quietly(token.refresh_token)
        flash(STRIPE_BLOCKS_QBO, "danger")
        return _to_card()
    tokens.record_connection(firm_id(), token, realm_id, company, current_user.id)
    db.session.commit()
    log.info("event=qbo_callback state=connected firm=%s realm=%s by=%s", firm_id(), realm_id,
             current_user.id)
    flash(f"QuickBooks Online is connected to {company or 'your company'}.", "success")
    return _to_card()


def oauth_revoke_quietly(token: str) -> None:
    try:
        oauth.revoke(token, current_app.config)
    except QboError:
        log.warning("event=qbo_revoke state=failed firm=%s", firm_id())


@bp.route("/quickbooks/disconnect", methods=["POST"], endpoint="qbo_disconnect")
@admin_required
def qbo_disconnect():
    conn = firm_qbo()
    if conn is None or conn.status == "disconnected":
        flash("QuickBooks is not connected.", "info")
        return _to_card()
    revoked = tokens.disconnect(conn)
    db.session.commit()
    log.info("event=qbo_disconnect firm=%s by=%s revoked=%s", firm_id(), current_user.id,
             revoked)
    if revoked:
        flash("QuickBooks was disconnected. Links to QuickBooks records are kept, so "
              "reconnecting the same company resumes where it left off.", "success")
    else:
        flash("QuickBooks was disconnected here, but Intuit could not be told. Remove the app "
              "under Apps in QuickBooks if it is still listed there.", "warning")
    return _to_card()


@bp.route("/quickbooks/reset-links", methods=["POST"], endpoint="qbo_reset_links")
@admin_required
def qbo_reset_links():
    """Forget every QBO id of the firm so another company can be connected (C5)."""
    conn = firm_qbo()
    if conn is not None and conn.status == "connected":
        flash("Disconnect QuickBooks before resetting the links.", "danger")
        return _to_card()
    fid = firm_id()
    db.session.execute(
        update(Client).where(Client.firm_id == fid, Client.qbo_customer_id.is_not(None))
        .values(qbo_customer_id=None, qbo_sync_token=None, qbo_pushed_version=0)
    )
    db.session.execute(
        update(TimeEntry).where(TimeEntry.firm_id == fid,
                                TimeEntry.qbo_time_activity_id.is_not(None))
        .values(qbo_time_activity_id=None, qbo_sync_token=None, qbo_pushed_version=0)
    )
    db.session.execute(
        update(Invoice).where(Invoice.firm_id == fid, or_(Invoice.qbo_invoice_id.is_not(None),
                                                          Invoice.qbo_doc_number.is_not(None)))
        .values(qbo_invoice_id=None, qbo_sync_token=None)
    )
    if conn is not None:
        conn.realm_id = None
        conn.company_name = None
    db.session.commit()
    log.info("event=qbo_reset_links firm=%s by=%s", fid, current_user.id)
    flash("QuickBooks links were reset. Clients, invoices and time will be matched again in the "
          "company you connect next.", "success")
    return _to_card()



@bp.route("/quickbooks/sync-now", methods=["POST"], endpoint="qbo_sync_now")
@admin_required
def qbo_sync_now():
    """Run the whole per-firm sync now (clients, then invoices, then time), as the hourly job
    does; a sync already running for the firm makes this run skip and say so (J2)."""
    from portal.jobs.locks import firm_sync_running
    from portal.jobs.queue import enqueue_firm_sync

    conn = firm_qbo()
    if conn is None or conn.status != "connected":
        flash("Connect QuickBooks first.", "warning")
        return _to_card()
    if firm_sync_running(firm_id()):
        flash("A sync for this firm is running right now; this one was not started. Watch "
              "its progress under Recent sync runs.", "info")
        return _to_card()
    run = enqueue_firm_sync(firm_id(), trigger="button", requested_by_id=current_user.id)
    flash(f"Sync queued (run {run.id}): clients, then invoices, then approved time. "
          "Recent sync runs shows the outcome.", "success")
    return _to_card()
