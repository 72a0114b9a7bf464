"""Connect QuickBooks end to end: the portal's connect/callback/disconnect views against the
local sandbox's real consent pages, over real HTTP (C2, C3, C5)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from portal.models import Client, QboConnection, StripeConnection
from portal.qbo.crypto import decrypt
from tests.qbo_support import REDIRECT_URI, _sandbox_server, _sbx  # noqa: F401


def _start(browser) -> dict[str, str]:
    """Press Connect; return the authorize request the portal redirected the browser to."""
    response = browser.post("/integrations/quickbooks/connect")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/connect/oauth2"
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def _consent(sbx, params: dict[str, str], **kwargs) -> dict[str, str]:
    return sbx.authorize(params["redirect_uri"], state=params["state"], **kwargs)


def _callback(browser, answer: dict[str, str]):
    return browser.get("/integrations/quickbooks/callback", query_string=answer)


def _connection(db, firm) -> QboConnection | None:
    db.session.expire_all()
    return db.session.execute(
        db.select(QboConnection).where(QboConnection.firm_id == firm.id)
    ).scalar_one_or_none()


def test_authorize_request_carries_scope_state_and_redirect(sbx, browser, admin):
    browser.login(admin)
    params = _start(browser)
    assert params["scope"] == "com.intuit.quickbooks.accounting"
    assert params["response_type"] == "code"
    assert params["client_id"] == sbx.CLIENT_ID
    assert params["redirect_uri"] == REDIRECT_URI
    assert len(params["state"]) >= 20


def test_full_connect_stores_realm_company_and_encrypted_tokens(sbx, browser, admin, firm, db):
    browser.login(admin)
    answer = _consent(sbx, _start(browser), realm_id=sbx.REALM_1)
    response = _callback(browser, answer)
    assert response.status_code == 302
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "QuickBooks Online is connected to Sandbox Company_US_1." in page
    conn = _connection(db, firm)
    assert conn.status == "connected"
    assert conn.realm_id == sbx.REALM_1
    assert conn.company_name == "Sandbox Company_US_1"
    assert conn.connected_by_id == admin.id
    assert conn.access_token_enc and conn.refresh_token_enc
    # The card shows the connection; the tokens never appear on the page.
    page = browser.get("/integrations/").get_data(as_text=True)
    assert "Sandbox Company_US_1" in page and sbx.REALM_1 in page
    assert 'action="/integrations/quickbooks/disconnect"' in page


def test_second_company_can_be_chosen(sbx, browser, admin, firm, db):
    browser.login(admin)
    _callback(browser, _consent(sbx, _start(browser), realm_id=sbx.REALM_2))
    conn = _connection(db, firm)
    assert conn.realm_id == sbx.REALM_2 and conn.company_name == "Sandbox Company_US_2"


def test_refused_consent_stores_nothing(sbx, browser, admin, firm, db):
    browser.login(admin)
    answer = _consent(sbx, _start(browser), realm_id=sbx.REALM_1, allow=False)
    assert answer["error"] == "access_denied"
    response = _callback(browser, answer)
    assert response.status_code == 302
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "access was declined" in page
    assert _connection(db, firm) is None


@pytest.mark.parametrize("tamper", ["wrong", "missing", "replayed"])
def test_bad_state_is_refused_and_nothing_stored(sbx, browser, admin, firm, db, tamper):
    browser.login(admin)
    params = _start(browser)
    answer = _consent(sbx, params, realm_id=sbx.REALM_1)
    if tamper == "wrong":
        state = answer["state"]
        answer["state"] = ("y" if state[0] == "x" else "x") + state[1:]
    elif tamper == "missing":
        answer.pop("state")
    else:
        _callback(browser, answer)  # the first use connects ...
        browser.post("/integrations/quickbooks/disconnect")
    response = _callback(browser, answer)  # ... and the same state never works twice
    assert response.status_code == 302
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "could not be verified" in page
    conn = _connection(db, firm)
    assert conn is None or conn.status == "disconnected"


def test_token_endpoint_error_is_reported_and_nothing_stored(sbx, browser, admin, firm, db):
    browser.login(admin)
    answer = _consent(sbx, _start(browser), realm_id=sbx.REALM_1)
    sbx.inject_fault("503", count=10, path="/oauth2/v1/tokens/bearer")
    response = _callback(browser, answer)
    assert response.status_code == 302
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "did not accept the connection" in page
    assert _connection(db, firm) is None


def test_staff_cannot_start_or_finish_a_connection(sbx, browser, staff):
    browser.login(staff)
    assert browser.post("/integrations/quickbooks/connect").status_code == 403
    assert browser.get("/integrations/quickbooks/callback?code=x&state=y&realmId=1"
                       ).status_code == 403


def test_disconnect_revokes_and_keeps_links(sbx, browser, admin, firm, db, make_client):
    browser.login(admin)
    _callback(browser, _consent(sbx, _start(browser), realm_id=sbx.REALM_1))
    client = make_client(firm, qbo_customer_id="58", qbo_sync_token="0")
    refresh_token = decrypt(_connection(db, firm).refresh_token_enc)
    response = browser.post("/integrations/quickbooks/disconnect")
    assert response.status_code == 302
    conn = _connection(db, firm)
    assert conn.status == "disconnected"
    assert conn.access_token_enc is None and conn.refresh_token_enc is None
    assert conn.realm_id == sbx.REALM_1  # reconnecting the same company resumes
    db.session.expire_all()
    assert db.session.get(Client, client.id).qbo_customer_id == "58"
    # Revoked at Intuit: the old refresh token no longer works there.
    answer = requests.post(
        f"{sbx.base_url}/oauth2/v1/tokens/bearer",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(sbx.CLIENT_ID, sbx.CLIENT_SECRET),
        timeout=10,
    )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_reconnecting_same_realm_resumes(sbx, browser, admin, firm, db, make_client):
    browser.login(admin)
    _callback(browser, _consent(sbx, _start(browser), realm_id=sbx.REALM_1))
    make_client(firm, qbo_customer_id="58")
    browser.post("/integrations/quickbooks/disconnect")
    _callback(browser, _consent(sbx, _start(browser), realm_id=sbx.REALM_1))
    assert _connection(db, firm).status == "connected"


def test_other_realm_refused_while_links_exist_until_reset(sbx, browser, admin, firm, db,
                                                           make_client):
    browser.login(admin)
    _callback(browser, _consent(sbx, _start(browser), realm_id=sbx.REALM_1))
    client = make_client(firm, qbo_customer_id="58", qbo_sync_token="3")
    browser.post("/integrations/quickbooks/disconnect")

    response = _callback(browser, _consent(sbx, _start(browser), realm_id=sbx.REALM_2))
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "different QuickBooks company" in page
    conn = _connection(db, firm)
    assert conn.realm_id == sbx.REALM_1 and conn.status == "disconnected"

    assert browser.post("/integrations/quickbooks/reset-links").status_code == 302
    db.session.expire_all()
    assert db.session.get(Client, client.id).qbo_customer_id is None
    _callback(browser, _consent(sbx, _start(browser), realm_id=sbx.REALM_2))
    conn = _connection(db, firm)
    assert conn.realm_id == sbx.REALM_2 and conn.status == "connected"


def test_reset_links_refused_while_connected(sbx, browser, admin, firm, db, make_client):
    browser.login(admin)
    _callback(browser, _consent(sbx, _start(browser), realm_id=sbx.REALM_1))
    client = make_client(firm, qbo_customer_id="58")
    browser.post("/integrations/quickbooks/reset-links")
    db.session.expire_all()
    assert db.session.get(Client, client.id).qbo_customer_id == "58"


def test_stripe_connected_blocks_qbo_connect(sbx, browser, admin, firm, db):
    db.session.add(StripeConnection(firm_id=firm.id, status="connected", account_id="acct_x"))
    db.session.commit()
    browser.login(admin)
    response = browser.post("/integrations/quickbooks/connect")
    assert response.status_code == 302
    assert "/connect/oauth2" not in response.headers["Location"]


def test_needs_reconnect_banner_on_every_admin_page_until_fixed(sbx, browser, admin, manager,
                                                                firm, db):
    browser.login(admin)
    _callback(browser, _consent(sbx, _start(browser), realm_id=sbx.REALM_1))
    sbx.revoke_tokens(sbx.REALM_1)
    conn = _connection(db, firm)
    conn.access_expires_at = conn.access_expires_at.replace(year=2000)
    db.session.commit()
    from portal.qbo import tokens
    from portal.qbo.errors import InvalidGrant

    with pytest.raises(InvalidGrant):
        tokens.get_access_token(firm.id)
    assert _connection(db, firm).status == "needs_reconnect"
    for page in ("/dashboard", "/clients/", "/invoices/", "/integrations/", "/users/"):
        assert "QuickBooks needs to be reconnected" in browser.get(page).get_data(as_text=True)
    # Managers cannot fix it, so they are not nagged.
    from tests.conftest import Browser

    other = Browser(browser.client.application.test_client())
    other.login(manager)
    assert "QuickBooks needs to be reconnected" not in other.get("/dashboard").get_data(
        as_text=True)
    # Reconnecting clears it.
    _callback(browser, _consent(sbx, _start(browser), realm_id=sbx.REALM_1))
    assert _connection(db, firm).status == "connected"
    assert "QuickBooks needs to be reconnected" not in browser.get("/dashboard").get_data(
        as_text=True)


def test_sync_everything_now_queues_one_firm_sync_run(sbx, browser, admin, firm, db, redis):
    from portal.models import SyncRun

    browser.login(admin)
    _callback(browser, _consent(sbx, _start(browser), realm_id=sbx.REALM_1))
    page = browser.get("/integrations/").get_data(as_text=True)
    assert 'action="/integrations/quickbooks/sync-now"' in page
    response = browser.post("/integrations/quickbooks/sync-now", follow_redirects=True)
    assert "Sync queued" in response.get_data(as_text=True)
    db.session.expire_all()
    runs = db.session.execute(db.select(SyncRun).where(SyncRun.firm_id == firm.id)).scalars()
    [run] = [r for r in runs if r.kind == "firm_sync"]
    assert run.trigger == "button" and run.status == "queued" and run.requested_by_id == admin.id


def test_sync_everything_now_needs_a_connection(sbx, browser, admin, firm, db):
    from portal.models import SyncRun

    browser.login(admin)
    response = browser.post("/integrations/quickbooks/sync-now", follow_redirects=True)
    assert "Connect QuickBooks first." in response.get_data(as_text=True)
    assert db.session.execute(db.select(SyncRun)).first() is None
