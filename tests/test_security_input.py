"""Hostile input: open redirects after sign-in, injection attempts in search boxes, markup in
names (rendered as text everywhere, flash messages and QB hover included), oversized bodies."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from portal.models import Invoice, InvoiceLine, SyncEvent, SyncRun, TimeEntry
from tests.conftest import PASSWORD, Browser

EVIL_NEXT = [
    "https://evil.example/",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "/\\/evil.example/",
    "/\t/evil.example/",
    "/\r\n/evil.example/",
    " //evil.example/",
    "javascript:alert(1)",
    "http:/evil.example",
    "evil.example",
    "https:evil.example",
]


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_login_never_redirects_off_site(browser, admin, target):
    response = browser.client.post(
        "/login", query_string={"next": target},
        data={"email": admin.email, "password": PASSWORD, "csrf_token": browser.csrf_token()},
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert parts.netloc in ("", "localhost") and "evil" not in location
    assert "\\" not in location and parts.path == "/dashboard"


def test_login_follows_a_same_site_next(browser, admin):
    response = browser.client.post(
        "/login", query_string={"next": "/clients/?q=Ada&page=2"},
        data={"email": admin.email, "password": PASSWORD, "csrf_token": browser.csrf_token()},
    )
    assert response.headers["Location"] == "/clients/?q=Ada&page=2"


# -- search boxes ---------------------------------------------------------------------------------
INJECTIONS = ["' OR 1=1 --", "\" OR \"\"=\"", "%", "_", "%%", "\\", "'; DROP TABLE clients; --",
              "1) OR (1=1", "ü' UNION SELECT email, password_hash FROM users --", "a" * 500]
SEARCHES = ["/clients/", "/invoices/", "/users/", "/reports/timesheets"]


@pytest.fixture
def two_firms(db, make_firm, make_client, admin, firm):
    other = make_firm("Other Firm")
    mine = make_client(firm, first_name="Ada", last_name="Lovelace")
    theirs = make_client(other, first_name="Secret", last_name="Otherfirm")
    invoice = Invoice(firm_id=other.id, client_id=theirs.id, number="SECRET-1",
                      issue_date=date(2025, 1, 2))
    db.session.add(invoice)
    db.session.commit()
    return mine, theirs


@pytest.mark.parametrize("url", SEARCHES)
@pytest.mark.parametrize("term", INJECTIONS)
def test_injection_attempts_in_search_boxes_return_normal_pages(browser, admin, two_firms, url,
                                                                 term):
    browser.login(admin)
    response = browser.get(url, query_string={"q": term})
    assert response.status_code == 200, f"{url}?q={term!r}"
    html = response.get_data(as_text=True)
    assert "Otherfirm" not in html and "SECRET-1" not in html  # never another firm's rows
    assert "scrypt:" not in html
    if url == "/clients/" and "'" in term:
        assert "Lovelace" not in html  # the quote is data, not SQL: nothing matches


@pytest.mark.parametrize("url", SEARCHES)
def test_nul_and_control_characters_in_search_are_not_a_500(browser, admin, two_firms, url):
    browser.login(admin)
    for term in ("\x00", "a\x00b", "\x1b[31m", "\ud7ff"):
        assert browser.get(url, query_string={"q": term}).status_code in (200, 400), repr(term)


def test_nul_characters_in_forms_are_refused_not_a_500(browser, admin, db):
    browser.login(admin)
    for data in ({"kind": "individual", "first_name": "Nul\x00l", "last_name": "Byte"},
                 {"kind": "individual", "first_name": "Ok", "last_name": "Byte",
                  "notes\x00": "x"}):
        assert browser.post("/clients/new", data).status_code == 400
    assert browser.get("/clients/").status_code == 200
    assert "Byte" not in browser.get("/clients/").get_data(as_text=True)


def test_a_quote_in_a_name_is_found_by_search(browser, admin, firm, make_client):
    make_client(firm, first_name="Siobhan", last_name="O'Brien")
    browser.login(admin)
    html = browser.get("/clients/", query_string={"q": "O'Brien"}).get_data(as_text=True)
    assert "O&#39;Brien" in html or "O&#x27;Brien" in html


# -- markup renders as text -----------------------------------------------------------------------
XSS_FIRST = "<script>alert(1)</script>"
XSS_LAST = "\"><img src=x onerror=alert(2)>"
XSS_QBO_ID = "\"><svg onload=alert(3)>"
RAW_MARKERS = ("<script>alert", "<img src=x", "<svg onload", "onerror=alert(2)>")


@pytest.fixture
def hostile(db, firm, admin, staff, make_client):
    client = make_client(firm, first_name=XSS_FIRST, last_name=XSS_LAST, email="x@a.example",
                         notes="</textarea><script>alert(4)</script>")
    client.qbo_customer_id = XSS_QBO_ID
    staff.name = "<b onmouseover=alert(5)>Staff</b>"
    invoice = Invoice(firm_id=firm.id, client_id=client.id, number="X-1",
                      issue_date=date(2025, 2, 1), memo="<script>alert(6)</script>")
    invoice.lines.append(InvoiceLine(position=0, description="<script>alert(7)</script>",
                                     quantity=Decimal(1), rate=Decimal(10)))
    invoice.recompute_total()
    db.session.add(invoice)
    db.session.add(TimeEntry(firm_id=firm.id, user_id=staff.id, client_id=client.id,
                             entry_date=date(2025, 2, 3), hours=Decimal(1), status="submitted",
                             description="<script>alert(8)</script>"))
    run = SyncRun(firm_id=firm.id, kind="clients", trigger="button", status="failed",
                  message="<script>alert(9)</script>")
    db.session.add(run)
    db.session.flush()
    db.session.add(SyncEvent(run_id=run.id, firm_id=firm.id, entity="client",
                             entity_id=client.id, action="held", result="held",
                             message="<script>alert(10)</script>"))
    db.session.commit()
    return {"client": client.id, "invoice": invoice.id}


def assert_escaped(html: str, where: str) -> None:
    for marker in RAW_MARKERS:
        assert marker not in html, f"{where}: raw markup {marker!r} rendered"
    assert "<b onmouseover" not in html, where


def test_markup_in_names_renders_as_text_on_every_page(browser, admin, hostile):
    browser.login(admin)
    cid, iid = hostile["client"], hostile["invoice"]
    pages = ["/dashboard", "/clients/", f"/clients/{cid}", f"/clients/{cid}/edit",
             f"/clients/{cid}/invoices", f"/clients/{cid}/time", "/invoices/",
             f"/invoices/{iid}", f"/invoices/{iid}/edit", "/invoices/from-time", "/time/",
             "/reports/timesheets", "/reports/timesheets?status=submitted", "/users/",
             "/integrations/", f"/clients/?q={XSS_FIRST}"]
    shown = 0
    for url in pages:
        response = browser.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert_escaped(html, url)
        shown += "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert shown >= 6  # the name really was on the pages, escaped


def test_markup_in_flash_messages_and_csv_is_inert(browser, admin, hostile):
    browser.login(admin)
    response = browser.post(f"/clients/{hostile['client']}/deactivate", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # in the flash, as text
    assert_escaped(html, "flash")
    csv = browser.get("/reports/timesheets.csv")
    assert csv.mimetype != "text/html"
    assert csv.headers["X-Content-Type-Options"] == "nosniff"


# -- oversized bodies -----------------------------------------------------------------------------
def test_max_content_length_is_set(app):
    assert 0 < app.config["MAX_CONTENT_LENGTH"] <= 10 * 1024 * 1024


def test_huge_bodies_are_refused_with_413(app, browser, admin):
    limit = app.config["MAX_CONTENT_LENGTH"]
    boundary = "sweep-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"big.bin\""
            f"\r\nContent-Type: application/octet-stream\r\n\r\n").encode() \
        + b"x" * (limit + 1024) + f"\r\n--{boundary}--\r\n".encode()
    # Bytes, not a file tuple: the test client then needs no temporary file of its own.
    anonymous = browser.client.post("/login", data=body,
                                    content_type=f"multipart/form-data; boundary={boundary}")
    assert anonymous.status_code == 413
    browser.login(admin)
    response = browser.post("/clients/new", {"notes": "n" * (limit + 1)})
    assert response.status_code == 413
    assert b"Too large" in response.data


def test_a_big_but_legitimate_form_still_fits(app, browser, admin, db):
    browser.login(admin)
    response = browser.post("/clients/new", {"kind": "individual", "first_name": "Big",
                                             "last_name": "Notes", "notes": "n" * 100_000})
    assert response.status_code in (302, 422)  # validated normally, never 413 or 500
    fresh = Browser(app.test_client())
    assert fresh.get("/login").status_code == 200


@pytest.mark.parametrize("path", ["/clients/", "/invoices/", "/users/", "/integrations/",
                                  "/reports/timesheets"])
@pytest.mark.parametrize("page", ["99999999999999999999", "-5", "abc"])
def test_hostile_page_numbers_render_a_normal_page(browser, admin, path, page):
    browser.login(admin)
    assert browser.get(f"{path}?page={page}").status_code == 200
