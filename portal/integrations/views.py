"""Integrations (admins only): the QuickBooks Online and Stripe cards and the sync log.

QBO and Stripe are exclusive (C3): a firm whose invoices and payments live in QuickBooks
cannot also take them through Stripe, and the reverse. The server enforces it on every
connect, whatever the page showed.
"""

from __future__ import annotations

import secrets

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, or_

from portal.auth.access import admin_required, firm_id, page_number, scoped
from portal.extensions import db
from portal.models import (
    Client,
    Firm,
    Invoice,
    QboConnection,
    StripeConnection,
    SyncEvent,
    SyncRun,
    TimeEntry,
    User,
)
from portal.models._common import utcnow

bp = Blueprint("integrations", __name__)

QBO_BLOCKS_STRIPE = (
    "Stripe cannot be connected while QuickBooks Online is connected: invoices and payments "
    "are managed in QuickBooks."
)
STRIPE_BLOCKS_QBO = (
    "QuickBooks Online cannot be connected while Stripe is connected: invoices and payments "
    "are managed in Stripe. Disconnect Stripe first."
)
RECENT_RUNS = 20
ATTENTION_RESULTS = ("held", "failed", "flagged")


def firm_qbo() -> QboConnection | None:
    return db.session.execute(scoped(QboConnection)).scalar_one_or_none()


def firm_stripe() -> StripeConnection | None:
    return db.session.execute(scoped(StripeConnection)).scalar_one_or_none()


def qbo_holds_firm(conn: QboConnection | None) -> bool:
    """A realm is linked (even one whose tokens need renewing): QuickBooks owns invoicing."""
    return conn is not None and conn.status in ("connected", "needs_reconnect")


def stripe_holds_firm(conn: StripeConnection | None) -> bool:
    return conn is not None and conn.is_connected


def lock_firm() -> None:
    """Serialize connection changes per firm (FOR UPDATE on PostgreSQL), so a QBO connect and
    a Stripe connect racing each other cannot both pass the exclusivity check."""
    db.session.execute(db.select(Firm.id).where(Firm.id == firm_id()).with_for_update())


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def format_counts(counts: dict | None) -> str:
    """{"created": 3, "updated": 9} -> "3 created · 9 updated" (zeros left out)."""
    parts = [f"{value} {key.replace('_', ' ')}" for key, value in (counts or {}).items() if value]
    return " · ".join(parts) or "—"


def _entity_labels(events: list[SyncEvent]) -> dict[tuple[str, int], tuple[str, str | None]]:
    """(entity, id) -> (what a person calls the record, link to it), loaded firm-scoped."""
    wanted: dict[str, set[int]] = {}
    for event in events:
        if event.entity_id is not None:
            wanted.setdefault(event.entity, set()).add(event.entity_id)
    labels: dict[tuple[str, int], tuple[str, str | None]] = {}
    if wanted.get("client"):
        stmt = scoped(Client).where(Client.id.in_(wanted["client"]))
        for c in db.session.execute(stmt).scalars():
            labels[("client", c.id)] = (c.display_name, url_for("clients.detail", client_id=c.id))
    if wanted.get("invoice"):
        stmt = scoped(Invoice).where(Invoice.id.in_(wanted["invoice"]))
        for inv in db.session.execute(stmt).scalars():
            labels[("invoice", inv.id)] = (
                f"Invoice {inv.number}", url_for("invoices.detail", invoice_id=inv.id)
            )
    if wanted.get("time_entry"):
        stmt = scoped(TimeEntry).where(TimeEntry.id.in_(wanted["time_entry"]))
        for entry in db.session.execute(stmt).scalars():
            labels[("time_entry", entry.id)] = (
                f"Time of {entry.user.name} on {entry.entry_date:%b %d, %Y}", None
            )
    return labels


def attention_query():
    """Records whose LATEST sync outcome is held or failed: what needs attention now, not
    every problem ever logged (a record fixed and pushed since drops off the list). Events
    not about one record (entity_id empty) cannot be superseded and always show."""
    latest_per_record = (
        db.select(func.max(SyncEvent.id))
        .where(SyncEvent.firm_id == firm_id(), SyncEvent.entity_id.is_not(None))
        .group_by(SyncEvent.entity, SyncEvent.entity_id)
    )
    return (
        scoped(SyncEvent)
        .where(SyncEvent.result.in_(ATTENTION_RESULTS))
        .where(or_(SyncEvent.entity_id.is_(None), SyncEvent.id.in_(latest_per_record)))
        .order_by(SyncEvent.created_at.desc(), SyncEvent.id.desc())
    )


@bp.route("/")
@admin_required
def index():
    qbo, stripe = firm_qbo(), firm_stripe()
    recent = scoped(SyncRun).order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
    runs = list(db.session.execute(recent.limit(RECENT_RUNS)).scalars())
    attention = db.paginate(
        attention_query(),
        page=page_number(),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    stripe_by = None
    if stripe is not None and stripe.connected_by_id:
        stripe_by = db.session.get(User, stripe.connected_by_id)
    return render_template(
        "integrations/index.html",
        qbo=qbo,
        stripe=stripe,
        stripe_by=stripe_by,
        qbo_holds=qbo_holds_firm(qbo),
        stripe_holds=stripe_holds_firm(stripe),
        qbo_blocks_stripe=QBO_BLOCKS_STRIPE,
        stripe_blocks_qbo=STRIPE_BLOCKS_QBO,
        runs=runs,
        attention=attention,
        labels=_entity_labels(list(attention.items)),
        format_duration=format_duration,
        format_counts=format_counts,
    )


@bp.route("/stripe/connect", methods=["POST"])
@admin_required
def stripe_connect():
    """Stand-in for a Stripe connection: records one so the C3 rule can be shown both ways."""
    lock_firm()
    if qbo_holds_firm(firm_qbo()):
        db.session.rollback()
        flash(QBO_BLOCKS_STRIPE, "danger")
        return redirect(url_for("integrations.index"))
    conn = firm_stripe()
    if stripe_holds_firm(conn):
        db.session.rollback()
        flash("Stripe is already connected.", "info")
        return redirect(url_for("integrations.index"))
    if conn is None:
        conn = StripeConnection(firm_id=firm_id())
        db.session.add(conn)
    conn.status = "connected"
    conn.account_id = "acct_demo" + secrets.token_hex(6)
    conn.connected_by_id = current_user.id
    conn.connected_at = utcnow()
    db.session.commit()
    current_app.logger.info("event=stripe_connected firm=%s by=%s", conn.firm_id, current_user.id)
    flash("Stripe is connected (demo account). QuickBooks Online cannot be connected while "
          "it is.", "success")
    return redirect(url_for("integrations.index"))


@bp.route("/stripe/disconnect", methods=["POST"])
@admin_required
def stripe_disconnect():
    conn = firm_stripe()
    if not stripe_holds_firm(conn):
        flash("Stripe is not connected.", "info")
        return redirect(url_for("integrations.index"))
    conn.status = "disconnected"
    conn.account_id = None
    conn.connected_at = None
    conn.connected_by_id = None
    db.session.commit()
    current_app.logger.info("event=stripe_disconnected firm=%s by=%s", conn.firm_id,
                            current_user.id)
    flash("Stripe was disconnected. You can now connect QuickBooks Online.", "success")
    return redirect(url_for("integrations.index"))
