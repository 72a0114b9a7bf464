"""Issue 3's "Done when": public QBO SDKs that know nothing of this project work against the
sandbox by changing only their base URLs.

- ``intuit-oauth`` (``intuitlib``, Intuit's official OAuth 2.0 client): discovery document,
  authorization URL, consent pages, code exchange, refresh, revoke.
- ``python-quickbooks`` (the community Accounting API client): customers, items, invoices,
  time activities, batch, and its exception mapping of a 400 ``Fault``.

The only things changed in the SDKs are the URLs they ship with: intuitlib's sandbox
discovery URL (everything else is read from the discovery document) and python-quickbooks'
sandbox API base. ``OAUTHLIB_INSECURE_TRANSPORT`` is set because the test server speaks plain
HTTP on 127.0.0.1 and requests-oauthlib (under python-quickbooks) refuses http:// otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import intuitlib.config as intuitlib_config
import pytest
import requests
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError
from quickbooks import QuickBooks
from quickbooks.batch import batch_create
from quickbooks.cdc import change_data_capture
from quickbooks.exceptions import (
    AuthorizationException,
    ObjectNotFoundException,
    QuickbooksException,
)
from quickbooks.objects.base import EmailAddress, Ref
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.employee import Employee
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item
from quickbooks.objects.timeactivity import TimeActivity

from qbo_sandbox.testing import SandboxHandle

CALLBACK = "http://127.0.0.1:5000/integrations/quickbooks/callback"


@pytest.fixture
def sdk_urls(sbx: SandboxHandle, monkeypatch: pytest.MonkeyPatch) -> SandboxHandle:
    """Point both SDKs at the sandbox: base URLs only."""
    # intuitlib: the one URL it ships for environment="sandbox" (trailing slash as Intuit's)
    monkeypatch.setitem(intuitlib_config.DISCOVERY_URL, "sandbox", f"{sbx.discovery_url}/")
    # python-quickbooks: its sandbox API base
    monkeypatch.setattr(QuickBooks, "sandbox_api_url_v3", f"{sbx.base_url}/v3")
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    return sbx


def _form_value(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no {name} field in page"
    return match.group(1)


def consent(sbx: SandboxHandle, authorization_url: str, realm_id: str) -> dict[str, str]:
    """Act as the user's browser on the URL the SDK built: sign in, pick the company,
    Allow. Returns the query parameters of the redirect back to the app."""
    split = urlsplit(authorization_url)
    params = {k: v[0] for k, v in parse_qs(split.query).items()}
    base = f"{split.scheme}://{split.netloc}{split.path}"
    with requests.Session() as browser:
        page = browser.get(authorization_url, timeout=10)
        assert page.status_code == 200 and 'name="password"' in page.text
        page = browser.post(
            f"{base}/signin",
            data={**params, "email": sbx.USER_EMAIL, "password": sbx.USER_PASSWORD},
            timeout=10,
        )
        assert page.status_code == 200 and "Sandbox Company_US_2" in page.text  # chooser
        page = browser.get(authorization_url, params={"company": realm_id}, timeout=10)
        assert page.status_code == 200
        resp = browser.post(
            f"{base}/consent",
            data={
                **params,
                "realm": _form_value(page.text, "realm"),
                "csrf": _form_value(page.text, "csrf"),
                "decision": "allow",
            },
            allow_redirects=False,
            timeout=10,
        )
    assert resp.status_code == 302, resp.text
    location = resp.headers["Location"]
    assert location.startswith(CALLBACK + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def connect(sbx: SandboxHandle, realm_id: str) -> AuthClient:
    """The whole code flow as an app using intuitlib would run it."""
    auth_client = AuthClient(sbx.CLIENT_ID, sbx.CLIENT_SECRET, CALLBACK, environment="sandbox")
    url = auth_client.get_authorization_url([Scopes.ACCOUNTING])
    callback = consent(sbx, url, realm_id)
    assert callback["state"] == auth_client.state_token
    auth_client.get_bearer_token(callback["code"], realm_id=callback["realmId"])
    return auth_client


def quickbooks_client(auth_client: AuthClient) -> QuickBooks:
    return QuickBooks(
        auth_client=auth_client,
        refresh_token=auth_client.refresh_token,
        company_id=auth_client.realm_id,
        minorversion=75,
    )


@pytest.fixture
def qb(sdk_urls: SandboxHandle) -> Iterator[QuickBooks]:
    client = quickbooks_client(connect(sdk_urls, sdk_urls.REALM_1))
    yield client
    client.session.close()
    client.auth_client.close()


# -- intuitlib ----------------------------------------------------------------------------------


def test_intuitlib_discovery_code_flow_refresh_and_revoke(sdk_urls):
    sbx = sdk_urls
    auth_client = AuthClient(sbx.CLIENT_ID, sbx.CLIENT_SECRET, CALLBACK, environment="sandbox")
    # every endpoint comes from the sandbox's discovery document
    assert auth_client.auth_endpoint == f"{sbx.base_url}/connect/oauth2"
    assert auth_client.token_endpoint == f"{sbx.base_url}/oauth2/v1/tokens/bearer"
    assert auth_client.revoke_endpoint == f"{sbx.base_url}/v2/oauth2/tokens/revoke"
    assert auth_client.user_info_url == f"{sbx.base_url}/v1/openid_connect/userinfo"

    url = auth_client.get_authorization_url([Scopes.ACCOUNTING])
    query = parse_qs(urlsplit(url).query)
    assert query["scope"] == ["com.intuit.quickbooks.accounting"]
    assert query["redirect_uri"] == [CALLBACK]
    callback = consent(sbx, url, sbx.REALM_2)
    assert callback["state"] == auth_client.state_token
    assert callback["realmId"] == sbx.REALM_2

    auth_client.get_bearer_token(callback["code"], realm_id=callback["realmId"])
    assert auth_client.realm_id == sbx.REALM_2
    assert auth_client.expires_in == 3600
    assert auth_client.x_refresh_token_expires_in == 8726400
    assert auth_client.access_token and auth_client.refresh_token
    assert auth_client.id_token is None  # accounting scope only: no OpenID

    # codes are single-use: intuitlib raises AuthClientError with Intuit's body
    with pytest.raises(AuthClientError) as reused:
        auth_client.get_bearer_token(callback["code"])
    assert reused.value.status_code == 400
    assert reused.value.response.json()["error"] == "invalid_grant"
    assert reused.value.intuit_tid

    # refresh inside the rotation window: new access token, same refresh token
    first_access, first_refresh = auth_client.access_token, auth_client.refresh_token
    auth_client.refresh()
    assert auth_client.access_token != first_access
    assert auth_client.refresh_token == first_refresh
    assert auth_client.expires_in == 3600
    # a day later the refresh token rotates
    sbx.advance_clock(86400 + 60)
    auth_client.refresh()
    assert auth_client.refresh_token != first_refresh
    with pytest.raises(AuthClientError) as rotated:
        auth_client.refresh(refresh_token=first_refresh)
    assert rotated.value.status_code == 400

    # the token works on the API of the company chosen on the consent page
    qb = quickbooks_client(auth_client)
    assert qb.api_url == f"{sbx.base_url}/v3"
    info = qb.get(f"{qb.api_url}/company/{sbx.REALM_2}/companyinfo/{sbx.REALM_2}")
    assert info["CompanyInfo"]["CompanyName"] == "Sandbox Company_US_2"

    # revoke (JSON body) disconnects: refresh -> invalid_grant, API -> 401
    assert auth_client.revoke() is True
    with pytest.raises(AuthClientError) as revoked:
        auth_client.refresh()
    assert revoked.value.status_code == 400
    assert revoked.value.response.json()["error"] == "invalid_grant"
    with pytest.raises(AuthorizationException) as unauthorized:
        Customer.all(qb=qb)
    assert unauthorized.value.error_code == 401
    qb.session.close()
    auth_client.close()


def test_intuitlib_accepts_the_discovery_url_as_environment(sdk_urls):
    """intuitlib also takes a discovery URL in place of "sandbox"/"production"."""
    sbx = sdk_urls
    auth_client = AuthClient(sbx.CLIENT_ID, sbx.CLIENT_SECRET, CALLBACK, sbx.discovery_url)
    assert auth_client.token_endpoint == f"{sbx.base_url}/oauth2/v1/tokens/bearer"
    callback = consent(sbx, auth_client.get_authorization_url([Scopes.ACCOUNTING]), sbx.REALM_1)
    auth_client.get_bearer_token(callback["code"], realm_id=callback["realmId"])
    assert auth_client.realm_id == sbx.REALM_1 and auth_client.expires_in == 3600
    auth_client.close()


# -- python-quickbooks ---------------------------------------------------------------------------


def test_customers_create_query_update(qb):
    customer = Customer()
    customer.DisplayName = "SDK Customer Ltd"
    customer.GivenName = "Ada"
    customer.FamilyName = "Lovelace"
    customer.CompanyName = "SDK Customer Ltd"
    customer.PrimaryEmailAddr = EmailAddress()
    customer.PrimaryEmailAddr.Address = "ada@example.com"
    created = customer.save(qb=qb)
    assert created.Id.isdigit() and customer.Id == created.Id
    assert created.SyncToken == "0"
    assert created.DisplayName == "SDK Customer Ltd" and created.Active is True
    assert created.PrimaryEmailAddr.Address == "ada@example.com"
    assert created.Balance == 0

    # filter() builds "WHERE DisplayName = '...'" with a backslash-escaped quote
    found = Customer.filter(DisplayName="SDK Customer Ltd", qb=qb)
    assert [c.Id for c in found] == [created.Id]
    amy = Customer.filter(DisplayName="Amy's Bird Sanctuary", qb=qb)
    assert [c.Id for c in amy] == ["1"]
    assert [c.Id for c in Customer.where("DisplayName LIKE 'SDK Cust%'", qb=qb)] == [created.Id]
    assert Customer.where("DisplayName = 'No Such Customer'", qb=qb) == []
    assert [c.Id for c in Customer.choose(["1", created.Id], qb=qb)] == ["1", created.Id]
    assert Customer.get(created.Id, qb=qb).DisplayName == "SDK Customer Ltd"
    with pytest.raises(ObjectNotFoundException) as missing:
        Customer.get("999999", qb=qb)
    assert missing.value.error_code == 610

    # paging with all(): ORDER BY, STARTPOSITION, MAXRESULTS
    total = Customer.count(qb=qb)
    assert total == len(qb_all_customer_ids(qb))
    first = Customer.all(order_by="Id", start_position=1, max_results=5, qb=qb)
    second = Customer.all(order_by="Id", start_position=6, max_results=5, qb=qb)
    assert len(first) == 5 and len(second) == 5
    ids = [int(c.Id) for c in first + second]
    assert ids == sorted(ids) and len(set(ids)) == 10
    assert created.Id in qb_all_customer_ids(qb)

    # full update of the object read back: SyncToken 0 -> 1 -> 2
    fetched = Customer.get(created.Id, qb=qb)
    fetched.Notes = "Imported from the SDK test"
    updated = fetched.save(qb=qb)
    assert updated.SyncToken == "1" and updated.Notes == "Imported from the SDK test"
    updated.CompanyName = "SDK Customer Group"
    again = updated.save(qb=qb)
    assert again.SyncToken == "2" and again.CompanyName == "SDK Customer Group"
    # a stale SyncToken is QBO's 5010
    with pytest.raises(QuickbooksException) as stale:
        fetched.save(qb=qb)
    assert stale.value.error_code == 5010

    # duplicate DisplayName -> 6240 with "Id=<n>" of the existing name
    dup = Customer()
    dup.DisplayName = "sdk customer ltd"
    with pytest.raises(QuickbooksException) as duplicate:
        dup.save(qb=qb)
    assert duplicate.value.error_code == 6240
    assert duplicate.value.message == "Duplicate Name Exists Error"
    assert duplicate.value.detail.endswith(f"Id={created.Id}")


def qb_all_customer_ids(qb: QuickBooks) -> list[str]:
    """Page through every active customer the way python-quickbooks users do."""
    ids: list[str] = []
    start = 1
    while True:
        page = Customer.all(start_position=start, max_results=4, qb=qb)
        ids += [c.Id for c in page]
        if len(page) < 4:
            return ids
        start += 4


def test_items_query_and_create(qb):
    hours = Item.filter(Name="Hours", qb=qb)
    assert [(i.Id, i.Type) for i in hours] == [("2", "Service")]
    services = Item.get("1", qb=qb)
    assert services.Name == "Services"
    names = {i.Name for i in Item.all(max_results=1000, qb=qb)}
    assert {"Services", "Hours", "Design"} <= names

    item = Item()
    item.Name = "SDK Consulting"
    item.Type = "Service"
    item.UnitPrice = 150
    item.Sku = "SDK-001"
    item.IncomeAccountRef = services.IncomeAccountRef
    created = item.save(qb=qb)
    assert created.Id.isdigit() and created.SyncToken == "0"
    assert created.Name == created.FullyQualifiedName == "SDK Consulting"
    assert created.UnitPrice == 150 and created.Active is True
    assert [i.Id for i in Item.where("Name LIKE 'SDK%'", qb=qb)] == [created.Id]
    # Item.all() asks "SELECT *, Sku FROM Item" (python-quickbooks 0.9.12)
    assert {i.Id: i.Sku for i in Item.all(max_results=1000, qb=qb)}[created.Id] == "SDK-001"

    dup = Item()
    dup.Name = "SDK Consulting"
    dup.Type = "Service"
    dup.IncomeAccountRef = services.IncomeAccountRef
    with pytest.raises(QuickbooksException) as duplicate:
        dup.save(qb=qb)
    assert duplicate.value.error_code == 6240


def _sales_line(item: Item, qty: int, price: str) -> SalesItemLine:
    line = SalesItemLine()
    line.Amount = Decimal(price) * qty
    line.Description = f"{qty} x {item.Name}"
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = item.to_ref()
    line.SalesItemLineDetail.Qty = qty
    line.SalesItemLineDetail.UnitPrice = Decimal(price)
    return line


def test_invoice_create_and_read_back(qb):
    customer = Customer.filter(DisplayName="Amy's Bird Sanctuary", qb=qb)[0]
    hours = Item.filter(Name="Hours", qb=qb)[0]
    design = Item.filter(Name="Design", qb=qb)[0]

    invoice = Invoice()
    invoice.CustomerRef = Ref()  # built by hand: sends "name": "" and "type": ""
    invoice.CustomerRef.value = customer.Id
    invoice.Line.append(_sales_line(hours, 3, "30.00"))
    invoice.Line.append(_sales_line(design, 2, "75.50"))
    created = invoice.save(qb=qb)
    assert created.Id.isdigit() and created.SyncToken == "0"
    assert created.TotalAmt == 241.0 and created.Balance == 241.0
    assert created.DocNumber and created.DocNumber.isdigit()

    # what QBO echoes for the blanks python-quickbooks sends ("TxnDate": "", "ShipDate": "",
    # "ServiceDate": "", ref "type": ""): defaults or nothing, never ""
    raw = qb.get_single_object("Invoice", created.Id)["Invoice"]
    assert raw["TxnDate"] == sbx_today(qb) and raw["DueDate"] > raw["TxnDate"]
    assert "ShipDate" not in raw
    assert raw["CustomerRef"] == {"value": "1", "name": "Amy's Bird Sanctuary"}
    assert raw["Line"][0]["SalesItemLineDetail"]["ItemRef"]["name"] == "Hours"
    assert "ServiceDate" not in raw["Line"][0]["SalesItemLineDetail"]

    read = Invoice.get(created.Id, qb=qb)
    assert read.CustomerRef.value == "1"
    assert read.CustomerRef.name == "Amy's Bird Sanctuary"
    assert read.TotalAmt == 241.0 and read.Balance == 241.0
    sales = [line for line in read.Line if line.DetailType == "SalesItemLineDetail"]
    subtotal = [line for line in read.Line if line.DetailType == "SubTotalLineDetail"]
    assert [(line.Amount, line.SalesItemLineDetail.ItemRef.value) for line in sales] == [
        (90.0, hours.Id),
        (151.0, design.Id),
    ]
    assert [line.Amount for line in subtotal] == [241.0]
    assert [i.Id for i in Invoice.filter(DocNumber=created.DocNumber, qb=qb)] == [created.Id]

    # full update of what was read back: a third line, SyncToken 0 -> 1, totals follow
    read.Line = sales + [_sales_line(hours, 1, "30.00")]
    updated = read.save(qb=qb)
    assert updated.SyncToken == "1"
    assert updated.TotalAmt == 271.0 and updated.Balance == 271.0

    # Amount != Qty x UnitPrice is QBO's 6070
    bad = Invoice()
    bad.CustomerRef = customer.to_ref()
    line = _sales_line(hours, 2, "30.00")
    line.Amount = 61
    bad.Line.append(line)
    with pytest.raises(QuickbooksException) as mismatch:
        bad.save(qb=qb)
    assert mismatch.value.error_code == 6070

    # delete (transactions only): then it is gone
    updated.delete(qb=qb)
    with pytest.raises(QuickbooksException):
        Invoice.get(created.Id, qb=qb)


def sbx_today(qb: QuickBooks) -> str:
    """The company's current date, from the ``time`` field QBO puts on every response."""
    return qb.get(f"{qb.api_url}/company/{qb.company_id}/preferences")["time"][:10]


