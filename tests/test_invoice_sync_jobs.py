"""Invoice sync through the screens and real RQ jobs (rq.SimpleWorker, burst) against the
sandbox: "Push to QuickBooks" on an invoice, "Sync Invoices" on the Integrations tab, the
hourly run and the button at once, read-only after push over HTTP, and the Customizations
QuickBooks check (a job makes one Item query for all codes; the page reads only the cache)."""

from __future__ import annotations

import re

import pytest

from portal.extensions import db as _db
from portal.jobs.firm_sync import SKIPPED_BUSY
from portal.jobs.invoice_jobs import enqueue_invoice_push
from portal.jobs.item_check_jobs import failure_key, job_id
from portal.jobs.locks import hold_firm_lock
from portal.jobs.queue import enqueue_firm_sync, get_queue
from portal.models import BillableCategory, Invoice, SyncRun
from tests.conftest import user_of
from tests.qbo_support import _sandbox_server, _sbx, connect_firm  # noqa: F401 - fixtures
from tests.rq_support import _file_app, work  # noqa: F401 - fixtures
from tests.test_invoice_sync import (
    linked_client,
    make_invoice,
    qbo_invoices,
    requests,
    seed_item,
    type_of,
)


@pytest.fixture(name="realm")
def _realm(sbx, firm) -> str:
    connect_firm(firm, sbx, sbx.REALM_2)
    seed_item(sbx, sbx.REALM_2, "TAX")
    seed_item(sbx, sbx.REALM_2, "TAX-IND")
    return sbx.REALM_2


def reload(invoice: Invoice) -> Invoice:
    _db.session.expire_all()
    return _db.session.get(Invoice, invoice.id)


def runs(firm, kind: str) -> list[SyncRun]:
    _db.session.expire_all()
    return list(_db.session.execute(_db.select(SyncRun).where(
        SyncRun.firm_id == firm.id, SyncRun.kind == kind).order_by(SyncRun.id)).scalars())


# -- Push to QuickBooks --------------------------------------------------------------------------
def test_push_button_enqueues_and_the_invoice_becomes_processed(app, redis, sbx, realm, firm,
                                                                admin, browser, make_client):
    client = linked_client(sbx, realm, firm, make_client)
    invoice = make_invoice(firm, client, "5001")
    browser.login(admin)
    page = browser.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    assert "Push to QuickBooks" in page

    response = browser.post(f"/invoices/{invoice.id}/push", follow_redirects=True)

    assert "is queued for QuickBooks" in response.get_data(as_text=True)
    [run] = runs(firm, "invoices")
    assert (run.status, run.trigger) == ("queued", "invoice")
    assert reload(invoice).status == "new"  # nothing happens until a worker runs it

    work(app, redis)

    invoice = reload(invoice)
    [qbo] = qbo_invoices(sbx, realm, "5001")
    assert invoice.status == "processed_externally" and invoice.qbo_invoice_id == qbo["Id"]
    assert runs(firm, "invoices")[0].status == "succeeded"
    assert runs(firm, "invoices")[0].counts == {"pushed": 1}
    page = browser.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    assert "Processed Externally" in page
    assert f"QuickBooks invoice Id {qbo['Id']}" in page and "DocNumber 5001" in page
    link = re.search(r'href="([^"]+)"[^>]*>Open in QuickBooks', page)
    # The link opens that invoice in the sandbox's own UI (its per-company invoice page).
    assert link and link.group(1) == f"{sbx.base_url}/_sandbox/company/{realm}/invoices/{qbo['Id']}"
    assert "Push to QuickBooks" not in page


def test_held_invoice_shows_the_reason_after_push(app, redis, sbx, realm, firm, admin, browser,
                                                  make_client):
    book = BillableCategory(firm_id=firm.id, type_id=type_of(firm).id, name="Bookkeeping",
                            code="NOPE")
    _db.session.add(book)
    _db.session.commit()
    client = linked_client(sbx, realm, firm, make_client)
    invoice = make_invoice(firm, client, "5002", billed=book)
    browser.login(admin)

    browser.post(f"/invoices/{invoice.id}/push")
    work(app, redis)

    assert reload(invoice).status == "new"
    page = browser.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    assert "QuickBooks has no Product/Service named" in page and "NOPE" in page
    integrations = browser.get("/integrations/").get_data(as_text=True)
    assert "Needs attention" in integrations and "Invoice 5002" in integrations
    assert f'href="/invoices/{invoice.id}"' in integrations


