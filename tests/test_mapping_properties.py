"""Hostile input, property-based: the QBO mapping functions against any unicode, any length.

For every generated client, invoice and time entry (control characters, tabs, newlines, colons,
emoji, RTL marks, strings far past every limit, empty strings), a mapping function either
refuses with its clear error (ValueError for time; ``problems`` for invoices) or returns a
payload that obeys QBO's rules (docs/reference qbo-api.md §8): lengths, forbidden characters,
Qty x UnitPrice == Amount, hours and minutes in range, required refs. Payloads are
deterministic and JSON/UTF-8 encodable; name cleaning is idempotent; the requestids the sync
derives fit QBO's limits.

Inputs are what the database can hold: strings are cut to the column sizes (PostgreSQL
enforces them), numbers to the column precision, except where the mapping itself promises to
cope with more (invoice numbers, hours). ``derandomize=True`` keeps CI stable: the same
examples every run.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from portal.models import (
    CLIENT_KINDS,
    BillableCategory,
    BillableType,
    Client,
    Invoice,
    InvoiceLine,
    TimeEntry,
)
from portal.models.invoice import line_amount
from portal.qbo.client import MAX_BATCH_REQUEST_ID, MAX_REQUEST_ID
from portal.qbo.mapping import time as time_mapping
from portal.qbo.mapping.customers import (
    clean_name,
    client_fields,
    customer_payload,
    lookup_names,
    name_key,
    parse_people,
)
from portal.qbo.mapping.invoices import (
    CATEGORY,
    FOUND,
    INACTIVE,
    MISSING,
    WRONG_TYPE,
    ItemInfo,
    code_key,
    invoice_payload,
)
from portal.qbo.sync import customers as customer_sync
from portal.qbo.sync import invoices as invoice_sync
from portal.qbo.sync import time as time_sync

PROPERTY = settings(derandomize=True, deadline=None, max_examples=200, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
FEW = settings(PROPERTY, max_examples=60)

# Characters QBO refuses in names (2040): the hierarchy colon, tab and any line break. We hold
# the mapping to the stricter rule "no whitespace but the plain space".
def forbidden_in_name(text: str) -> list[str]:
    return [ch for ch in text if ch == ":" or (ch.isspace() and ch != " ")]


HOSTILE_CHARS = (
    ":", "::", "\t", "\n", "\r\n", "\r", "\v", "\f", "\x00", "\x07", "\x1b", "\x1c", "\x1f",
    "\x7f", "\x85", "\u00a0", "\u2028", "\u2029", "\u200b", "\u200e", "\u200f", "\u202e",
    "\ufeff", " - ", "-", " ", "  ", "&", " and ", ",", "'", '"', "<b>", "%", "_", "\\",
    "😀", "👩‍👩‍👧", "é", "e\u0301", "ß", "İ", "Σ", "ﬁ", "中文", "עברית", "العربية", "Zoë",
)
WORDS = ("Smith", "O'Brien", "Ada", "Lovelace", "LLC", "Trust", "Jane", "de la Cruz", "Co")


@st.composite
def hostile_text(draw: st.DrawFn, max_size: int = 60) -> str:
    """Short mixes of names, separators and hostile characters, any unicode, or a long run."""
    kind = draw(st.integers(0, 9))
    if kind <= 4:
        parts = draw(st.lists(st.sampled_from(HOSTILE_CHARS + WORDS), max_size=12))
        return "".join(parts)
    if kind <= 7:
        return draw(st.text(max_size=max_size))
    if kind == 8:
        return ""
    unit = draw(st.lists(st.sampled_from(HOSTILE_CHARS + WORDS), min_size=1, max_size=3))
    return "".join(unit) * draw(st.integers(50, 700))


@st.composite
def name_text(draw: st.DrawFn) -> str:
    """A required name as a form accepts it: mostly a word wrapped in hostile text."""
    if draw(st.integers(0, 3)) == 0:
        return draw(hostile_text())
    return draw(hostile_text(max_size=20)) + draw(st.sampled_from(WORDS)) + draw(hostile_text())


def column_max(model: Any, column: str) -> int | None:
    return getattr(model.__table__.c[column].type, "length", None)


def fit(model: Any, column: str, value: str | None) -> str | None:
    """What the column can hold (PostgreSQL refuses longer strings; forms cut nothing)."""
    limit = column_max(model, column)
    return value[:limit] if value is not None and limit else value


def is_json_and_utf8(payload: dict[str, Any]) -> bool:
    text = json.dumps(payload, ensure_ascii=False, allow_nan=False)
    return json.loads(text.encode("utf-8").decode("utf-8")) == payload


# -- name cleaning -------------------------------------------------------------------------------
@PROPERTY
@given(raw=st.one_of(st.none(), hostile_text(max_size=700)), limit=st.integers(1, 500))
def test_clean_name_is_valid_idempotent_and_ignores_surrounding_whitespace(raw, limit):
    cleaned = clean_name(raw, limit)

    assert len(cleaned) <= limit
    assert not forbidden_in_name(cleaned), repr(cleaned)
    assert cleaned == cleaned.strip(" -") and "  " not in cleaned
    assert clean_name(cleaned, limit) == cleaned
    assert clean_name(f" \t{raw or ''}\r\n ", limit) == cleaned
    if raw and any(not (ch.isspace() or ch in ":-") for ch in raw):
        assert cleaned or limit < len(raw), f"{raw!r} lost every character"


@PROPERTY
@given(raw=hostile_text(max_size=200))
def test_name_keys_ignore_spacing_and_never_fail(raw):
    assume(len(raw) <= 200)
    key = name_key(raw)

    assert key == name_key(raw) == name_key(f"  {raw}\n")
    assert name_key(raw.replace(" ", "   ")) == key
    assert not forbidden_in_name(key)
    people = parse_people(raw)
    assert people is None or 1 <= len(people) <= 2


# -- Client -> Customer --------------------------------------------------------------------------
@st.composite
def clients(draw: st.DrawFn) -> Client:
    """A transient Client (no session) with hostile names, as the database can hold them."""
    kind = draw(st.sampled_from(CLIENT_KINDS))
    fields: dict[str, Any] = {"kind": kind}
    required = {"individual": ("first_name", "last_name"), "business": ("company_name",),
                "joint": ("first_name", "last_name", "spouse_first_name")}[kind]
    for name in ("first_name", "last_name", "spouse_first_name", "spouse_last_name",
                 "company_name", "address_line1", "address_line2", "city", "state",
                 "postal_code", "country"):
        value = draw(name_text() if name in required else st.one_of(st.none(), hostile_text()))
        fields[name] = fit(Client, name, value)
    fields["email"] = draw(st.one_of(st.none(), st.emails().filter(lambda e: len(e) <= 254)))
    phone = st.from_regex(r"\A\+?[0-9 ().\-]{0,38}[0-9]\Z")
    fields["phone"] = draw(st.one_of(st.none(), phone))
    client = Client(**fields)
    client.refresh_name()
    return client


def assert_valid_customer(body: dict[str, Any], client: Client) -> None:
    display = body["DisplayName"]
    assert isinstance(display, str) and len(display) <= 500
    assert not forbidden_in_name(display), repr(display)
    for key, limit in (("GivenName", 100), ("FamilyName", 100), ("CompanyName", 100)):
        if key in body:
            assert 0 < len(body[key]) <= limit, (key, body[key])
            assert not forbidden_in_name(body[key]), (key, body[key])
    if any(not (ch.isspace() or ch in ":-") for ch in client.display_name):
        # Something nameable was typed: QBO gets a name (else 6080 No Name Provided).
        assert display, f"{client.display_name!r} lost its DisplayName"
    if "PrimaryEmailAddr" in body:
        address = body["PrimaryEmailAddr"]["Address"]
        assert "@" in address and "." in address.split("@")[-1] and address == address.strip()
    if "PrimaryPhone" in body:
        assert 0 < len(body["PrimaryPhone"]["FreeFormNumber"]) <= 30
    address_limits = {"Line1": 500, "Line2": 500, "City": 255, "PostalCode": 30,
                      "CountrySubDivisionCode": 255, "Country": 255}
    for key, value in body.get("BillAddr", {}).items():
        assert 0 < len(value) <= address_limits[key], (key, value)
    assert is_json_and_utf8(body)


@PROPERTY
@given(client=clients())
def test_customer_payload_is_valid_for_any_client(client):
    body = customer_payload(client)

    assert_valid_customer(body, client)
    assert customer_payload(client) == body  # deterministic
    for name in lookup_names(client):
        assert name and name == name.strip()


@FEW
@given(client=clients(), firm_id=st.integers(1, 2**31 - 1), client_id=st.integers(1, 2**31 - 1),
       version=st.integers(1, 2**31 - 1), token=st.from_regex(r"\A[0-9]{1,10}\Z"))
def test_customer_request_ids_fit_qbo_limits(client, firm_id, client_id, version, token):
    client.id, client.version, client.qbo_sync_token = client_id, version, token
    for operation in ("create", "update"):
        rid = customer_sync.single_request_id(firm_id, client, operation)
        assert 0 < len(rid) <= MAX_REQUEST_ID and ":" not in rid
        assert rid == customer_sync.single_request_id(firm_id, client, operation)
    plans = [(f"c{client_id}", client, "create"), (f"u{client_id}", client, "update")]
    batch = customer_sync.batch_request_id(firm_id, plans)
    assert len(batch) <= MAX_BATCH_REQUEST_ID and ":" not in batch


# -- Customer -> Client (import: hostile data from QBO) ------------------------------------------
@PROPERTY
@given(customer=st.fixed_dictionaries({}, optional={
    "DisplayName": hostile_text(max_size=600), "GivenName": hostile_text(),
    "FamilyName": hostile_text(), "CompanyName": hostile_text(max_size=300),
    "PrimaryEmailAddr": st.fixed_dictionaries({"Address": st.emails()}),  # QBO checked it
    "PrimaryPhone": st.fixed_dictionaries({"FreeFormNumber": hostile_text()}),
    "BillAddr": st.fixed_dictionaries({}, optional={
        k: hostile_text(max_size=300) for k in ("Line1", "Line2", "City", "PostalCode",
                                                 "CountrySubDivisionCode", "Country")}),
}))
def test_imported_customers_fit_the_client_columns(customer):
    fields = client_fields(customer)

    assert fields["kind"] in CLIENT_KINDS
    for name, value in fields.items():
        if name == "kind" or value is None:
            continue
        limit = column_max(Client, name)
        assert isinstance(value, str) and (limit is None or len(value) <= limit), (name, value)
    client = Client(**fields)
    client.refresh_name()
    assert_valid_customer(customer_payload(client), client)


# -- Invoice -> Invoice --------------------------------------------------------------------------
STATUSES = (FOUND, FOUND, FOUND, INACTIVE, CATEGORY, WRONG_TYPE, MISSING)
money = st.decimals(min_value=0, max_value=Decimal("99999.99"), places=2)
code_like = st.from_regex(r"\A[A-Z][A-Z-]{0,20}\Z")
codes = st.one_of(code_like, code_like, code_like, hostile_text(), st.none())
quantity = st.one_of(money, st.decimals(min_value=0, max_value=Decimal("999.999"), places=3))


@st.composite
def invoices(draw: st.DrawFn) -> tuple[Invoice, dict[str, ItemInfo]]:
    """A transient Invoice with lines under hostile categories/types, and QBO's items."""
    btype = BillableType(name=fit(BillableType, "name", draw(hostile_text())),
                         code=fit(BillableType, "code", draw(codes)))
    categories = [
        BillableCategory(name=fit(BillableCategory, "name", draw(hostile_text())),
                         code=fit(BillableCategory, "code", draw(codes)),
                         type=btype)
        for _ in range(draw(st.integers(1, 3)))
    ]
    lines = []
    for position in range(draw(st.integers(0, 6))):
        source = draw(st.sampled_from(["category", "type", "none"]))
        line = InvoiceLine(id=position + 1, position=draw(st.integers(0, 3)),
                           description=fit(InvoiceLine, "description",
                                           draw(hostile_text(max_size=300))),
                           quantity=draw(quantity), rate=draw(money))
        if source == "category":
            line.category = draw(st.sampled_from(categories))
        elif source == "type":
            line.type = btype
        lines.append(line)
    number = draw(st.one_of(st.from_regex(r"\A[A-Z0-9-]{1,21}\Z"), hostile_text(max_size=30)))
    invoice = Invoice(id=draw(st.integers(1, 2**31 - 1)), firm_id=draw(st.integers(1, 2**31 - 1)),
                      version=draw(st.integers(1, 2**31 - 1)), number=number,
                      issue_date=draw(st.dates()), due_date=draw(st.one_of(st.none(), st.dates())),
                      memo=draw(st.one_of(st.none(), hostile_text(max_size=1500))), lines=lines)
    invoice.recompute_total()
    items: dict[str, ItemInfo] = {}
    all_found = draw(st.integers(0, 3)) > 0  # mostly a payload, sometimes holds
    for code in {c.code for c in categories} | {btype.code}:
        if code and code.strip():
            status = FOUND if all_found else draw(st.sampled_from(STATUSES))
            item_id = draw(st.from_regex(r"\A[1-9][0-9]{0,9}\Z")) if status == FOUND else None
            items[code_key(code)] = ItemInfo(code.strip(), status, item_id, code.strip(),
                                             "Service")
    return invoice, items