def test_time_activity_for_an_employee(qb):
    employee = Employee.filter(DisplayName="John Johnson", qb=qb)[0]
    customer = Customer.filter(DisplayName="Amy's Bird Sanctuary", qb=qb)[0]
    hours = Item.filter(Name="Hours", qb=qb)[0]

    activity = TimeActivity()
    activity.NameOf = "Employee"
    activity.EmployeeRef = employee.to_ref()
    activity.CustomerRef = customer.to_ref()
    activity.ItemRef = hours.to_ref()
    activity.TxnDate = "2024-03-04"
    activity.BillableStatus = "Billable"
    activity.HourlyRate = 120
    activity.Hours = 2
    activity.Minutes = 30
    activity.Description = "Site visit"
    created = activity.save(qb=qb)
    assert created.Id.isdigit() and created.SyncToken == "0"
    assert created.EmployeeRef.value == employee.Id
    assert created.EmployeeRef.name == "John Johnson"
    assert (created.Hours, created.Minutes, created.BillableStatus) == (2, 30, "Billable")

    found = TimeActivity.where("TxnDate = '2024-03-04'", qb=qb)
    assert [t.Id for t in found] == [created.Id]

    read = TimeActivity.get(created.Id, qb=qb)
    read.Description = "Site visit and report"
    updated = read.save(qb=qb)
    assert updated.SyncToken == "1" and updated.Description == "Site visit and report"

    # Billable without HourlyRate is one of QBO's TimeActivity rules (6330)
    bad = TimeActivity()
    bad.NameOf = "Employee"
    bad.EmployeeRef = employee.to_ref()
    bad.CustomerRef = customer.to_ref()
    bad.BillableStatus = "Billable"
    bad.Hours = 1
    with pytest.raises(QuickbooksException) as rule:
        bad.save(qb=qb)
    assert rule.value.error_code == 6330


