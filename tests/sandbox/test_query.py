"""QBO query language: parse errors, validation errors and result envelopes, table-driven."""

from __future__ import annotations

import random

import pytest

from qbo_sandbox.query import QueryError, execute, parse
from qbo_sandbox.query_values import like


def _customer(id_: str, name: str, **extra: object) -> dict:
    return {
        "Id": id_,
        "SyncToken": "0",
        "DisplayName": name,
        "Active": True,
        "Balance": 0,
        "MetaData": {
            "CreateTime": "2015-01-01T09:00:00-08:00",
            "LastUpdatedTime": "2015-01-01T09:00:00-08:00",
        },
        **extra,
    }


def _stamp(when: str) -> dict:
    return {"CreateTime": when, "LastUpdatedTime": when}


CUSTOMERS = [
    _customer("1", "Amy's Bird Sanctuary", GivenName="Amy", Balance=239,
              PrimaryEmailAddr={"Address": "Birds@Intuit.com"},
              MetaData=_stamp("2015-03-01T10:00:00-08:00")),
    _customer("2", "Bill's Windsurf Shop", Balance=85,
              MetaData=_stamp("2015-02-28T23:30:00-08:00")),
    _customer("3", "Cool Cars", MetaData=_stamp("2015-03-02T00:00:00-08:00")),
    _customer("10", "Geeta Kalapatapu", Balance=629.1),
    _customer("12", "Jeff's Jalopies", Active=False),
    _customer("21", "Café Ünïcödé 日本"),
    _customer("29", "'; DROP TABLE Customer; --"),
]  # fmt: skip

INVOICES = [
    {"Id": "130", "DocNumber": "1037", "TxnDate": "2019-12-20", "TotalAmt": 100.0,
     "Balance": 100.0, "CustomerRef": {"value": "1", "name": "Amy's Bird Sanctuary"},
     "MetaData": _stamp("2019-12-20T10:08:51-08:00")},
    {"Id": "131", "DocNumber": "1038", "TxnDate": "2019-12-21", "TotalAmt": 50.0,
     "Balance": 0, "CustomerRef": {"value": "12", "name": "Jeff's Jalopies"},
     "MetaData": _stamp("2019-12-21T10:00:00-08:00")},
    {"Id": "99", "DocNumber": "A-7", "TxnDate": "2019-11-02", "TotalAmt": 75.5,
     "Balance": 75.5, "CustomerRef": {"value": "2"},
     "MetaData": _stamp("2019-11-02T10:00:00-08:00")},
]  # fmt: skip

ITEMS = [
    {"Id": "1", "Name": "Services", "Type": "Service", "Active": True},
    {"Id": "2", "Name": "Hours", "Type": "Service", "Active": True},
    {"Id": "21", "Name": "Consulting Hours", "Type": "Service", "Active": True},
    {"Id": "22", "Name": "Consult_100%", "Type": "NonInventory", "Active": False},
]

TIME = [
    {"Id": "3", "TxnDate": "2014-09-16", "BillableStatus": "Billable",
     "EmployeeRef": {"value": "54"}, "Hours": 5},
    {"Id": "4", "TxnDate": "2014-09-14", "BillableStatus": "NotBillable",
     "EmployeeRef": {"value": "55"}, "Hours": 2},
]  # fmt: skip

DATA = {"Customer": CUSTOMERS, "Invoice": INVOICES, "Item": ITEMS, "TimeActivity": TIME}


def run(text: str) -> dict:
    q = parse(text)
    return execute(q, DATA.get(q.entity, []))


def ids(text: str) -> list[str]:
    result = run(text)
    return [e["Id"] for e in result.get(parse(text).entity, [])]


def error(text: str) -> QueryError:
    with pytest.raises(QueryError) as info:
        run(text)
    return info.value


# --- parse: canonical entity names, COUNT, keyword casing --------------------------------


