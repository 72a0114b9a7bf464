"""The human UI at /_sandbox/ over real HTTP: sign-in, company chooser, customers (search,
edit through the API's rules, merge), invoices (record payment) and time activities."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests

from qbo_sandbox.testing import SandboxHandle

from .conftest import Api

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A signed-in user agent that posts forms with the CSRF token of the page it last read."""

    def __init__(self, sbx: SandboxHandle) -> None:
        self.sbx = sbx
        self.http = requests.Session()
        self.token = ""

    def url(self, path: str) -> str:
        return f"{self.sbx.base_url}/_sandbox/{path.lstrip('/')}"

    def company(self, path: str = "") -> str:
        return f"company/{self.sbx.REALM_1}/{path}"

    def get(self, path: str, **kw: Any) -> requests.Response:
        resp = self.http.get(self.url(path), timeout=10, **kw)
        found = CSRF.search(resp.text)
        if found:
            self.token = found.group(1)
        return resp

    def post(self, path: str, data: dict[str, Any], csrf: bool = True) -> requests.Response:
        body = {**data, "csrf_token": self.token} if csrf else data
        resp = self.http.post(self.url(path), data=body, timeout=10)
        found = CSRF.search(resp.text)
        if found:
            self.token = found.group(1)
        return resp

    def sign_in(self, email: str = "", password: str = "") -> requests.Response:
        self.get("signin")
        return self.post(
            "signin",
            {"email": email or self.sbx.USER_EMAIL, "password": password or self.sbx.USER_PASSWORD},
        )


@pytest.fixture
def browser(sbx: SandboxHandle) -> Browser:
    b = Browser(sbx)
    assert b.sign_in().status_code == 200
    return b


def row(html: str, entity_id: str) -> str:
    """The text of the table row with ``data-id``, tags stripped."""
    found = re.search(rf'<tr data-id="{entity_id}"[^>]*>(.*?)</tr>', html, re.S)
    assert found, f"no row {entity_id}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()


def row_ids(html: str, table_id: str) -> list[str]:
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert table
    return re.findall(r'<tr data-id="([^"]+)"', table.group(0))


def test_sign_in_is_required_and_returns_to_the_page(sbx):
    b = Browser(sbx)
    page = b.get(b.company("customers"), allow_redirects=False)
    assert page.status_code == 302
    assert "/_sandbox/signin?next=" in page.headers["Location"]
    b.get(page.headers["Location"])
    bad = b.post("signin", {"email": sbx.USER_EMAIL, "password": "wrong", "next": "/_sandbox/x"})
    assert bad.status_code == 401 and "don&#39;t match" in bad.text
    good = b.post(
        "signin",
        {
            "email": sbx.USER_EMAIL,
            "password": sbx.USER_PASSWORD,
            "next": f"/_sandbox/company/{sbx.REALM_1}/customers",
        },
    )
    assert good.status_code == 200 and good.url.endswith("/customers")
    assert "Amy&#39;s Bird Sanctuary" in good.text
    csp = good.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in good.text


def test_company_chooser_lists_only_the_users_companies(browser, sbx):
    other = sbx.create_company("Someone Else Ltd", owner=None)
    page = browser.get("")
    assert row(page.text, sbx.REALM_1).startswith("Sandbox Company_US_1")
    assert row(page.text, sbx.REALM_2).startswith("Sandbox Company_US_2")
    assert other not in page.text
    assert browser.get(f"company/{other}/customers").status_code == 404
    home = browser.get(f"company/{sbx.REALM_2}/")
    assert home.url.endswith(f"/company/{sbx.REALM_2}/customers")
    assert "No customers match." in home.text


def test_forms_without_the_csrf_token_are_refused(browser, sbx):
    resp = browser.post(
        browser.company("customers/1"), {"display_name": "Hijacked", "sync_token": "0"}, csrf=False
    )
    assert resp.status_code == 400 and "Form expired" in resp.text
    assert sbx.entities(sbx.REALM_1, "Customer")[0]["DisplayName"] == "Amy's Bird Sanctuary"