def test_batch_create_with_a_per_item_fault(qb):
    customers = []
    for name in ("SDK Batch One", "SDK Batch Two", "Amy's Bird Sanctuary"):
        customer = Customer()
        customer.DisplayName = name
        customers.append(customer)
    result = batch_create(customers, qb=qb)

    assert len(result.batch_responses) == 3
    assert sorted(c.DisplayName for c in result.successes) == ["SDK Batch One", "SDK Batch Two"]
    assert all(c.Id.isdigit() and c.SyncToken == "0" for c in result.successes)
    assert len(result.faults) == 1
    fault = result.faults[0]
    assert fault.original_object.DisplayName == "Amy's Bird Sanctuary"
    assert [(e.code, e.Detail) for e in fault.Error] == [
        ("6240", "The name supplied already exists. : Id=1")
    ]
    for created in result.successes:
        assert [c.Id for c in Customer.filter(DisplayName=created.DisplayName, qb=qb)] == [
            created.Id
        ]


def test_expired_access_token_is_refreshed_by_the_app(sdk_urls):
    """python-quickbooks raises AuthorizationException on the gateway 401; the app refreshes
    with intuitlib and builds a new client, as python-quickbooks' docs describe."""
    sbx = sdk_urls
    auth_client = connect(sbx, sbx.REALM_1)
    qb = quickbooks_client(auth_client)
    sbx.advance_clock(3601)
    with pytest.raises(AuthorizationException) as expired:
        Customer.filter(DisplayName="Amy's Bird Sanctuary", qb=qb)
    assert expired.value.error_code == 401
    assert "Token expired" in expired.value.detail
    auth_client.refresh()
    qb.session.close()
    qb = quickbooks_client(auth_client)
    assert [c.Id for c in Customer.filter(DisplayName="Amy's Bird Sanctuary", qb=qb)] == ["1"]
    qb.session.close()
    auth_client.close()