def exact(value: int | float) -> Decimal:
    """The decimal a JSON number denotes (floats print their shortest round-trip form)."""
    return Decimal(repr(value))


@PROPERTY
@given(data=invoices(), rollup=st.sampled_from(["category", "type"]),
       customer_id=st.one_of(st.none(), st.from_regex(r"\A[1-9][0-9]{0,9}\Z")))
def test_invoice_payload_is_valid_or_held_with_reasons(data, rollup, customer_id):
    invoice, items = data
    mapped = invoice_payload(invoice, rollup, customer_id, items)

    assert mapped == invoice_payload(invoice, rollup, customer_id, items)  # deterministic
    if mapped.held:
        assert mapped.payload is None
        assert all(isinstance(p, str) and p.endswith((".", ")")) for p in mapped.problems)
        return
    payload = mapped.payload
    assert payload is not None and is_json_and_utf8(payload)
    assert payload["CustomerRef"]["value"] == customer_id
    assert 0 < len(payload["DocNumber"]) <= 21 and payload["DocNumber"] == invoice.number.strip()
    assert payload["TxnDate"] == invoice.issue_date.isoformat()
    assert len(payload["PrivateNote"]) <= 4000
    assert len(payload.get("CustomerMemo", {}).get("value", "")) <= 1000
    assert payload["Line"], "an invoice QBO accepts has at least one line"
    sent_lines = sorted((ln for ln in invoice.lines
                         if ln.category is not None or ln.type is not None),
                        key=lambda ln: (ln.position or 0, ln.id or 0))
    assert len(sent_lines) == len(payload["Line"])
    total = Decimal(0)
    for num, (line, source) in enumerate(zip(payload["Line"], sent_lines, strict=True), 1):
        detail = line["SalesItemLineDetail"]
        amount = exact(line["Amount"])
        assert line["LineNum"] == num and line["DetailType"] == "SalesItemLineDetail"
        assert exact(detail["Qty"]) * exact(detail["UnitPrice"]) == amount  # else 6070
        assert amount == amount.quantize(Decimal("0.01"))
        assert amount == line_amount(source.quantity, source.rate)  # the portal's amount
        assert len(amount.as_tuple().digits) <= 15
        assert len(line["Description"]) <= 4000
        assert detail["ItemRef"]["value"]
        total += amount
    assert mapped.total == total
    if not mapped.omitted:
        assert mapped.total == invoice.total