@pytest.mark.parametrize(
    ("text", "entity", "count"),
    [
        ("SELECT * FROM Customer", "Customer", False),
        ("select * from customer", "Customer", False),
        ("SeLeCt * FrOm TIMEACTIVITY", "TimeActivity", False),
        ("select count(*) from Invoice", "Invoice", True),
        ("SELECT COUNT ( * ) FROM companyinfo", "CompanyInfo", True),
        ("SELECT * FROM Preferences", "Preferences", False),
        ("\n SELECT\t*\r\nFROM  Account  ", "Account", False),
    ],
)
def test_parse_entity_and_count(text: str, entity: str, count: bool) -> None:
    q = parse(text)
    assert (q.entity, q.count) == (entity, count)


def test_parse_paging_defaults_and_bounds() -> None:
    q = parse("SELECT * FROM Customer")
    assert (q.start_position, q.max_results) == (1, 100)
    q = parse("SELECT * FROM Customer MAXRESULTS 1000 STARTPOSITION 0")
    assert (q.start_position, q.max_results) == (1, 1000)


# --- 4000 parse errors --------------------------------------------------------------------

EXPECT_AFTER_CONDITION = (
    'Was expecting one of:\n    <EOF> \n    <AND> ...\n    "iterator" ...\n'
    '    "maxresults" ...\n    <OR> ...\n    "order" ...\n    "orderby" ...\n'
    '    "startposition" ...\n    '
)


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        # Byte-for-byte the Detail QBO returned in node-quickbooks #56.
        (
            "select * from vendor where DisplayName = 'Cutlery 'R Us'",
            'QueryParserError: Encountered " <IDENTIFIER> "R "" at line 1, column 52.\n'
            + EXPECT_AFTER_CONDITION,
        ),
        # quickbooks-ruby #471: the unescaped apostrophe fails at "s", column 48.
        (
            "SELECT * FROM Vendor WHERE DisplayName = 'Aido's  LLC'",
            'QueryParserError: Encountered " <IDENTIFIER> "s "" at line 1, column 48.\n'
            + EXPECT_AFTER_CONDITION,
        ),
        # quickbooks-php #129: empty statement.
        (
            "",
            'QueryParserError: Encountered "<EOF>" at line 0, column 0.\n'
            'Was expecting:\n    "select" ...\n    ',
        ),
        (
            "SELECT * FROM",
            'QueryParserError: Encountered "<EOF>" at line 1, column 13.\n'
            "Was expecting:\n    <IDENTIFIER> ...\n    ",
        ),
        (
            "SELECT Id, DisplayName FROM Customer",
            'QueryParserError: Encountered " <IDENTIFIER> "Id "" at line 1, column 8.\n'
            'Was expecting one of:\n    "*" ...\n    "count" ...\n    ',
        ),
        (
            "SELECT * FROM Customer WHERE Active = true OR Active = false",
            'QueryParserError: Encountered " <OR> "OR "" at line 1, column 44.\n'
            "Was expecting one of:\n    <EOF> \n    <AND> ...\n"
            '    "iterator" ...\n    "maxresults" ...\n    "order" ...\n'
            '    "orderby" ...\n    "startposition" ...\n    ',
        ),
        # Curly apostrophe outside quotes (quickbooks-ruby #309): lexical error.
        (
            "SELECT * FROM Customer WHERE DisplayName = \u2019Amy\u2019s\u2019",
            "QueryParserError: Invalid content. Lexical error at line 1, column 44.  "
            'Encountered: "\\u2019" (8217), after : ""',
        ),
        # En dash inside quotes (QuickBooks-V3-PHP-SDK #397), same column as captured.
        (
            "select * from Item WHERE Name='Boot \u2013 Wolverine'",
            "QueryParserError: Invalid content. Lexical error at line 1, column 37.  "
            'Encountered: "\\u2013" (8211), after : ""',
        ),
        # A % outside quotes (quickbooks-node-promise #1).
        (
            "SELECT * FROM Account WHERE AccountSubType = %27Inventory%27",
            "QueryParserError: Invalid content. Lexical error at line 1, column 46.  "
            'Encountered: "%" (37), after : ""',
        ),
        (
            "SELECT * FROM Customer WHERE DisplayName = 'abc",
            "QueryParserError: Invalid content. Lexical error at line 1, column 47.  "
            'Encountered: <EOF>, after : "\\\'abc"',
        ),
        (
            "SELECT *\nFROM Customer\nWHERE DisplayName != 'x'",
            "QueryParserError: Invalid content. Lexical error at line 3, column 19.  "
            'Encountered: "!" (33), after : ""',
        ),
        # An emoji is reported as Java sees it: its first UTF-16 code unit.
        (
            "SELECT * FROM Customer WHERE DisplayName = 'Cake \U0001f370'",
            "QueryParserError: Invalid content. Lexical error at line 1, column 50.  "
            'Encountered: "\\ud83c" (55356), after : ""',
        ),
        (
            "SELECT * FROM Customer ORDERBY DisplayName sideways",
            'QueryParserError: Encountered " <IDENTIFIER> "sideways "" at line 1, '
            'column 44.\nWas expecting one of:\n    <EOF> \n    "," ...\n    "asc" ...\n'
            '    "desc" ...\n    "iterator" ...\n    "maxresults" ...\n'
            '    "startposition" ...\n    ',
        ),
    ],
)
def test_parse_error_detail(text: str, detail: str) -> None:
    err = error(text)
    assert (err.code, err.message, err.detail) == ("4000", "Error parsing query", detail)


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * FROM Customer WHERE",
        "SELECT * FROM Customer WHERE DisplayName",
        "SELECT * FROM Customer WHERE DisplayName = ",
        "SELECT * FROM Customer WHERE Id IN ()",
        "SELECT * FROM Customer WHERE Id IN ('1' '2')",
        "SELECT * FROM Customer WHERE Id = '1' AND",
        "SELECT * FROM Customer MAXRESULTS ten",
        "SELECT * FROM Customer MAXRESULTS 10 MAXRESULTS 10",
        "SELECT * FROM Customer STARTPOSITION 1.5",
        "SELECT * FROM Customer MAXRESULTS 10 WHERE Id = '1'",
        "SELECT * FROM Customer ORDER DisplayName",
        "SELECT * FROM Customer; DROP TABLE Customer",
        'SELECT * FROM Customer WHERE DisplayName = "Amy"',
        "SELECT * FROM Customer WHERE DisplayName = 'a' -- comment",
        "DELETE FROM Customer",
        "SELECT * FROM Customer, Invoice",
        "SELECT * FROM Customer WHERE DisplayName = 'Amy\u2019s'",
    ],
)
def test_malformed_queries_are_4000(text: str) -> None:
    err = error(text)
    assert err.code == "4000"
    assert err.detail.startswith("QueryParserError: ")


