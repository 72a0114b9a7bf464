"""Who sees what, in the browser: the Integrations tab is for admins only, and Stripe cannot
be connected while QuickBooks is (C1, C3), whatever the page or a forged request says."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import ADMIN, MANAGER, PHONE, STAFF, consent_in_sandbox, login

pytestmark = pytest.mark.e2e

COMPANY = "Sandbox Company_US_2"
STRIPE_REFUSED = "Stripe cannot be connected while QuickBooks Online is connected"
PAGES = ("/dashboard", "/clients/", "/invoices/", "/time/", "/reports/")


@pytest.mark.parametrize("email", [STAFF, MANAGER], ids=["staff", "manager"])
def test_non_admin_never_sees_integrations(page, stack, email):
    login(page, email)
    for path in PAGES:
        page.goto(path)
        nav = page.locator("#sidenav")
        expect(nav.get_by_role("link", name="Dashboard")).to_be_attached()
        expect(nav.get_by_role("link", name="Integrations")).to_have_count(0)
        expect(page.locator("a[href='/integrations/']")).to_have_count(0)
    # Nor behind the phone menu.
    page.set_viewport_size(PHONE)
    try:
        page.goto("/dashboard")
        page.get_by_role("button", name="Menu").click()
        expect(page.locator("#sidenav").get_by_role("link", name="Clients")).to_be_visible()
        expect(page.locator("#sidenav").get_by_role("link", name="Integrations")).to_have_count(0)
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})
    # Typing the address gets a refusal page, not the tab.
    response = page.goto("/integrations/")
    assert response is not None and response.status == 403
    expect(page.locator("main")).not_to_contain_text("Connect QuickBooks")


def _csrf(page) -> str:
    return page.locator("input[name='csrf_token']").first.get_attribute("value")


def test_admin_sees_integrations(page, stack):
    login(page, ADMIN)
    page.goto("/dashboard")
    page.locator("#sidenav").get_by_role("link", name="Integrations").click()
    expect(page.get_by_role("heading", name="Integrations", level=1)).to_be_visible()
    stripe = page.locator("section[aria-labelledby='stripe-title']")
    expect(stripe.get_by_role("button", name="Connect Stripe")).to_be_enabled()


def test_stripe_refused_while_quickbooks_is_connected(page, stack):
    login(page, ADMIN)
    page.goto("/integrations/")
    consent_in_sandbox(page, stack, COMPANY)
    expect(page.locator(".flashes")).to_contain_text(f"connected to {COMPANY}")
    stripe = page.locator("section[aria-labelledby='stripe-title']")
    expect(stripe).to_contain_text(STRIPE_REFUSED)
    expect(stripe.get_by_role("button", name="Connect Stripe")).to_be_disabled()
    # A request made without the page (the button is disabled) is refused by the server too.
    answer = page.request.post(
        f"{stack.portal_url}/integrations/stripe/connect", form={"csrf_token": _csrf(page)}
    )
    assert answer.ok
    assert STRIPE_REFUSED in answer.text()
    page.goto("/integrations/")
    expect(stripe).to_contain_text("Not connected")

    def stripe_rows(db):
        from portal.models import StripeConnection

        return db.session.execute(
            db.select(db.func.count()).select_from(StripeConnection)
            .where(StripeConnection.status == "connected")
        ).scalar_one()

    assert stack.query(stripe_rows) == 0


def test_stripe_allowed_again_after_disconnect(page, stack):
    page.goto("/integrations/")
    page.locator("section[aria-labelledby='qbo-title']").get_by_role(
        "button", name="Disconnect"
    ).click()
    expect(page.locator(".flashes")).to_contain_text("QuickBooks was disconnected")
    stripe = page.locator("section[aria-labelledby='stripe-title']")
    stripe.get_by_role("button", name="Connect Stripe").click()
    expect(page.locator(".flashes")).to_contain_text("Stripe is connected")
    qbo = page.locator("section[aria-labelledby='qbo-title']")
    expect(qbo).to_contain_text(re.compile("cannot be connected while Stripe is connected"))
    expect(qbo.get_by_role("button", name="Connect QuickBooks")).to_be_disabled()