def test_pushed_invoice_refuses_edits_and_delete_over_http(app, redis, sbx, realm, firm, admin,
                                                           browser, make_client):
    client = linked_client(sbx, realm, firm, make_client)
    invoice = make_invoice(firm, client, "5003")
    browser.login(admin)
    browser.post(f"/invoices/{invoice.id}/push")
    work(app, redis)
    before = reload(invoice)
    snapshot = (before.number, before.total, before.status, len(before.lines), before.version)

    for path, data in (("edit", {"client_id": str(client.id), "number": "9999",
                                 "issue_date": "2024-05-01", "due_date": "2024-05-31",
                                 "action": "new", "lines-0-description": "Changed",
                                 "lines-0-quantity": "9", "lines-0-rate": "9"}),
                       ("delete", {}), ("lines", {"description": "More", "quantity": "1",
                                                  "rate": "1"}),
                       ("status", {"to": "void"}), ("push", {})):
        response = browser.post(f"/invoices/{invoice.id}/{path}", data)
        assert response.status_code == 409, path
        assert "processed in QuickBooks" in response.get_data(as_text=True)

    after = reload(invoice)
    assert (after.number, after.total, after.status, len(after.lines), after.version) == snapshot


@pytest.mark.parametrize("role", ["manager", "staff"])
def test_push_and_sync_buttons_are_for_admins(app, redis, sbx, realm, firm, browser,
                                              make_client, role):
    client = linked_client(sbx, realm, firm, make_client)
    invoice = make_invoice(firm, client, "5004")
    browser.login(user_of(firm, role))

    assert browser.post(f"/invoices/{invoice.id}/push").status_code == 403
    assert browser.post("/integrations/quickbooks/invoices/sync").status_code == 403
    assert runs(firm, "invoices") == []


# -- Sync Invoices and the hourly run ------------------------------------------------------------
def test_sync_invoices_button_pushes_every_new_invoice(app, redis, sbx, realm, firm, admin,
                                                       browser, make_client):
    client = linked_client(sbx, realm, firm, make_client)
    invoices = [make_invoice(firm, client, f"51{n:02d}") for n in range(3)]
    draft = make_invoice(firm, client, "5199", status="draft")
    browser.login(admin)
    page = browser.get("/integrations/").get_data(as_text=True)
    assert "Invoices in QuickBooks" in page and "3 New invoices" in page

    response = browser.post("/integrations/quickbooks/invoices/sync", follow_redirects=True)
    assert "Sync Invoices is queued" in response.get_data(as_text=True)
    again = browser.post("/integrations/quickbooks/invoices/sync", follow_redirects=True)
    assert "already queued" in again.get_data(as_text=True)
    work(app, redis)

    assert all(reload(inv).status == "processed_externally" for inv in invoices)
    assert reload(draft).status == "draft" and qbo_invoices(sbx, realm, "5199") == []
    assert len(runs(firm, "invoices")) == 1
    page = browser.get("/integrations/").get_data(as_text=True)
    assert "0 New invoices" in page


def test_hourly_and_button_at_once_push_once(app, redis, sbx, realm, firm, make_client):
    client = linked_client(sbx, realm, firm, make_client)
    make_invoice(firm, client, "5200")
    enqueue_firm_sync(firm.id, "schedule")
    enqueue_invoice_push(firm.id, "button")
    sbx.reset_counters()

    work(app, redis)

    assert len(qbo_invoices(sbx, realm, "5200")) == 1
    assert requests(sbx)["POST invoice"] == 1
    [hourly] = runs(firm, "firm_sync")
    [button] = runs(firm, "invoices")
    assert hourly.status == "succeeded" and hourly.counts["invoices"] == {"pushed": 1}
    assert button.status == "succeeded" and button.counts == {}  # nothing left to push


def test_button_while_the_hourly_run_holds_the_lock_is_skipped(app, redis, sbx, realm, firm,
                                                               make_client):
    client = linked_client(sbx, realm, firm, make_client)
    invoice = make_invoice(firm, client, "5201")
    enqueue_invoice_push(firm.id, "button")

    with hold_firm_lock(firm.id, app) as acquired:
        assert acquired
        work(app, redis)

    [run] = runs(firm, "invoices")
    assert (run.status, run.message) == ("skipped", SKIPPED_BUSY)
    assert reload(invoice).status == "new" and qbo_invoices(sbx, realm, "5201") == []


# -- Customizations QuickBooks check (a background job; the page reads the cache only) -----------
def item_check_jobs(app, firm) -> list[str]:
    return [j for j in get_queue(app).job_ids if j == job_id(firm.id)]