# --- 4001 validation errors ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        # Real Detail from quickbooks-ruby #403 (Vendor email is not filterable).
        (
            "SELECT * FROM Vendor WHERE PrimaryEmailAddr = 'john@doe.com'",
            "property 'PrimaryEmailAddr' is not queryable",
        ),
        ("SELECT * FROM Customer WHERE AcctNum = '7'", "property 'AcctNum' is not queryable"),
        ("SELECT * FROM Customer WHERE Notes LIKE '%x%'", "property 'Notes' is not queryable"),
        ("SELECT * FROM TimeActivity WHERE Hours > 1", "property 'Hours' is not queryable"),
        # Real Detail from quickbooks-ruby #24.
        (
            "SELECT * FROM Customer STARTPOSITION 1 MAXRESULTS 1500",
            "value 1500 is too large. Max allowed value is 1000",
        ),
        ("SELECT * FROM Customer MAXRESULTS 0", "value 0 is too small. Min allowed value is 1"),
        ("SELECT * FROM Customers", "entity 'Customers' is not queryable"),
        ("SELECT COUNT(*) FROM Widget", "entity 'Widget' is not queryable"),
        (
            "SELECT * FROM Customer WHERE Active = 'maybe'",
            "value 'maybe' is not valid for property 'Active'",
        ),
        (
            "SELECT * FROM Customer WHERE Balance > 'lots'",
            "value 'lots' is not valid for property 'Balance'",
        ),
        (
            "SELECT * FROM Customer WHERE MetaData.CreateTime > 'yesterday'",
            "value 'yesterday' is not valid for property 'MetaData.CreateTime'",
        ),
        (
            "SELECT * FROM Invoice WHERE TxnDate = '2019-13-45'",
            "value '2019-13-45' is not valid for property 'TxnDate'",
        ),
        (
            "SELECT * FROM Customer WHERE DisplayName = true",
            "value true is not valid for property 'DisplayName'",
        ),
        (
            "SELECT * FROM Customer WHERE Balance LIKE '1%'",
            "operator 'LIKE' is not supported for property 'Balance'",
        ),
        (
            "SELECT * FROM Customer WHERE Active >= true",
            "operator '>=' is not supported for property 'Active'",
        ),
        ("SELECT * FROM Customer ITERATOR 5", "iterator is not supported"),
    ],
)
def test_validation_error_detail(text: str, detail: str) -> None:
    err = error(text)
    assert (err.code, err.message, err.detail) == (
        "4001",
        "Invalid query",
        "QueryValidationError: " + detail,
    )