@PROPERTY
@given(qty=st.decimals(min_value=0, max_value=Decimal("99999.9999"), places=4), rate=money)
def test_sent_amounts_multiply_exactly_for_any_quantity(qty, rate):
    mapped = invoice_payload(
        Invoice(id=1, firm_id=1, number="1001", issue_date=date(2025, 1, 1),
                lines=[InvoiceLine(id=1, description="Advice", quantity=qty, rate=rate,
                                   type=BillableType(name="Tax", code="TAX"))]),
        "category", "58", {"tax": ItemInfo("TAX", FOUND, "25", "TAX", "Service")})

    [line] = mapped.payload["Line"]
    detail = line["SalesItemLineDetail"]
    assert exact(detail["Qty"]) * exact(detail["UnitPrice"]) == exact(line["Amount"])
    assert exact(line["Amount"]) == line_amount(qty, rate) == mapped.total


@FEW
@given(data=invoices())
def test_invoice_request_ids_fit_qbo_limits(data):
    invoice, items = data
    mapped = invoice_payload(invoice, "category", "58", items)  # held ones hash too
    rid = invoice_sync.single_request_id(invoice.firm_id, invoice, mapped)
    assert 0 < len(rid) <= MAX_REQUEST_ID and ":" not in rid
    batch = invoice_sync.batch_request_id(invoice.firm_id, [(invoice, mapped)] * 2)
    assert len(batch) <= MAX_BATCH_REQUEST_ID and ":" not in batch
    assert batch == invoice_sync.batch_request_id(invoice.firm_id, [(invoice, mapped)] * 2)