def test_customer_list_search_and_status_filter(browser, api):
    page = browser.get(browser.company("customers"))
    amy = row(page.text, "1")
    assert "Amy&#39;s Bird Sanctuary" in amy and "Birds@Intuit.com" in amy and "$100.00" in amy
    assert "Freeman Sporting Goods:0969 Ocean View Road" in row(page.text, "9")
    found = browser.get(browser.company("customers"), params={"q": "BIRD"})
    assert row_ids(found.text, "customers") == ["1"]
    gone = api.create("Customer", {"DisplayName": "Gone Fishing"})
    api.post("customer", {"Id": gone["Id"], "SyncToken": "0", "sparse": True, "Active": False})
    active = browser.get(browser.company("customers"), params={"q": "fishing"})
    assert row_ids(active.text, "customers") == []
    inactive = browser.get(
        browser.company("customers"), params={"q": "fishing", "status": "inactive"}
    )
    assert row_ids(inactive.text, "customers") == [gone["Id"]]
    assert "Inactive" in row(inactive.text, gone["Id"])
    assert row(inactive.text, gone["Id"]).split()[-3] == "1"  # SyncToken column


def test_edit_customer_uses_the_api_rules(browser, api):
    page = browser.get(browser.company("customers/1"))
    assert 'name="sync_token" value="0"' in page.text
    form = {
        "sync_token": "0",
        "display_name": "cool cars",
        "given_name": "Amy",
        "family_name": "Lauterbach",
        "company_name": "",
        "email": "Birds@Intuit.com",
        "phone": "",
        "active": "on",
    }
    dup = browser.post(browser.company("customers/1"), form)
    assert dup.status_code == 400
    assert "The name supplied already exists. : Id=3" in dup.text
    assert 'id="display_name-error"' in dup.text
    assert api.get("customer/1").json()["Customer"]["SyncToken"] == "0"

    bad_email = browser.post(
        browser.company("customers/1"), {**form, "display_name": "Amy B", "email": "nope"}
    )
    assert bad_email.status_code == 400 and 'id="email-error"' in bad_email.text

    saved = browser.post(
        browser.company("customers/1"),
        {**form, "display_name": "Amy's Bird Rescue", "phone": "(555) 010-2000"},
    )
    assert saved.status_code == 200 and "Saved Amy&#39;s Bird Rescue (SyncToken 1)." in saved.text
    cust = api.get("customer/1").json()["Customer"]
    assert cust["DisplayName"] == "Amy's Bird Rescue"
    assert cust["PrimaryPhone"] == {"FreeFormNumber": "(555) 010-2000"}
    assert cust["SyncToken"] == "1" and cust["GivenName"] == "Amy"
    listing = browser.get(browser.company("customers"), params={"q": "rescue"})
    assert "Amy&#39;s Bird Rescue" in row(listing.text, "1")

    stale = browser.post(browser.company("customers/1"), {**form, "display_name": "Stale Amy"})
    assert stale.status_code == 400 and "Stale Object Error" in stale.text


def test_deactivating_a_customer_with_balance_shows_6220(browser, api):
    form = {"sync_token": "0", "display_name": "Amy's Bird Sanctuary", "given_name": "Amy"}
    resp = browser.post(browser.company("customers/1"), form)  # no "active" box: inactive
    assert resp.status_code == 400 and "code 6220" in resp.text
    assert api.get("customer/1").json()["Customer"]["Active"] is True