def test_customizations_checks_codes_in_a_job_and_the_page_never_calls_quickbooks(
        app, redis, sbx, firm, admin, browser, make_client):
    connect_firm(firm, sbx, sbx.REALM_2)
    realm = sbx.REALM_2
    seed_item(sbx, realm, "TAX")
    seed_item(sbx, realm, "TAX-IND", active=False)
    seed_item(sbx, realm, "BOOKS", kind="Category")
    tax = type_of(firm)
    _db.session.add_all([
        BillableCategory(firm_id=firm.id, type_id=tax.id, name="Bookkeeping", code="BOOKS"),
        BillableCategory(firm_id=firm.id, type_id=tax.id, name="Payroll", code="PAYX"),
    ])
    _db.session.commit()
    client = linked_client(sbx, realm, firm, make_client)
    held = make_invoice(firm, client, "5300")  # TAX-IND is inactive
    browser.login(admin)
    sbx.reset_counters()

    page = browser.get("/customizations/").get_data(as_text=True)

    assert requests(sbx) == {}  # the request itself never calls QuickBooks
    assert "Checking with QuickBooks…" in page and ">Found<" not in page
    assert 'data-item-check-url="/customizations/qbo-check"' in page
    assert "js/customizations_check.js" in page
    assert item_check_jobs(app, firm) == [job_id(firm.id)]
    assert browser.get("/customizations/qbo-check").json == {
        "ready": False, "failed": False, "message": None}
    browser.get("/customizations/")  # a reload while the job waits: still one job
    assert item_check_jobs(app, firm) == [job_id(firm.id)]

    work(app, redis)

    assert requests(sbx) == {"GET query": 1}  # one query for all four codes
    assert browser.get("/customizations/qbo-check").json["ready"] is True
    page = browser.get("/customizations/").get_data(as_text=True)
    assert requests(sbx) == {"GET query": 1}  # answered from the cache
    assert item_check_jobs(app, firm) == []  # nothing queued once the answers are cached
    assert "Checking with QuickBooks" not in page and "data-item-check-url" not in page
    assert ">Found<" in page  # TAX
    assert ">Inactive<" in page and "“TAX-IND” exists in QuickBooks but is inactive" in page
    assert "Category, not a Service" in page  # BOOKS
    assert ">Missing<" in page and "QuickBooks has no Product/Service named “PAYX”" in page
    assert "New invoices that would be held right now" in page
    assert f'href="/invoices/{held.id}"' in page
    assert "the QuickBooks Product/Service &#34;TAX-IND&#34; is inactive" in page


def test_a_new_code_is_checked_by_another_job_that_asks_only_for_it(app, redis, sbx, realm, firm,
                                                                     admin, browser):
    browser.login(admin)
    browser.get("/customizations/")
    work(app, redis)
    category = _db.session.execute(_db.select(BillableCategory).where(
        BillableCategory.firm_id == firm.id)).scalar_one()
    browser.post(f"/customizations/categories/{category.id}/edit",
                 {"name": category.name, "type_id": category.type_id, "code": "NEWCODE"})
    sbx.reset_counters()

    assert "Checking with QuickBooks…" in browser.get("/customizations/").get_data(as_text=True)
    work(app, redis)

    assert requests(sbx) == {"GET query": 1}
    page = browser.get("/customizations/").get_data(as_text=True)
    assert "QuickBooks has no Product/Service named “NEWCODE”" in page and ">Found<" in page


def test_a_failed_check_says_so_without_asking_again_on_every_load(app, redis, sbx, realm, firm,
                                                                    admin, browser):
    browser.login(admin)
    browser.get("/customizations/")
    sbx.inject_fault("503", count=5, path="/v3/company/")

    work(app, redis)  # the job raises (RQ records it as failed) after noting the failure

    status = browser.get("/customizations/qbo-check").json
    assert status["ready"] is False and status["failed"] is True and status["message"]
    page = browser.get("/customizations/").get_data(as_text=True)
    assert "Could not check QuickBooks right now" in page and "Not checked" in page
    assert item_check_jobs(app, firm) == []  # no new job until the failure expires
    redis.delete(failure_key(firm.id))
    browser.get("/customizations/")
    assert item_check_jobs(app, firm) == [job_id(firm.id)]


def test_the_check_status_is_for_admins_only(app, redis, realm, firm, browser):
    for role in ("manager", "staff"):
        browser.login(user_of(firm, role))
        assert browser.get("/customizations/qbo-check").status_code == 403
        assert browser.post("/customizations/qbo-check").status_code in (400, 405)
        browser.logout()


def test_customizations_without_quickbooks_says_so(app, redis, firm, admin, browser):
    browser.login(admin)

    page = browser.get("/customizations/").get_data(as_text=True)

    assert "Check after connecting QuickBooks" in page
    assert "Connect QuickBooks on the Integrations tab" in page
