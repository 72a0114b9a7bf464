"""Integrations page: admins only (and only admins see the tab); the QBO and Stripe cards;
QBO and Stripe are exclusive both ways, enforced by the server (C3); the sync log is the
firm's own."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.models import QboConnection, StripeConnection, SyncEvent, SyncRun
from portal.models._common import utcnow
from tests.conftest import user_of

QBO_BLOCKS_STRIPE = ("Stripe cannot be connected while QuickBooks Online is connected: invoices "
                     "and payments are managed in QuickBooks.")
STRIPE_BLOCKS_QBO = "QuickBooks Online cannot be connected while Stripe is connected"


def _connect_qbo(db, firm, user, status="connected") -> QboConnection:
    conn = QboConnection(firm_id=firm.id, realm_id="9130350000000001", company_name="Sandbox Co",
                         status=status, connected_by_id=user.id, connected_at=utcnow())
    db.session.add(conn)
    db.session.commit()
    return conn


def _stripe(db, firm) -> StripeConnection | None:
    db.session.expire_all()
    return db.session.execute(
        db.select(StripeConnection).where(StripeConnection.firm_id == firm.id)
    ).scalar_one_or_none()


@pytest.mark.parametrize("role", ["staff", "manager"])
def test_non_admins_get_403_and_no_tab(browser, firm, role, db):
    browser.login(user_of(firm, role))
    assert browser.get("/integrations/").status_code == 403
    assert browser.post("/integrations/stripe/connect").status_code == 403
    assert browser.post("/integrations/quickbooks/connect").status_code == 403
    assert _stripe(db, firm) is None
    dashboard = browser.get("/dashboard").get_data(as_text=True)
    assert 'href="/integrations/"' not in dashboard


def test_admin_sees_tab_and_both_cards(browser, admin):
    browser.login(admin)
    assert 'href="/integrations/"' in browser.get("/dashboard").get_data(as_text=True)
    page = browser.get("/integrations/").get_data(as_text=True)
    assert "QuickBooks Online" in page and "Stripe" in page
    assert "/static/img/qb-logo.svg" in page
    assert "Not connected" in page
    assert 'action="/integrations/quickbooks/connect"' in page
    assert 'action="/integrations/stripe/connect"' in page
    assert "No sync has run yet" in page and "Nothing needs attention" in page


def test_qbo_connect_is_post_only(browser, admin):
    browser.login(admin)
    assert browser.get("/integrations/quickbooks/connect").status_code == 405


def test_connected_qbo_card_shows_company_realm_and_who(browser, admin, firm, db):
    _connect_qbo(db, firm, admin)
    browser.login(admin)
    page = browser.get("/integrations/").get_data(as_text=True)
    assert "Sandbox Co" in page and "9130350000000001" in page and admin.name in page
    assert "badge-connected" in page


def test_needs_reconnect_card(browser, admin, firm, db):
    conn = _connect_qbo(db, firm, admin, status="needs_reconnect")
    conn.last_error = "invalid_grant"
    db.session.commit()
    browser.login(admin)
    page = browser.get("/integrations/").get_data(as_text=True)
    assert "Needs reconnect" in page and "Reconnect QuickBooks" in page and "invalid_grant" in page


def test_stripe_connect_and_disconnect(browser, admin, firm, db):
    browser.login(admin)
    response = browser.post("/integrations/stripe/connect", follow_redirects=True)
    assert "Stripe is connected" in response.get_data(as_text=True)
    conn = _stripe(db, firm)
    assert conn.status == "connected" and conn.account_id.startswith("acct_demo")
    assert conn.connected_by_id == admin.id
    page = browser.get("/integrations/").get_data(as_text=True)
    assert conn.account_id in page and "Disconnect Stripe" in page

    response = browser.post("/integrations/stripe/disconnect", follow_redirects=True)
    assert "Stripe was disconnected" in response.get_data(as_text=True)
    assert _stripe(db, firm).status == "disconnected"


def test_c3_qbo_connected_refuses_stripe(browser, admin, firm, db):
    _connect_qbo(db, firm, admin)
    browser.login(admin)
    page = browser.get("/integrations/").get_data(as_text=True)
    assert QBO_BLOCKS_STRIPE in page
    assert 'action="/integrations/stripe/connect"' not in page  # the button is disabled
    response = browser.post("/integrations/stripe/connect", follow_redirects=True)
    assert QBO_BLOCKS_STRIPE in response.get_data(as_text=True)
    assert _stripe(db, firm) is None


def test_c3_qbo_needing_reconnect_still_refuses_stripe(browser, admin, firm, db):
    _connect_qbo(db, firm, admin, status="needs_reconnect")
    browser.login(admin)
    browser.post("/integrations/stripe/connect")
    assert _stripe(db, firm) is None


def test_c3_stripe_connected_refuses_qbo(browser, admin, firm, db):
    browser.login(admin)
    browser.post("/integrations/stripe/connect")
    page = browser.get("/integrations/").get_data(as_text=True)
    assert STRIPE_BLOCKS_QBO in page
    assert 'action="/integrations/quickbooks/connect"' not in page
    response = browser.post("/integrations/quickbooks/connect", follow_redirects=True)
    text = response.get_data(as_text=True)
    assert STRIPE_BLOCKS_QBO in text


def test_disconnected_qbo_row_does_not_block_stripe(browser, admin, firm, db):
    _connect_qbo(db, firm, admin, status="disconnected")
    browser.login(admin)
    browser.post("/integrations/stripe/connect")
    assert _stripe(db, firm).status == "connected"


def test_another_firms_connections_do_not_count(browser, admin, make_firm, db, firm):
    other = make_firm("Other Firm")
    _connect_qbo(db, other, user_of(other, "admin"))
    browser.login(admin)
    page = browser.get("/integrations/").get_data(as_text=True)
    assert "Sandbox Co" not in page and QBO_BLOCKS_STRIPE not in page
    browser.post("/integrations/stripe/connect")
    assert _stripe(db, firm).status == "connected"


def _run(db, firm, **fields) -> SyncRun:
    fields.setdefault("kind", "firm_sync")
    fields.setdefault("trigger", "schedule")
    fields.setdefault("status", "succeeded")
    run = SyncRun(firm_id=firm.id, **fields)
    db.session.add(run)
    db.session.commit()
    return run


def test_recent_runs_are_the_firms_own(browser, admin, firm, make_firm, db):
    start = utcnow() - timedelta(minutes=5)
    _run(db, firm, kind="clients", trigger="button", started_at=start,
         finished_at=start + timedelta(seconds=95), counts={"created": 3, "updated": 9},
         message="Pushed 12 clients")
    _run(db, make_firm("Other Firm"), message="Other firm's run")
    browser.login(admin)
    page = browser.get("/integrations/").get_data(as_text=True)
    assert "Pushed 12 clients" in page and "3 created · 9 updated" in page
    assert "1 min 35 s" in page and "Button" in page and "badge-succeeded" in page
    assert "Other firm&#39;s run" not in page and "Other firm's run" not in page
    assert "No sync has run yet" not in page


def test_needs_attention_lists_held_and_failed_of_the_firm_newest_first(
    browser, admin, firm, make_firm, make_client, db
):
    client = make_client(firm, first_name="Zoë", last_name="Brontë")
    run = _run(db, firm, status="failed")
    now = utcnow()
    db.session.add_all([
        SyncEvent(run_id=run.id, firm_id=firm.id, entity="client", entity_id=client.id,
                  action="created", result="ok", message="fine and dandy",
                  created_at=now - timedelta(minutes=3)),
        SyncEvent(run_id=run.id, firm_id=firm.id, entity="invoice", entity_id=None,
                  action="held", result="held", message="older: code TAX has no item",
                  created_at=now - timedelta(minutes=2)),
        SyncEvent(run_id=run.id, firm_id=firm.id, entity="client", entity_id=client.id,
                  action="create", result="failed", message="newer: name clashes with a Vendor",
                  created_at=now - timedelta(minutes=1)),
    ])
    other = make_firm("Other Firm")
    other_run = _run(db, other, status="failed")
    db.session.add(SyncEvent(run_id=other_run.id, firm_id=other.id, entity="client",
                             entity_id=1, action="create", result="failed",
                             message="other firm problem"))
    db.session.commit()
    browser.login(admin)
    page = browser.get("/integrations/").get_data(as_text=True)
    assert "fine and dandy" not in page
    assert "other firm problem" not in page
    assert page.index("newer: name clashes") < page.index("older: code TAX")
    assert "Zoë Brontë" in page and f'href="/clients/{client.id}"' in page
    assert "Nothing needs attention" not in page


def test_needs_attention_drops_a_record_once_its_latest_sync_succeeded(
    browser, admin, firm, make_client, db
):
    fixed = make_client(firm, first_name="Fixed", last_name="Later")
    stuck = make_client(firm, first_name="Still", last_name="Stuck")
    run = _run(db, firm, status="succeeded")
    now = utcnow()
    db.session.add_all([
        SyncEvent(run_id=run.id, firm_id=firm.id, entity="client", entity_id=fixed.id,
                  action="create", result="failed", message="clash with a vendor",
                  created_at=now - timedelta(minutes=5)),
        SyncEvent(run_id=run.id, firm_id=firm.id, entity="client", entity_id=fixed.id,
                  action="created", result="ok", message="renamed and created",
                  created_at=now - timedelta(minutes=1)),
        SyncEvent(run_id=run.id, firm_id=firm.id, entity="client", entity_id=stuck.id,
                  action="held", result="held", message="several customers match",
                  created_at=now - timedelta(minutes=2)),
    ])
    db.session.commit()
    browser.login(admin)
    page = browser.get("/integrations/").get_data(as_text=True)
    assert "clash with a vendor" not in page
    assert "several customers match" in page


def test_needs_attention_shows_flagged_rate_mismatches(browser, admin, firm, db):
    run = _run(db, firm, status="succeeded")
    db.session.add(SyncEvent(run_id=run.id, firm_id=firm.id, entity="time_entry", entity_id=7,
                             action="rate_mismatch", result="flagged",
                             message="Pushed at 150.00/h, but the employee has BillRate 120.00/h"))
    db.session.commit()
    browser.login(admin)
    page = browser.get("/integrations/").get_data(as_text=True)
    assert "BillRate 120.00/h" in page and "badge-flagged" in page