def test_readme_calls_filter_order_void_and_cdc(qb):
    """Calls straight from python-quickbooks' README: filter with order_by, void, CDC."""
    before = qb.get(f"{qb.api_url}/company/{qb.company_id}/preferences")["time"]
    invoices = Invoice.filter(CustomerRef="1", order_by="TxnDate DESC", qb=qb)
    assert invoices and all(i.CustomerRef.value == "1" for i in invoices)
    dates = [i.TxnDate for i in invoices]
    assert dates == sorted(dates, reverse=True)

    hours = Item.filter(Name="Hours", qb=qb)[0]
    invoice = Invoice()
    invoice.CustomerRef = Customer.get("1", qb=qb).to_ref()
    invoice.Line.append(_sales_line(hours, 1, "30.00"))
    created = invoice.save(qb=qb)
    invoice.SyncToken = created.SyncToken
    invoice.void(qb=qb)
    voided = Invoice.get(created.Id, qb=qb)
    assert voided.SyncToken == "1" and voided.TotalAmt == 0 and voided.Balance == 0

    customer = Customer()
    customer.DisplayName = "SDK CDC Customer"
    new_customer = customer.save(qb=qb)
    cdc = change_data_capture([Customer, Invoice], before, qb=qb)
    assert [c.Id for c in cdc.Customer] == [new_customer.Id]
    assert [i.Id for i in cdc.Invoice] == [created.Id]