# -- TimeEntry -> TimeActivity -------------------------------------------------------------------
hours_values = st.one_of(
    st.decimals(min_value=Decimal("-24"), max_value=Decimal("999.99"), places=2),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from([Decimal("0.001"), Decimal("0.004"), Decimal("0.005"), Decimal("8760"),
                     Decimal("8760.01"), Decimal("1e30"), Decimal("-0"), Decimal("NaN"),
                     Decimal("sNaN"), Decimal("Infinity")]),
)


@st.composite
def time_entries(draw: st.DrawFn) -> TimeEntry:
    return TimeEntry(id=draw(st.integers(1, 2**31 - 1)), entry_date=draw(st.dates()),
                     hours=draw(hours_values), billable=draw(st.booleans()),
                     version=draw(st.integers(1, 2**31 - 1)),
                     qbo_sync_token=draw(st.from_regex(r"\A[0-9]{1,10}\Z")),
                     description=draw(st.one_of(st.none(), hostile_text(max_size=300),
                                                st.text(min_size=3990, max_size=4200))))


def usable_hours(hours: Decimal) -> bool:
    return hours.is_finite() and hours > 0


@PROPERTY
@given(entry=time_entries(), firm_id=st.integers(1, 2**31 - 1),
       employee_id=st.one_of(st.just(""), st.from_regex(r"\A[1-9][0-9]{0,9}\Z")),
       customer_id=st.one_of(st.none(), st.from_regex(r"\A[1-9][0-9]{0,9}\Z")),
       item_id=st.one_of(st.none(), st.from_regex(r"\A[1-9][0-9]{0,9}\Z")),
       rate=st.one_of(st.none(), money))
