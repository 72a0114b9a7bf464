"""The whole journey of a firm, in a real browser, one test per step (issue 9, item 2).

The steps share one tab and run in order, so the first failure says where the journey broke.
Each step starts by navigating, so a failed step leaves the next one a fair start.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import ADMIN, MANAGER, STAFF, consent_in_sandbox, login, shoot, wait_for

pytestmark = pytest.mark.e2e

REALM = "9341452000000001"
COMPANY = "Sandbox Company_US_1"
CLIENT = "Michael Chen"  # a demo client that is not in the sandbox company: pushed by Sync
CHECK_MS = 30_000  # the Customizations check: worker job + the page's 1.5 s polling + reload


def sandbox_ui(stack, path: str) -> str:
    return f"{stack.sandbox.base_url}/_sandbox/company/{REALM}/{path}"


def choose(select, starts_with: str) -> None:
    """Pick the option whose text starts with `starts_with` (labels carry codes, "(CODE)")."""
    value = select.evaluate(
        "(el, text) => { const o = Array.from(el.options).find("
        "o => o.textContent.trim().startsWith(text)); return o ? o.value : null; }",
        starts_with,
    )
    assert value is not None, f"no option starting with {starts_with!r}"
    select.select_option(value)


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
    consent_in_sandbox(page, stack, COMPANY)
    # Back in the portal, connected.
    expect(page).to_have_url(re.compile(re.escape(stack.portal_url) + r"/integrations/"))
    expect(page.locator(".flashes")).to_contain_text(f"QuickBooks Online is connected to {COMPANY}")
    card = page.locator("section[aria-labelledby='qbo-title']")
    expect(card).to_contain_text("Connected")
    expect(card).to_contain_text(COMPANY)
    expect(card).to_contain_text(REALM)
    shoot(page, "integrations-connected")


def test_04_import_clients_progress_to_done(page, stack):
    # Slow QuickBooks down a little so the run is visibly queued/running before it is done.
    stack.sandbox.configure(latency_ms=1500)
    try:
        page.goto("/integrations/")
        panel = page.locator("#qbo-clients")
        expect(panel).to_contain_text("No client import or sync has run yet")
        panel.get_by_role("button", name="Import Clients").click()
        expect(page.locator(".flashes")).to_contain_text("Import queued")
        bar = panel.locator("progress[data-sync-bar]")
        label = panel.locator("[data-sync-label]")
        first = label.inner_text()
        assert re.search(r"queued|running", first), first
        assert int(bar.get_attribute("value") or 0) < 100
        shoot(page, "integrations-import-running", phone=False)
        # The bar's script polls the run and reloads the page when it is done.
        expect(label).to_contain_text("Import done", timeout=60_000)
    finally:
        stack.sandbox.configure(latency_ms=0)
    expect(bar).to_have_attribute("value", "100")
    text = label.inner_text()
    imported = int(re.search(r"(\d+) imported", text).group(1))
    assert imported > 0, text
    assert re.search(r"\d+ already linked, \d+ sent to review", text), text

    def linked(db):
        from portal.models import Client

        return db.session.execute(
            db.select(db.func.count()).select_from(Client).where(Client.qbo_customer_id.is_not(None))
        ).scalar_one()

    assert stack.query(linked) == imported
    runs = page.locator("section[aria-labelledby='runs-title'] tbody tr")
    expect(runs.first).to_contain_text("Import")
    expect(runs.first).to_contain_text("Succeeded")
    expect(runs.first).to_contain_text(re.compile(r"\d+ imported"))
    shoot(page, "integrations-imported")


def _open_client(page, name: str) -> None:
    page.locator("#sidenav").get_by_role("link", name="Clients").click()
    page.get_by_label("Search").fill(name)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=name, exact=True).first.click()
    expect(page.locator("h1")).to_have_text(name)


def _qbo_id_of(stack, name: str) -> str:
    def find(db):
        from portal.models import Client

        return db.session.execute(
            db.select(Client.qbo_customer_id).where(Client.display_name == name)
        ).scalar_one()

    return stack.query(find)


# Customer 8 of the sandbox's sample company; no demo client has that name, so Import Clients
# creates it as a linked client.
IMPORTED = "Freeman Sporting Goods"


def test_05_open_client_qb_logo_hover_shows_qbo_id(page, stack):
    _open_client(page, IMPORTED)
    qbo_id = _qbo_id_of(stack, IMPORTED)
    assert qbo_id
    logo = page.locator(".qb-slot img.qb-logo")
    logo.hover()
    expect(logo).to_have_attribute("title", f"QuickBooks customer Id: {qbo_id}")
    expect(page.locator(".qb-slot")).to_contain_text(f"Customer Id {qbo_id}")
    shoot(page, "client-detail")


def test_06_edit_client_sync_shows_in_sandbox(page, stack):
    _open_client(page, IMPORTED)
    qbo_id = _qbo_id_of(stack, IMPORTED)
    page.locator(".page-header").get_by_role("link", name="Edit", exact=True).click()
    shoot(page, "client-edit")
    page.get_by_label("Phone").fill("(555) 010-7788")
    page.get_by_role("button", name=re.compile("Save")).click()
    expect(page.locator(".flashes")).to_be_visible()
    expect(page.locator(".qb-slot")).to_contain_text("changes not yet sent")
    page.locator(".qb-slot").get_by_role("button", name="Sync").click()
    expect(page.locator(".flashes")).to_contain_text(f"Sync queued for {IMPORTED}")

    def pushed(db):
        from portal.models import Client

        client = db.session.execute(
            db.select(Client).where(Client.display_name == IMPORTED)
        ).scalar_one()
        return not client.needs_push

    wait_for(lambda: stack.query(pushed), 60, "the client was not pushed")
    page.reload()
    expect(page.locator(".qb-slot")).not_to_contain_text("changes not yet sent")
    # The sandbox's own UI (signed in from the consent pages: same Intuit session).
    page.goto(f"{stack.sandbox.base_url}/_sandbox/company/{REALM}/customers/{qbo_id}")
    expect(page.get_by_label("Phone")).to_have_value("(555) 010-7788")
    shoot(page, "sandbox-customer", phone=False)


def test_07_customizations_codes_live_check_turns_green(page, stack):
    page.goto("/dashboard")
    page.locator("#sidenav").get_by_role("link", name="Customizations").click()
    row = page.locator("tr", has=page.get_by_role("cell", name="Bookkeeping", exact=True))
    # A code QuickBooks does not have: the check says so, in red, with the fix.
    row.get_by_role("link", name=re.compile("^Edit")).click()
    page.get_by_label("Code").fill("BOOKS")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".flashes")).to_be_visible()
    # The page asks QuickBooks through a background job ("Checking with QuickBooks…") and
    # reloads by itself once the worker has the answer.
    expect(row.locator(".badge").first).to_have_text("Missing", timeout=CHECK_MS)
    expect(row).to_contain_text("QuickBooks has no Product/Service named")
    # The exact Name of the Service in QuickBooks: green.
    row.get_by_role("link", name=re.compile("^Edit")).click()
    page.get_by_label("Code").fill("BOOKKEEPING")
    page.get_by_role("button", name="Save changes").click()
    badge = row.locator(".badge").first
    expect(badge).to_have_text("Found", timeout=CHECK_MS)
    expect(badge).to_have_class(re.compile(r"\bbadge-ok\b"))
    color = badge.evaluate("el => getComputedStyle(el).color")
    red, green, blue = (int(v) for v in re.findall(r"\d+", color)[:3])
    assert green > red and green > blue, f"the Found badge is not green: {color}"
    shoot(page, "customizations")


INVOICE_DESC = "Quarterly bookkeeping review (e2e)"


def test_08_invoice_sync_processed_externally_read_only(page, stack):
    page.goto("/invoices/")
    shoot(page, "invoices")
    page.get_by_role("link", name=re.compile("New invoice")).first.click()
    page.get_by_label("Client").select_option(label=IMPORTED)
    page.get_by_label("Description").first.fill(INVOICE_DESC)
    choose(page.get_by_label("Category or type").first, "Bookkeeping")
    page.get_by_label("Quantity").first.fill("3")
    page.get_by_label("Rate").first.fill("125.50")
    shoot(page, "invoice-form")
    page.get_by_role("button", name="Save as New").click()
    expect(page.locator("h1")).to_contain_text("New")
    number = re.search(r"Invoice (\S+)", page.locator("h1").inner_text()).group(1)
    detail_url = page.url

    page.goto("/integrations/")
    page.locator("#qbo-invoices").get_by_role("button", name="Sync Invoices").click()
    expect(page.locator(".flashes")).to_contain_text("Sync Invoices is queued")

    def processed(db):
        from portal.models import Invoice

        invoice = db.session.execute(
            db.select(Invoice).where(Invoice.number == number)
        ).scalar_one()
        return invoice.status == "processed_externally" and invoice.qbo_invoice_id

    qbo_id = wait_for(lambda: stack.query(processed), 60, "the invoice was not pushed")
    page.goto(detail_url)
    expect(page.locator("h1")).to_contain_text("Processed Externally")
    header = page.locator(".page-header")
    for name in ("Edit", "Delete", "Void", "Back to draft", "Push to QuickBooks"):
        expect(header.get_by_role("link", name=name, exact=True)).to_have_count(0)
        expect(header.get_by_role("button", name=name, exact=True)).to_have_count(0)
    expect(page.locator("main")).to_contain_text(f"QuickBooks invoice Id {qbo_id}")
    shoot(page, "invoice-processed")
    # The same invoice in QuickBooks, with the right total.
    page.goto(sandbox_ui(stack, f"invoices/{qbo_id}"))
    expect(page.locator("main, body").first).to_contain_text(IMPORTED)
    expect(page.locator("main, body").first).to_contain_text("376.50")


TIME_DESC = "Payroll setup call (e2e)"


def test_09_staff_records_and_submits_time(page, stack):
    login(page, STAFF)
    page.locator("#sidenav").get_by_role("link", name="My Time").click()
    form = page.locator("#record")
    form.get_by_label("Client").select_option(label=IMPORTED)
    form.get_by_label("Hours").fill("1.5")
    choose(form.get_by_label(re.compile("[Cc]ategory")), "Bookkeeping")
    form.get_by_label("Description").fill(TIME_DESC)
    billable = form.get_by_role("checkbox", name="Billable")
    if not billable.is_checked():
        billable.check()
    form.get_by_role("button", name="Record time").click()
    expect(page.locator(".flashes")).to_be_visible()
    row = page.locator("tr", has_text=TIME_DESC)
    expect(row).to_have_count(1)
    row.get_by_role("checkbox").check()
    page.get_by_role("button", name="Submit selected").click()
    expect(page.locator(".flashes")).to_contain_text(re.compile("[Ss]ubmitted"))
    expect(page.locator("tr", has_text=TIME_DESC)).to_contain_text(re.compile("Submitted"))
    shoot(page, "my-time")


def test_10_manager_approves_on_timesheets(page, stack):
    login(page, MANAGER)
    page.locator("#sidenav").get_by_role("link", name="Reports").click()
    shoot(page, "reports")
    page.goto("/reports/timesheets")
    page.get_by_label("Client").select_option(label=IMPORTED)
    page.get_by_role("button", name="Apply").click()
    row = page.locator("tbody tr", has_text=TIME_DESC)
    expect(row).to_contain_text("Submitted")
    row.get_by_role("checkbox").check()
    page.get_by_role("button", name="Approve selected").click()
    expect(page.locator(".flashes")).to_contain_text(re.compile("[Aa]pproved"))
    expect(page.locator("tbody tr", has_text=TIME_DESC)).to_contain_text("Approved")
    shoot(page, "timesheets")


def test_11_time_activity_appears_in_sandbox_ui(page, stack):
    page.goto(sandbox_ui(stack, "time"))

    def listed() -> bool:
        page.reload()
        return page.locator("tr", has_text="(e2e)").count() > 0

    wait_for(listed, 60, "no TimeActivity for the approved entry in the sandbox")
    row = page.locator("tr", has_text="(e2e)")
    expect(row).to_contain_text("Alice Nguyen")
    expect(row).to_contain_text(IMPORTED)
    expect(row).to_contain_text("1:30")
    shoot(page, "sandbox-time", phone=False)


def test_12_invoice_from_time_locks_entries(page, stack):
    page.goto("/invoices/")
    page.get_by_role("link", name=re.compile("from time", re.I)).first.click()
    choose(page.get_by_label("Client"), f"{IMPORTED} (1 to bill)")  # submits itself
    page.wait_for_url(re.compile(r"client_id=\d+"))
    entry = page.locator("tr", has_text=TIME_DESC)
    expect(entry.get_by_role("checkbox")).to_be_checked()
    shoot(page, "invoice-from-time")
    page.get_by_role("button", name="Create draft invoice").click()
    expect(page.locator(".flashes")).to_be_visible()
    expect(page.locator("h1")).to_contain_text("Draft")
    expect(page.locator("main")).to_contain_text(TIME_DESC)
    page.goto("/reports/timesheets")
    page.get_by_label("Client").select_option(label=IMPORTED)
    page.get_by_role("button", name="Apply").click()
    row = page.locator("tbody tr", has_text=TIME_DESC)
    expect(row).to_contain_text("Locked")
    expect(row.get_by_role("checkbox")).to_have_count(0)


def test_13_disconnect(page, stack):
    login(page, ADMIN)
    page.goto("/integrations/")
    card = page.locator("section[aria-labelledby='qbo-title']")
    card.get_by_role("button", name="Disconnect").click()  # the confirm dialog is accepted
    expect(page.locator(".flashes")).to_contain_text("QuickBooks was disconnected")
    expect(card).to_contain_text("Not connected")
    expect(card.get_by_role("button", name="Connect QuickBooks")).to_be_visible()
    expect(card).to_contain_text(f"Previously connected to {COMPANY}")
    shoot(page, "integrations-disconnected")
