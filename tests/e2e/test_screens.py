"""The main screens at 1280 px and 390 px: screenshots for people to look at, plus the checks a
machine can make (issue 9, item 3): every form field has a label, keyboard focus is visible,
nothing but a table scrolls sideways on a phone, and the phone menu opens and closes."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import ADMIN, DESKTOP, PHONE, login, shoot

pytestmark = pytest.mark.e2e

SCREENS = {  # name -> path (admin, demo firm)
    "dashboard": "/dashboard",
    "clients": "/clients/",
    "client-new": "/clients/new",
    "invoices": "/invoices/",
    "invoice-new": "/invoices/new",
    "my-time": "/time/",
    "reports": "/reports/",
    "timesheets": "/reports/timesheets",
    "users": "/users/",
    "user-new": "/users/new",
    "customizations": "/customizations/",
    "integrations": "/integrations/",
}

UNLABELLED_JS = """() => Array.from(
    document.querySelectorAll('main input, main select, main textarea'))
  .filter(el => el.type !== 'hidden' && !el.closest('template'))
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby'))
  .map(el => el.outerHTML.slice(0, 120))"""

OVERFLOW_JS = """() => Array.from(document.querySelectorAll('main *'))
  .filter(el => !el.closest('.table-wrap')
                && el.getBoundingClientRect().right > window.innerWidth + 1)
  .map(el => el.tagName.toLowerCase() + '.' + (el.className || '') + ': '
             + (el.textContent || '').trim().slice(0, 40))
  .slice(0, 5)"""


@pytest.fixture(scope="module", autouse=True)
def _signed_in(page, stack):
    login(page, ADMIN)


@pytest.mark.parametrize("name", list(SCREENS))
def test_screen(page, stack, name):
    response = page.goto(SCREENS[name])
    assert response is not None and response.status == 200
    expect(page.locator("main h1")).to_be_visible()
    shoot(page, f"screen-{name}")
    assert page.evaluate(UNLABELLED_JS) == [], "form fields without a label"
    page.set_viewport_size(PHONE)
    try:
        assert page.evaluate(OVERFLOW_JS) == [], "wider than a 390 px phone"
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        page.set_viewport_size(DESKTOP)


def test_client_detail_screen(page, stack):
    page.goto("/clients/")
    page.locator("table.table tbody a").first.click()
    expect(page.locator(".tabs")).to_be_visible()
    shoot(page, "client-detail-demo")


def test_invoice_detail_screen(page, stack):
    page.goto("/invoices/")
    page.locator("table.table tbody a").first.click()
    expect(page.locator("main h1")).to_contain_text("Invoice")
    shoot(page, "invoice-detail-demo")


def test_keyboard_focus_is_visible(page, stack):
    page.goto("/clients/")
    page.keyboard.press("Tab")  # the skip link comes first
    focused = page.evaluate("document.activeElement.className")
    assert "skip-link" in focused
    for _ in range(4):
        page.keyboard.press("Tab")
        style = page.evaluate(
            "(() => { const s = getComputedStyle(document.activeElement);"
            " return [s.outlineStyle, s.outlineWidth, s.boxShadow]; })()"
        )
        outline_style, outline_width, shadow = style
        visible = (outline_style != "none" and outline_width not in ("0px", "")) or (
            shadow not in ("none", "")
        )
        assert visible, f"no visible focus on {page.evaluate('document.activeElement.outerHTML')}"


def test_phone_menu_button_opens_and_closes_the_nav(page, stack):
    page.set_viewport_size(PHONE)
    try:
        page.goto("/dashboard")
        nav_link = page.locator("#sidenav").get_by_role("link", name="Invoices")
        toggle = page.get_by_role("button", name="Menu")
        expect(toggle).to_be_visible()
        expect(nav_link).to_be_hidden()
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(nav_link).to_be_visible()
        shoot(page, "phone-menu-open", phone=False)
        nav_link.click()
        expect(page).to_have_url(f"{stack.portal_url}/invoices/")
        expect(nav_link).to_be_hidden()
        toggle.click()
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "false")
        expect(nav_link).to_be_hidden()
    finally:
        page.set_viewport_size(DESKTOP)
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(page.locator("#sidenav").get_by_role("link", name="Invoices")).to_be_visible()