def test_time_activity_is_valid_or_refused_with_a_value_error(entry, firm_id, employee_id,
                                                             customer_id, item_id, rate):
    refusable = (not employee_id or (entry.billable and not customer_id)
                 or not usable_hours(entry.hours))
    try:
        body = time_mapping.time_activity_payload(
            entry, firm_id=firm_id, employee_id=employee_id, hourly_rate=rate,
            customer_id=customer_id, item_id=item_id)
    except ValueError as exc:
        assert refusable, f"refused a valid entry: {exc}"
        assert str(exc)
        return
    assert not refusable, "a payload QBO must refuse"
    assert is_json_and_utf8(body)
    assert body == time_mapping.time_activity_payload(
        entry, firm_id=firm_id, employee_id=employee_id, hourly_rate=rate,
        customer_id=customer_id, item_id=item_id)
    hours, minutes = body["Hours"], body["Minutes"]
    assert isinstance(hours, int) and isinstance(minutes, int)
    assert 0 <= hours <= 8760 and 0 <= minutes <= 59 and hours * 60 + minutes >= 1
    assert hours < 8760 or minutes == 0
    if entry.hours <= 8760 and hours * 60 + minutes > 1:  # else: the one-minute minimum
        assert abs(Decimal(hours * 60 + minutes) - entry.hours * 60) <= Decimal("0.5")
    assert body["NameOf"] == "Employee" and body["EmployeeRef"]["value"] == employee_id
    assert body["TxnDate"] == entry.entry_date.isoformat()
    assert body["BillableStatus"] in ("Billable", "NotBillable")
    if entry.billable:
        assert body["BillableStatus"] == "Billable"
        assert body["CustomerRef"]["value"] == customer_id and body["HourlyRate"] >= 0
    description = body["Description"]
    assert len(description) <= 4000
    assert time_mapping.marker_of(description) == (firm_id, entry.id)


@FEW
@given(entry=time_entries(), firm_id=st.integers(1, 2**31 - 1))
def test_time_request_ids_fit_qbo_limits(entry, firm_id):
    plans = [time_sync.Plan(entry, op, {}) for op in ("create", "update", "delete")]
    for plan in plans:
        rid = time_sync.request_id(firm_id, plan)
        assert 0 < len(rid) <= MAX_REQUEST_ID and ":" not in rid
    batch = time_sync.batch_request_id(firm_id, plans)
    assert len(batch) <= MAX_BATCH_REQUEST_ID and ":" not in batch


@PROPERTY
@given(hours=hours_values)
def test_hours_minutes_refuses_unusable_hours_with_a_value_error(hours):
    if not usable_hours(hours):
        try:
            time_mapping.hours_minutes(hours)
        except ValueError:
            return
        raise AssertionError(f"{hours!r} was not refused")
    whole, minutes = time_mapping.hours_minutes(hours)
    assert 0 <= whole <= 8760 and 0 <= minutes <= 59 and whole * 60 + minutes >= 1


def test_generators_reach_the_hard_cases():
    """Guards the strategies themselves: the properties above mean little without these."""
    assert clean_name("a:\tb\n" * 200) and ":" not in clean_name("a:b")
    assert Client(kind="business", company_name=":").company_name == ":"
    assert invoice_payload(
        Invoice(id=1, firm_id=1, number="X" * 22, issue_date=date(2025, 1, 1), lines=[]),
        "category", "1", {}).held