def test_parse_error_wins_over_unknown_entity() -> None:
    assert error("SELECT * FROM Widget WHERE").code == "4000"


# --- execute: envelopes -------------------------------------------------------------------


def test_envelope_lists_entities_with_returned_count() -> None:
    result = run("SELECT * FROM Customer WHERE DisplayName = 'Amy\\'s Bird Sanctuary'")
    assert result == {"Customer": [CUSTOMERS[0]], "startPosition": 1, "maxResults": 1}


def test_no_match_is_empty_object() -> None:
    assert run("SELECT * FROM Customer WHERE DisplayName = 'Nobody'") == {}
    assert run("SELECT * FROM Customer STARTPOSITION 50") == {}
    assert execute(parse("SELECT * FROM Employee"), []) == {}


@pytest.mark.parametrize(
    ("text", "total"),
    [
        ("SELECT COUNT(*) FROM Customer", 6),
        ("SELECT COUNT(*) FROM Customer WHERE Active IN (true, false)", 7),
        ("SELECT COUNT(*) FROM Customer MAXRESULTS 2 STARTPOSITION 3", 6),
        ("SELECT COUNT(*) FROM Invoice WHERE CustomerRef = '1'", 1),
        ("SELECT COUNT(*) FROM Customer WHERE DisplayName = 'Nobody'", 0),
    ],
)
def test_count_returns_total_count_only(text: str, total: int) -> None:
    assert run(text) == {"totalCount": total}


def test_paging_envelope() -> None:
    text = "SELECT * FROM Customer STARTPOSITION 2 MAXRESULTS 3"
    result = run(text)
    assert [e["Id"] for e in result["Customer"]] == ["2", "3", "10"]
    assert (result["startPosition"], result["maxResults"]) == (2, 3)
    result = run("SELECT * FROM Customer STARTPOSITION 5 MAXRESULTS 3")
    assert (result["startPosition"], result["maxResults"]) == (5, 2)


def test_default_page_is_100() -> None:
    many = [_customer(str(i), f"Customer {i}") for i in range(1, 251)]
    result = execute(parse("SELECT * FROM Customer"), many)
    assert result["maxResults"] == 100
    assert result["Customer"][-1]["Id"] == "100"
    result = execute(parse("SELECT * FROM Customer STARTPOSITION 201 MAXRESULTS 1000"), many)
    assert (result["startPosition"], result["maxResults"]) == (201, 50)


