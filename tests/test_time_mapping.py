"""TimeEntry -> TimeActivity payloads and employee matching, pure and table-driven."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from portal.qbo.mapping import time as mapping
from portal.qbo.sync.employees import Directory, is_payroll_hold, squash


@dataclass
class Entry:
    id: int = 7
    entry_date: date = date(2024, 4, 2)
    hours: Decimal = Decimal("1.25")
    description: str | None = "Prepared 1040"
    billable: bool = True


@dataclass
class Staff:
    name: str
    email: str


@pytest.mark.parametrize(("hours", "expected"), [
    ("1", (1, 0)),
    ("1.25", (1, 15)),
    ("0.5", (0, 30)),
    ("0.01", (0, 1)),  # 0.6 min rounds to 1: QBO refuses a zero duration (6380)
    ("0.33", (0, 20)),  # 19.8 min
    ("2.99", (2, 59)),  # 179.4 min
    ("7.999", (8, 0)),  # 479.94 min rounds up into the next hour
    ("24", (24, 0)),
])
def test_hours_become_whole_hours_and_minutes(hours, expected):
    assert mapping.hours_minutes(Decimal(hours)) == expected


@pytest.mark.parametrize("hours", ["0", "-1"])
def test_no_hours_is_refused(hours):
    with pytest.raises(ValueError):
        mapping.hours_minutes(Decimal(hours))


def test_billable_payload_has_customer_rate_item_and_marker():
    body = mapping.time_activity_payload(Entry(), firm_id=3, employee_id="56",
                                         hourly_rate=Decimal("150"), customer_id="12",
                                         item_id="19")
    assert body == {
        "NameOf": "Employee",
        "EmployeeRef": {"value": "56"},
        "TxnDate": "2024-04-02",
        "Hours": 1,
        "Minutes": 15,
        "Description": "Prepared 1040 [PP-3-7]",
        "BillableStatus": "Billable",
        "HourlyRate": 150.0,
        "CustomerRef": {"value": "12"},
        "ItemRef": {"value": "19"},
    }


@pytest.mark.parametrize(("fields", "customer", "item", "expected"), [
    # internal time: no client, not billable, no rate requirement, no item
    ({"billable": False, "description": ""}, None, None,
     {"BillableStatus": "NotBillable", "HourlyRate": 0, "Description": "[PP-3-7]"}),
    # not billable for a client: the client still goes as CustomerRef
    ({"billable": False}, "12", None,
     {"BillableStatus": "NotBillable", "HourlyRate": 0, "CustomerRef": {"value": "12"}}),
    # whitespace in the description is squashed
    ({"description": "  two\n lines\t here "}, "12", None,
     {"Description": "two lines here [PP-3-7]"}),
])
def test_payload_variants(fields, customer, item, expected):
    body = mapping.time_activity_payload(Entry(**fields), firm_id=3, employee_id="56",
                                         hourly_rate=Decimal("0"), customer_id=customer,
                                         item_id=item)
    for key, value in expected.items():
        assert body[key] == value
    assert ("CustomerRef" in body) == (customer is not None)
    assert "ItemRef" not in body


def test_billable_without_customer_is_refused_before_any_call():
    with pytest.raises(ValueError, match="client"):
        mapping.time_activity_payload(Entry(billable=True), firm_id=3, employee_id="56",
                                      hourly_rate=Decimal("100"), customer_id=None)


def test_long_descriptions_are_cut_and_keep_the_marker():
    body = mapping.time_activity_payload(Entry(description="x" * 5000, billable=False),
                                         firm_id=3, employee_id="56", hourly_rate=None)
    assert len(body["Description"]) <= mapping.DESCRIPTION_MAX
    assert body["Description"].endswith("... [PP-3-7]")
    assert mapping.marker_of(body["Description"]) == (3, 7)


@pytest.mark.parametrize(("text", "expected"), [
    ("Prepared 1040 [PP-3-7]", (3, 7)),
    ("[PP-12-99001]", (12, 99001)),
    ("someone typed [PP-1-2] then ours [PP-3-4]", (3, 4)),
    ("no marker", None),
    (None, None),
    ("[PP-x-1]", None),
])
def test_marker_is_read_back(text, expected):
    assert mapping.marker_of(text) == expected


@pytest.mark.parametrize(("portal", "qbo", "flagged"), [
    (Decimal("150"), 150, False),
    (Decimal("150"), "150.00", False),
    (Decimal("150"), 120, True),
    (Decimal("150"), None, False),  # no BillRate in QBO: nothing to disagree with
    (Decimal("0"), 0, False),
    (None, 95.5, True),
])
def test_rate_mismatch(portal, qbo, flagged):
    assert mapping.rate_mismatch(portal, qbo) is flagged


# -- employee matching --------------------------------------------------------------------------
EMPLOYEES = [
    {"Id": "56", "GivenName": "Alice", "FamilyName": "Nguyen", "DisplayName": "Alice Nguyen",
     "PrimaryEmailAddr": {"Address": "alice@demo.example"}, "Active": True, "BillRate": 150},
    {"Id": "57", "GivenName": "Bob", "FamilyName": "Martinez", "DisplayName": "Bob Martinez",
     "PrimaryEmailAddr": {"Address": "bob@other.example"}, "Active": True},
    {"Id": "58", "GivenName": "Maria", "FamilyName": "Lopez", "DisplayName": "Maria Lopez",
     "PrimaryEmailAddr": {"Address": "maria@demo.example"}, "Active": True},
    {"Id": "59", "GivenName": "Old", "FamilyName": "Timer", "DisplayName": "Old Timer",
     "PrimaryEmailAddr": {"Address": "old@demo.example"}, "Active": False},
    {"Id": "60", "GivenName": "Jo", "MiddleName": "Ann", "FamilyName": "Ray",
     "DisplayName": "Jo Ann Ray", "PrimaryEmailAddr": {"Address": "jo@demo.example"},
     "Active": True},
]


@pytest.mark.parametrize(("name", "email", "employee_id", "reason"), [
    ("Alice Nguyen", "alice@demo.example", "56", None),
    ("  alice   NGUYEN ", "ALICE@demo.example ", "56", None),  # case and spacing
    ("Jo Ray", "jo@demo.example", "60", None),  # given + family without the middle name
    ("Bob Martinez", "bob@demo.example", None, "same name but email bob@other.example"),
    ("Maria Lopes", "maria@demo.example", None, "has this email but another name"),
    ("Old Timer", "old@demo.example", None, "is inactive"),
    ("Nobody Here", "nobody@demo.example", None, "no QuickBooks employee has this name"),
])
def test_employee_matching(name, email, employee_id, reason):
    match = Directory(EMPLOYEES).match(Staff(name, email))
    assert match.employee_id == employee_id
    if reason is None:
        assert match.ok and match.reason is None
    else:
        assert not match.ok
        assert reason in match.reason
        assert " ".join(name.split()) in match.reason and email in match.reason
        assert is_payroll_hold(match.reason)


def test_two_active_employees_with_the_same_name_and_email_are_ambiguous():
    twins = EMPLOYEES + [dict(EMPLOYEES[0], Id="61")]
    match = Directory(twins).match(Staff("Alice Nguyen", "alice@demo.example"))
    assert not match.ok and "several active QuickBooks employees" in match.reason


def test_an_active_match_wins_over_an_inactive_namesake():
    both = [dict(EMPLOYEES[0], Id="70", Active=False), EMPLOYEES[0]]
    assert Directory(both).match(Staff("Alice Nguyen", "alice@demo.example")).employee_id == "56"


def test_squash():
    assert squash("  A  b\tC ") == "a b c"
    assert squash(None) == ""