def test_merge_customers_from_the_ui(browser, api, sbx):
    seen: list[tuple[Any, ...]] = []
    listener = lambda *event: seen.append(event)  # noqa: E731
    sbx.sandbox.add_change_listener(listener)
    try:
        page = browser.get(browser.company("customers/1"))
        assert 'id="merge-customer"' in page.text and 'data-confirm="' in page.text
        merged = browser.post(browser.company("customers/1/merge"), {"into": "5"})
    finally:
        sbx.sandbox.remove_change_listener(listener)
    assert merged.status_code == 200 and merged.url.endswith("/customers/5")
    assert "Merged Amy&#39;s Bird Sanctuary into Dukes Basketball Camp" in merged.text
    assert [(e[1], e[2], e[3], e[5]) for e in seen if e[3] == "Merge"] == [
        ("Customer", "5", "Merge", "1")
    ]
    assert api.get("customer/1").json()["Customer"]["Active"] is False
    assert api.get("customer/5").json()["Customer"]["Balance"] == 100
    assert api.get("invoice/1").json()["Invoice"]["CustomerRef"]["value"] == "5"
    assert row_ids(merged.text, "customer-invoices") == ["1"]
    again = browser.post(browser.company("customers/1/merge"), {"into": "5"})
    assert "is inactive and can&#39;t be merged" in again.text


def test_invoices_list_and_record_payment_lowers_balance(browser, api):
    listing = browser.get(browser.company("invoices"))
    first = row(listing.text, "1")
    assert first.startswith("1001 Amy&#39;s Bird Sanctuary")
    assert "$100.00 $100.00 Open" in first
    assert "Partially paid" in row(listing.text, "2")

    detail = browser.get(browser.company("invoices/1"))
    assert "Services" in row(detail.text, "1") and 'name="amount" ' in detail.text
    paid = browser.post(
        browser.company("invoices/1/payments"), {"amount": "40", "date": "", "reference": "CHK-9"}
    )
    assert paid.status_code == 200 and "Recorded payment" in paid.text
    assert '<dd class="balance">$60.00</dd>' in paid.text
    inv = api.get("invoice/1").json()["Invoice"]
    assert inv["Balance"] == 60 and inv["LinkedTxn"][0]["TxnType"] == "Payment"
    payment = api.get(f"payment/{inv['LinkedTxn'][0]['TxnId']}").json()["Payment"]
    assert payment["TotalAmt"] == 40 and payment["PaymentRefNum"] == "CHK-9"
    assert api.get("customer/1").json()["Customer"]["Balance"] == 60

    too_much = browser.post(browser.company("invoices/1/payments"), {"amount": "500"})
    assert too_much.status_code == 400 and "exceeds the open balance" in too_much.text
    junk = browser.post(browser.company("invoices/1/payments"), {"amount": "abc"})
    assert junk.status_code == 400 and "Enter an amount" in junk.text
    assert api.get("invoice/1").json()["Invoice"]["Balance"] == 60


def test_time_activities_list_shows_api_created_entries(browser, api: Api):
    ta = api.create(
        "TimeActivity",
        {
            "NameOf": "Employee",
            "EmployeeRef": {"value": "55"},
            "CustomerRef": {"value": "1"},
            "ItemRef": {"value": "21"},
            "BillableStatus": "Billable",
            "HourlyRate": 90,
            "Hours": 2,
            "Minutes": 30,
            "TxnDate": "2031-01-02",
            "Description": "Pushed from the portal",
        },
    )
    api.post("customer", {"Id": "1", "SyncToken": "0", "sparse": True, "DisplayName": "Amy R."})
    page = browser.get(browser.company("time"))
    assert row_ids(page.text, "time")[0] == ta["Id"]  # newest date first
    assert row(page.text, ta["Id"]) == (
        f"{ta['Id']} 2031-01-02 Emily Platt Amy R. BOOKKEEPING 2:30 $90.00 Billable "
        "Pushed from the portal"
    )


def test_employees_items_and_vendors_pages(browser):
    employees = browser.get(browser.company("employees"))
    assert "Maria Lopez" in row(employees.text, "58") and "maria@demo.example" in employees.text
    items = browser.get(browser.company("items"))
    assert row(items.text, "21").startswith("21 BOOKKEEPING Service")
    vendors = browser.get(browser.company("vendors"))
    assert "Hicks Hardware" in row(vendors.text, "34")
    assert browser.get(browser.company("nonsense")).status_code == 404


def test_sign_out(browser):
    browser.get("")
    out = browser.post("signout", {})
    assert out.url.endswith("/_sandbox/signin") and "Signed out." in out.text
    assert browser.get("", allow_redirects=False).status_code == 302