# --- execute: filtering -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Inactive names are hidden unless the query filters on Active.
        ("SELECT * FROM Customer", ["1", "2", "3", "10", "21", "29"]),
        ("SELECT * FROM Customer WHERE Active = false", ["12"]),
        (
            "SELECT * FROM Customer WHERE Active IN (true, false)",
            ["1", "2", "3", "10", "12", "21", "29"],
        ),
        ("SELECT * FROM Customer WHERE Active = 'false'", ["12"]),
        ("SELECT * FROM Customer WHERE Id = '12'", []),
        ("SELECT * FROM Customer WHERE Id = '12' AND Active IN (true, false)", ["12"]),
        ("SELECT * FROM Item", ["1", "2", "21"]),
        # Ids: quoted or not, compared as numbers.
        ("SELECT * FROM Customer WHERE Id IN ('1', 3, '10')", ["1", "3", "10"]),
        ("SELECT * FROM Customer WHERE Id > '3'", ["10", "21", "29"]),
        ("SELECT * FROM Customer WHERE Id <= 10", ["1", "2", "3", "10"]),
        # Strings: case-insensitive, escaped quotes, unicode, injection text as a literal.
        ("SELECT * FROM Customer WHERE DisplayName = 'cool CARS'", ["3"]),
        (
            "SELECT * FROM Customer WHERE DisplayName IN ('Cool Cars', 'Bill\\'s Windsurf Shop')",
            ["2", "3"],
        ),
        ("SELECT * FROM Customer WHERE DisplayName = 'Café Ünïcödé 日本'", ["21"]),
        ("SELECT * FROM Customer WHERE DisplayName = '\\'; DROP TABLE Customer; --'", ["29"]),
        ("SELECT * FROM Customer WHERE DisplayName = 'x\\' OR \\'1\\'=\\'1'", []),
        ("SELECT * FROM Customer WHERE DisplayName < 'C'", ["1", "2", "29"]),
        ("SELECT * FROM Customer WHERE GivenName = 'amy'", ["1"]),
        # LIKE: % only; _ and other characters are literal.
        ("SELECT * FROM Customer WHERE DisplayName LIKE '%s'", ["3"]),
        ("SELECT * FROM Customer WHERE DisplayName LIKE '%\\'s %'", ["1", "2"]),
        ("SELECT * FROM Customer WHERE DisplayName LIKE 'c%'", ["3", "21"]),
        ("SELECT * FROM Customer WHERE DisplayName LIKE '%\\'s%'", ["1", "2"]),
        ("SELECT * FROM Item WHERE Name LIKE 'Consult%'", ["21"]),
        ("SELECT * FROM Item WHERE Name LIKE 'H_urs'", []),
        ("SELECT * FROM Item WHERE Name LIKE 'Consult_100%%' AND Active = false", ["22"]),
        ("SELECT * FROM Item WHERE Type = 'noninventory' AND Active IN (true, false)", ["22"]),
        # Emails compare on Address; numbers may be quoted.
        ("SELECT * FROM Customer WHERE PrimaryEmailAddr = 'birds@intuit.com'", ["1"]),
        ("SELECT * FROM Customer WHERE PrimaryEmailAddr LIKE '%@intuit.com'", ["1"]),
        ("SELECT * FROM Customer WHERE Balance > '0.0'", ["1", "2", "10"]),
        ("SELECT * FROM Customer WHERE Balance >= 239 AND Balance < 629.2", ["1", "10"]),
        ("SELECT * FROM Customer WHERE Balance = -5", []),
        # Null is written ' '.
        ("SELECT * FROM Customer WHERE GivenName = ' '", ["2", "3", "10", "21", "29"]),
        # Refs compare on value.
        ("SELECT * FROM Invoice WHERE CustomerRef = '12'", ["131"]),
        ("SELECT * FROM Invoice WHERE CustomerRef IN ('1', '2')", ["99", "130"]),
        ("SELECT * FROM Invoice WHERE DocNumber IN ('1037', '1038')", ["130", "131"]),
        ("SELECT * FROM Invoice WHERE DocNumber = 1037", ["130"]),
        ("SELECT * FROM Invoice WHERE Balance > '0' AND TotalAmt < 100", ["99"]),
        ("SELECT * FROM TimeActivity WHERE TxnDate > '2014-09-14'", ["3"]),
        ("SELECT * FROM TimeActivity WHERE TxnDate >= '2014-09-14'", ["3", "4"]),
        ("SELECT * FROM TimeActivity WHERE BillableStatus = 'Billable'", ["3"]),
        ("SELECT * FROM Invoice WHERE TxnDate <= '2019-12-20T23:59:59-08:00'", ["99", "130"]),
    ],
)
def test_where(text: str, expected: list[str]) -> None:
    assert ids(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Date only: midnight in the stored value's own offset (company local time).
        ("SELECT * FROM Customer WHERE MetaData.LastUpdatedTime > '2015-03-01'", ["1", "3"]),
        ("SELECT * FROM Customer WHERE Metadata.LastUpdatedTime >= '2015-03-02'", ["3"]),
        # Offsets in either form compare as instants: 2015-03-01T07:30Z == 2015-02-28T23:30-08:00.
        ("SELECT * FROM Customer WHERE MetaData.LastUpdatedTime = '2015-03-01T07:30:00Z'", ["2"]),
        (
            "SELECT * FROM Customer WHERE MetaData.LastUpdatedTime = '2015-03-01T10:30:00+0300'",
            ["2"],
        ),
        (
            "SELECT * FROM Customer WHERE MetaData.LastUpdatedTime > '2015-03-01T10:00:00-07:00'",
            ["1", "3"],
        ),
        (
            "SELECT * FROM Customer WHERE MetaData.LastUpdatedTime > '2015-03-01T10:00:00-0800'",
            ["3"],
        ),
        (
            "SELECT * FROM Customer WHERE METADATA.CREATETIME < '2011-08-10T10:20:30-0700'",
            [],
        ),
    ],
)
def test_timestamps(text: str, expected: list[str]) -> None:
    assert ids(text) == expected


