"""The whole journey of a firm, in a real browser, one test per step (issue 9, item 2).

The steps share one tab and run in order, so the first failure says where the journey broke.
Each step starts by navigating, so a failed step leaves the next one a fair start.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import ADMIN, MANAGER, STAFF, flash_text, login, shoot, wait_for

pytestmark = pytest.mark.e2e

REALM = "9341452000000001"
COMPANY = "Sandbox Company_US_1"
CLIENT = "Michael Chen"  # a demo client that is not in the sandbox company: pushed by Sync
SANDBOX_EMAIL, SANDBOX_PASSWORD = "admin@sandbox.test", "sandbox"


def sandbox_ui(stack, path: str) -> str:
    return f"{stack.sandbox.base_url}/_sandbox/company/{REALM}/{path}"


def test_01_admin_signs_in(page, stack):
    page.goto("/login")
    shoot(page, "login")
    login(page, ADMIN)
    expect(page.locator(".topbar .user-name")).to_contain_text("Dana Whitfield")
    expect(page.locator("h1")).to_be_visible()
    shoot(page, "dashboard")


def test_02_integrations_tab(page, stack):
    page.locator("#sidenav").get_by_role("link", name="Integrations").click()
    expect(page).to_have_url(re.compile(r"/integrations/$"))
    card = page.locator("section[aria-labelledby='qbo-title']")
    expect(card).to_contain_text("Not connected")
    expect(card.get_by_role("button", name="Connect QuickBooks")).to_be_enabled()
    shoot(page, "integrations-not-connected")


def test_03_connect_quickbooks_through_consent(page, stack):
    page.goto("/integrations/")
    page.get_by_role("button", name="Connect QuickBooks").click()
    # Intuit's (the sandbox's) sign-in page.
    expect(page).to_have_url(re.compile(re.escape(stack.sandbox.base_url)))
    page.get_by_label("Email or user ID").fill(SANDBOX_EMAIL)
    page.get_by_label("Password").fill(SANDBOX_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # The company chooser.
    expect(page.get_by_role("heading", name="Select a company")).to_be_visible()
    page.get_by_label(re.compile(COMPANY)).check()
    page.get_by_role("button", name="Next").click()
    # Consent.
    expect(page.get_by_text(COMPANY)).to_be_visible()
    page.get_by_role("button", name="Connect", exact=True).click()
    # Back in the portal, connected.
    expect(page).to_have_url(re.compile(re.escape(stack.portal_url) + r"/integrations/"))
    expect(page.locator(".flashes")).to_contain_text(f"QuickBooks Online is connected to {COMPANY}")
    card = page.locator("section[aria-labelledby='qbo-title']")
    expect(card).to_contain_text("Connected")
    expect(card).to_contain_text(COMPANY)
    expect(card).to_contain_text(REALM)
    shoot(page, "integrations-connected")
