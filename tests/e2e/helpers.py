"""Helpers shared by the e2e tests: the Stack handle, sign-in, screenshots, waiting."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# The seeded demo firm (portal/demo_seed.py).
PASSWORD = "demo-password-2026"  # noqa: S105 - the published demo password
ADMIN = "admin@demo.example"
MANAGER = "maria@demo.example"
STAFF = "alice@demo.example"
# The sandbox's Intuit user (qbo_sandbox/seed.py).
SANDBOX_EMAIL, SANDBOX_PASSWORD = "admin@sandbox.test", "sandbox"


@dataclass
class Stack:
    """Everything one e2e module talks to."""

    portal_url: str
    sandbox: object  # qbo_sandbox.testing.SandboxHandle
    app: object  # the portal's Flask app (for DB look-ups in assertions)
    worker_log: Path

    def query(self, fn: Callable):
        """Run fn() inside the portal's app context with a fresh session; return its result."""
        from portal.extensions import db

        with self.app.app_context():
            try:
                return fn(db)
            finally:
                db.session.remove()


def login(page, email: str, password: str = PASSWORD) -> None:
    """Sign out whoever is signed in, then sign in through the login form."""
    page.goto("/login")
    if page.locator("form[action$='/logout'] button").count():
        page.locator("form[action$='/logout'] button").first.click()
        page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def shoot(page, name: str, phone: bool = True) -> None:
    """Save the current page at 1280 px (and 390 px) wide, full length, as PNGs."""
    SCREENSHOTS.mkdir(exist_ok=True)
    slug = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    page.evaluate("window.scrollTo(0, 0)")  # else the sticky top bar lands mid-picture
    width = (page.viewport_size or DESKTOP)["width"]
    page.screenshot(path=str(SCREENSHOTS / f"{slug}-{width}.png"), full_page=True)
    if phone:
        size = page.viewport_size
        page.set_viewport_size(PHONE)
        page.wait_for_timeout(400)  # let the nav's slide-away transition finish
        page.screenshot(path=str(SCREENSHOTS / f"{slug}-390.png"), full_page=True)
        page.set_viewport_size(size or DESKTOP)


def wait_for(predicate: Callable[[], object], timeout: float = 60, message: str = "") -> object:
    """Poll predicate() until it returns something truthy (server-side state, sandbox data)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message or "condition not met in time")
        time.sleep(0.3)


def worker_log_tail(stack: Stack, lines: int = 40) -> str:
    try:
        return "\n".join(stack.worker_log.read_text().splitlines()[-lines:])
    except OSError:
        return ""


def consent_in_sandbox(page, stack: Stack, company: str) -> None:
    """From the portal's Integrations page: Connect QuickBooks, then Intuit's (the sandbox's)
    sign-in, company chooser and consent pages, as a person would click through them."""
    from playwright.sync_api import expect

    page.get_by_role("button", name="Connect QuickBooks").click()
    expect(page).to_have_url(re.compile(re.escape(stack.sandbox.base_url)))
    if page.get_by_label("Email or user ID").count():  # not yet signed in at Intuit
        page.get_by_label("Email or user ID").fill(SANDBOX_EMAIL)
        page.get_by_label("Password").fill(SANDBOX_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Select a company")).to_be_visible()
    page.get_by_label(re.compile(re.escape(company))).check()
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text(company)).to_be_visible()
    page.get_by_role("button", name="Connect", exact=True).click()