# --- execute: ordering --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SELECT * FROM Invoice", ["99", "130", "131"]),
        ("SELECT * FROM Invoice ORDERBY Id DESC", ["131", "130", "99"]),
        ("SELECT * FROM Invoice ORDER BY TxnDate", ["99", "130", "131"]),
        ("SELECT * FROM Invoice orderby TotalAmt desc", ["130", "99", "131"]),
        ("SELECT * FROM Invoice ORDERBY CustomerRef", ["130", "99", "131"]),
        ("SELECT * FROM Customer ORDERBY DisplayName DESC MAXRESULTS 3", ["10", "3", "21"]),
        (
            "SELECT * FROM Customer ORDERBY Balance DESC, DisplayName",
            ["10", "1", "2", "29", "21", "3"],
        ),
        # Ties fall back to Id ascending; absent values sort first.
        (
            "SELECT * FROM Customer ORDERBY MetaData.LastUpdatedTime",
            ["10", "21", "29", "2", "1", "3"],
        ),
        ("SELECT * FROM Customer ORDERBY GivenName", ["2", "3", "10", "21", "29", "1"]),
        # Not a filterable property: still orderable.
        ("SELECT * FROM TimeActivity ORDERBY Hours", ["4", "3"]),
        ("SELECT * FROM TimeActivity ORDERBY EmployeeRef DESC", ["4", "3"]),
    ],
)
def test_order(text: str, expected: list[str]) -> None:
    assert ids(text) == expected


# --- robustness ---------------------------------------------------------------------------

_FRAGMENTS = [
    "SELECT", "*", "COUNT(*)", "FROM", "Customer", "Invoice", "Item", "WHERE", "AND", "OR",
    "ORDERBY", "ORDER", "BY", "ASC", "DESC", "STARTPOSITION", "MAXRESULTS", "IN", "LIKE",
    "=", "<", ">", "<=", ">=", "(", ")", ",", "'", "\\'", "'%a%'", "'x'", "' '", "1", "-3",
    "1.5", "99999999999999999999", "true", "false", "Id", "DisplayName", "Active",
    "MetaData.LastUpdatedTime", "Balance", "CustomerRef", "TxnDate", "'2015-03-01'",
    "'2015-02-30T25:61:00-2500'", "\u2019", "\u2013", "é", "日本", "\U0001f600", "\x00",
    "\\", '"', ";", "--", "/*", "%", "\n", "\t", "DROP TABLE", "1=1",
]  # fmt: skip


def _random_query(rng: random.Random) -> str:
    """Mostly well-formed statements with random conditions, sprinkled with noise."""
    parts = ["SELECT", rng.choice(["*", "COUNT(*)"]), "FROM", rng.choice(list(DATA))]
    for _ in range(rng.randint(0, 3)):
        parts += [rng.choice(["WHERE", "AND"]), rng.choice(_PROPS), rng.choice(_OPS)]
        parts.append(rng.choice(_VALUES))
    parts += rng.choice([[], ["ORDERBY", rng.choice(_PROPS), rng.choice(["", "DESC"])]])
    parts += rng.choice([[], ["STARTPOSITION", rng.choice(["0", "2", "-1"])]])
    parts += rng.choice([[], ["MAXRESULTS", rng.choice(["1", "1000", "1001", "0"])]])
    for _ in range(rng.choice([0, 0, 1, 2])):
        noise = rng.choice(_FRAGMENTS)
        if rng.random() < 0.2:
            noise = "".join(chr(rng.randint(0, 0x2FFF)) for _ in range(rng.randint(1, 3)))
        parts.insert(rng.randint(0, len(parts)), noise)
    return rng.choice(["", " ", " ", "\n"]).join(parts)


_PROPS = ["Id", "DisplayName", "Active", "MetaData.LastUpdatedTime", "Balance", "CustomerRef",
          "TxnDate", "Name", "PrimaryEmailAddr", "Notes", "metadata.createtime"]  # fmt: skip
_OPS = ["=", "<", ">", "<=", ">=", "LIKE", "IN"]
_VALUES = ["'x'", "'%a%'", "' '", "1", "-3", "1.5", "true", "('1', 2)", "(true, false)",
           "'2015-03-01'", "'2015-03-01T10:00:00-0700'", "'\\'; DROP TABLE x; --'",
           "'日本 é'", "'0.0'", "'2015-02-30'"]  # fmt: skip


def test_random_queries_only_ever_raise_query_error() -> None:
    rng = random.Random(20240611)
    outcomes = {"ok": 0, "4000": 0, "4001": 0}
    for _ in range(4000):
        text = _random_query(rng)
        try:
            result = run(text)
        except QueryError as err:
            assert err.code in ("4000", "4001"), text
            outcomes[err.code] += 1
        else:
            assert isinstance(result, dict), text
            outcomes["ok"] += 1
    assert min(outcomes.values()) > 50, outcomes  # the generator reaches every outcome


@pytest.mark.parametrize(
    ("value", "pattern", "expected"),
    [
        ("Consulting Hours", "consult%", True),
        ("Consulting Hours", "%HOURS", True),
        ("Consulting Hours", "%ting%ou%", True),
        ("Consulting Hours", "%ou%ting%", False),
        ("Consulting Hours", "Consulting Hours", True),
        ("Consulting Hours", "Consulting", False),
        ("aba", "ab%ba", False),  # head and tail may not overlap
        ("abba", "ab%ba", True),
        ("a.b", "a_b", False),
        ("x", "%", True),
        ("", "%", True),
        ("a" * 500, "%a" * 40 + "%b", False),  # no backtracking blow-up
    ],
)
def test_like(value: str, pattern: str, expected: bool) -> None:
    assert like(value, pattern) is expected
