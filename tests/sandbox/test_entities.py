"""Entity rules over HTTP (reference §2.5, §4, §8, checklist §11 items 3-5, 7, 8, 10-12)."""

from __future__ import annotations

import re

import pytest
import requests

from .conftest import fault_of


def test_create_response_shape_and_null_omission(api):
    resp = api.post(
        "customer",
        {
            "DisplayName": "King's Groceries",
            "CompanyName": "King Groceries",
            "Notes": None,
            "BillAddr": {"Line1": "123 Main Street", "City": "Mountain View"},
        },
    )
    assert resp.status_code == 200 and resp.headers["intuit_tid"]
    body = resp.json()
    cust = body["Customer"]
    assert cust["SyncToken"] == "0" and cust["domain"] == "QBO" and cust["sparse"] is False
    assert cust["Active"] is True and cust["FullyQualifiedName"] == "King's Groceries"
    assert "Notes" not in cust and cust["BillAddr"]["Id"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-08:00", cust["MetaData"]["CreateTime"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}-08:00", body["time"])


def test_minorversion_below_75_is_accepted(api):
    assert api.get("customer/1", minorversion="4").status_code == 200


def test_read_missing_is_610(api):
    resp = api.get("customer/99999")
    assert resp.status_code == 400 and fault_of(resp)["code"] == "610"


@pytest.mark.parametrize("entity", ["Customer", "Vendor", "Employee"])
def test_display_name_unique_across_people_case_insensitive(api, entity):
    body = {"DisplayName": "AMY'S BIRD SANCTUARY"}
    if entity == "Employee":
        body |= {"GivenName": "Amy", "FamilyName": "B"}
    resp = api.post(entity.lower(), body)
    err = fault_of(resp)
    assert resp.status_code == 400
    assert (err["code"], err["Message"]) == ("6240", "Duplicate Name Exists Error")
    assert err["Detail"] == "The name supplied already exists. : Id=1"


def test_inactive_names_still_block(api):
    emp = api.create("Employee", {"GivenName": "Gone", "FamilyName": "Person"})
    api.post(
        "employee",
        {"Id": emp["Id"], "SyncToken": emp["SyncToken"], "sparse": True, "Active": False},
    )
    err = fault_of(api.post("customer", {"DisplayName": "gone person"}))
    assert err["code"] == "6240" and err["Detail"].endswith(f"Id={emp['Id']}")


@pytest.mark.parametrize("name", ["Rob:Barnett", "Tab\tName", "New\nLine"])
def test_forbidden_characters_2040(api, name):
    err = fault_of(api.post("customer", {"DisplayName": name}))
    assert err["code"] == "2040" and err["element"] == "DisplayName"


def test_lengths_2050(api):
    err = fault_of(api.post("customer", {"DisplayName": "x" * 501}))
    assert err["code"] == "2050"
    assert err["Detail"] == (
        "String length specified does not match the supported length. Min:0 Max:500 "
        "supported. Supplied length:501"
    )


def test_unknown_property_2010(api):
    err = fault_of(api.post("customer", {"DisplayName": "New One", "Colour": "red"}))
    assert err["code"] == "2010" and 'Unrecognized field "Colour"' in err["Detail"]


def test_missing_name_6080_and_employee_required_2020(api):
    assert fault_of(api.post("customer", {"Notes": "x"}))["code"] == "6080"
    err = fault_of(api.post("employee", {"GivenName": "Solo"}))
    assert (err["code"], err["element"]) == ("2020", "FamilyName")


def test_display_name_generated_from_parts(api):
    assert (
        api.create("Customer", {"GivenName": "Jane", "FamilyName": "Roe"})["DisplayName"]
        == "Jane Roe"
    )


def test_sync_token_and_stale_5010_with_and_without_operation_update(api):
    cust = api.create("Customer", {"DisplayName": "Sync Test"})
    one = api.post("customer", {"Id": cust["Id"], "SyncToken": "0", "sparse": True, "Notes": "a"})
    assert (
        one.json()["Customer"]["SyncToken"] == "1"
        and one.json()["Customer"]["DisplayName"] == "Sync Test"
    )
    stale = api.post(
        "customer",
        {"Id": cust["Id"], "SyncToken": "0", "sparse": True, "Notes": "b"},
        operation="update",
    )
    err = fault_of(stale)
    assert (err["code"], err["Message"]) == ("5010", "Stale Object Error")
    two = api.post(
        "customer",
        {"Id": cust["Id"], "SyncToken": "1", "sparse": True, "Notes": "b"},
        operation="update",
    )
    assert two.json()["Customer"]["SyncToken"] == "2"


def test_full_update_nulls_omitted_fields(api):
    cust = api.create(
        "Customer", {"DisplayName": "Full Upd", "Notes": "keep?", "CompanyName": "Co"}
    )
    upd = api.post(
        "customer", {"Id": cust["Id"], "SyncToken": "0", "DisplayName": "Full Upd"}
    ).json()["Customer"]
    assert "Notes" not in upd and "CompanyName" not in upd


def test_deactivate_customer_with_balance_6220(api):
    cust = api.get("customer/1").json()["Customer"]
    assert cust["Balance"] == 100
    err = fault_of(
        api.post(
            "customer", {"Id": "1", "SyncToken": cust["SyncToken"], "sparse": True, "Active": False}
        )
    )
    assert err["code"] == "6220"


def test_names_cannot_be_deleted(api):
    err = fault_of(api.post("customer", {"Id": "2", "SyncToken": "0"}, operation="delete"))
    assert err["code"] == "500"


def invoice_body(customer="1", qty=2, price=50.0, amount=None, **extra):
    line = {
        "DetailType": "SalesItemLineDetail",
        "Amount": qty * price if amount is None else amount,
        "SalesItemLineDetail": {"ItemRef": {"value": "19"}, "Qty": qty, "UnitPrice": price},
    }
    return {"CustomerRef": {"value": customer}, "Line": [line], **extra}


def test_invoice_create_subtotal_docnumber_and_balance(api):
    inv = api.create("Invoice", invoice_body())
    assert inv["TotalAmt"] == 100 and inv["Balance"] == 100
    assert inv["Line"][-1] == {
        "Amount": 100.0,
        "DetailType": "SubTotalLineDetail",
        "SubTotalLineDetail": {},
    }
    assert inv["Line"][0]["SalesItemLineDetail"]["ItemRef"]["name"] == "TAX-IND"
    assert inv["DocNumber"] == "1004" and inv["CustomerRef"]["name"] == "Amy's Bird Sanctuary"
    nxt = api.create("Invoice", invoice_body())
    assert nxt["DocNumber"] == "1005"


def test_invoice_required_fields_2020(api):
    assert (
        fault_of(api.post("invoice", {"Line": invoice_body()["Line"]}))["element"] == "CustomerRef"
    )
    err = fault_of(api.post("invoice", {"CustomerRef": {"value": "1"}}))
    assert (err["code"], err["Detail"]) == (
        "2020",
        "Required parameter Line is missing in the request",
    )


def test_amount_mismatch_6070(api):
    assert fault_of(api.post("invoice", invoice_body(amount=99.0)))["code"] == "6070"


def test_duplicate_docnumber_6140_and_allow_include(api):
    err = fault_of(api.post("invoice", invoice_body(DocNumber="1001")))
    assert err["code"] == "6140" and "DocNumber=1001" in err["Detail"]
    ok = api.post("invoice", invoice_body(DocNumber="1001"), include="allowduplicatedocnum")
    assert ok.status_code == 200
    assert fault_of(api.post("invoice", invoice_body(DocNumber="1" * 22)))["code"] == "2050"


def test_bad_and_inactive_references(api):
    err = fault_of(api.post("invoice", invoice_body(customer="777")))
    assert (err["code"], err["Message"]) == ("2500", "Invalid Reference Id")
    cust = api.create("Customer", {"DisplayName": "Soon Inactive"})
    api.post("customer", {"Id": cust["Id"], "SyncToken": "0", "sparse": True, "Active": False})
    err = fault_of(api.post("invoice", invoice_body(customer=cust["Id"])))
    assert err["code"] == "610" and "made inactive" in err["Detail"]


def test_payment_lowers_balance_and_links(api):
    inv = api.create("Invoice", invoice_body())
    pay = api.create(
        "Payment",
        {
            "CustomerRef": {"value": "1"},
            "TotalAmt": 60,
            "Line": [{"Amount": 60, "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}],
        },
    )
    after = api.get(f"invoice/{inv['Id']}").json()["Invoice"]
    assert (
        after["Balance"] == 40 and {"TxnId": pay["Id"], "TxnType": "Payment"} in after["LinkedTxn"]
    )
    assert api.get("customer/1").json()["Customer"]["Balance"] == 140
    api.post("payment", {"Id": pay["Id"], "SyncToken": pay["SyncToken"]}, operation="delete")
    assert api.get(f"invoice/{inv['Id']}").json()["Invoice"]["Balance"] == 100


def test_delete_and_void(api):
    inv = api.create("Invoice", invoice_body())
    voided = api.post("invoice", {"Id": inv["Id"], "SyncToken": "0"}, operation="void").json()[
        "Invoice"
    ]
    assert voided["TotalAmt"] == 0 and voided["Balance"] == 0 and voided["SyncToken"] == "1"
    resp = api.post("invoice", {"Id": inv["Id"], "SyncToken": "1"}, operation="delete")
    assert resp.json()["Invoice"] == {"status": "Deleted", "domain": "QBO", "Id": inv["Id"]}
    assert fault_of(api.get(f"invoice/{inv['Id']}"))["code"] == "610"


def ta(**kw):
    return {"NameOf": "Employee", "EmployeeRef": {"value": "56"}, "TxnDate": "2024-05-01", **kw}


@pytest.mark.parametrize(
    "body,code",
    [
        (ta(Hours=2, VendorRef={"value": "30"}), "6290"),
        (ta(NameOf="Robot", Hours=1), "6300"),
        (ta(Hours=2, BillableStatus="Billable", HourlyRate=90), "6310"),
        (ta(Hours=2, BillableStatus="Billable", CustomerRef={"value": "1"}), "6330"),
        (
            ta(Hours=2, BillableStatus="HasBeenBilled", CustomerRef={"value": "1"}, HourlyRate=1),
            "6320",
        ),
        (ta(), "6340"),
        (ta(Hours=1.5), "6350"),
        (
            ta(
                StartTime="2024-05-01T09:00:00-08:00",
                EndTime="2024-05-01T10:00:00-08:00",
                BreakHours=2,
            ),
            "6360",
        ),
        (ta(StartTime="2024-05-01T12:00:00-08:00", EndTime="2024-05-01T10:00:00-08:00"), "6370"),
        (ta(Hours=2, Minutes=75), "6380"),
        (
            ta(Hours=2, StartTime="2024-05-01T09:00:00-08:00", EndTime="2024-05-01T10:00:00-08:00"),
            "6390",
        ),
    ],
)
def test_time_activity_rules(api, body, code):
    assert fault_of(api.post("timeactivity", body))["code"] == code


def test_time_activity_billed_by_invoice_link(api):
    entry = api.create(
        "TimeActivity",
        ta(
            Hours=2,
            Minutes=30,
            BillableStatus="Billable",
            CustomerRef={"value": "1"},
            HourlyRate=90,
            ItemRef={"value": "19"},
        ),
    )
    assert entry["EmployeeRef"]["name"] == "Alice Nguyen" and entry["Hours"] == 2
    api.create(
        "Invoice", invoice_body(LinkedTxn=[{"TxnId": entry["Id"], "TxnType": "TimeActivity"}])
    )
    assert (
        api.get(f"timeactivity/{entry['Id']}").json()["TimeActivity"]["BillableStatus"]
        == "HasBeenBilled"
    )
    gone = api.post("timeactivity", {"Id": entry["Id"], "SyncToken": "1"}, operation="delete")
    assert gone.json()["TimeActivity"]["status"] == "Deleted"


def test_companyinfo_and_preferences(api, sbx):
    info = api.get(f"companyinfo/{sbx.REALM_1}").json()["CompanyInfo"]
    assert info["CompanyName"] == "Sandbox Company_US_1"
    prefs = api.get("preferences").json()["Preferences"]
    assert prefs["SalesFormsPrefs"]["CustomTxnNumbers"] is False


def test_seeded_demo_items_and_staff(api):
    names = {i["Name"] for i in api.sbx.entities(api.realm, "Item")}
    assert {
        "TAX-IND",
        "TAX-BUS",
        "BOOKKEEPING",
        "PAYROLL",
        "ADVISORY",
        "AUDIT",
        "Services",
        "Hours",
    } <= names
    emails = {
        e.get("PrimaryEmailAddr", {}).get("Address")
        for e in api.sbx.entities(api.realm, "Employee")
    }
    assert {"alice@demo.example", "bob@demo.example", "maria@demo.example"} <= emails
    assert api.get("employee/54").json()["Employee"]["DisplayName"] == "John Johnson"
    assert api.sbx.entities(api.sbx.REALM_2, "Customer") == []


@pytest.mark.parametrize(
    "data,ctype,code",
    [
        (b"{not json", "application/json", "2010"),
        (b"DisplayName=x", "application/x-www-form-urlencoded", "500"),
        (b"\xff\xfe", "application/json", "500"),
    ],
)
def test_bad_input_gets_fault_shape(api, data, ctype, code):
    resp = requests.post(
        api.url("customer"), data=data, timeout=10, headers=api.headers({"Content-Type": ctype})
    )
    assert resp.status_code == 400 and fault_of(resp)["code"] == code


def test_unknown_entity_and_huge_body(api):
    resp = api.get("spaceship/1")
    assert resp.status_code == 400 and fault_of(resp)["code"] == "10000"
    big = requests.post(
        api.url("customer"),
        data=b'{"DisplayName": "' + b"x" * (5 * 1024 * 1024) + b'"}',
        headers=api.headers({"Content-Type": "application/json"}),
        timeout=30,
    )
    assert big.status_code == 413 and "Fault" in big.json()


def test_change_listener_sees_committed_writes(api):
    seen = []
    api.sbx.sandbox.add_change_listener(lambda *event: seen.append(event))
    try:
        cust = api.create("Customer", {"DisplayName": "Listen Here"})
        fault_of(api.post("customer", {"DisplayName": "Listen Here"}))
    finally:
        api.sbx.sandbox._listeners.clear()
    assert [(e[0], e[1], e[2], e[3], e[5]) for e in seen] == [
        (api.realm, "Customer", cust["Id"], "Create", None)
    ]
    assert seen[0][4].endswith("Z")


def test_file_database_survives_restart(tmp_path):
    from qbo_sandbox.testing import run_sandbox

    db = str(tmp_path / "qbo.sqlite")
    with run_sandbox({"db": db}) as first:
        from .conftest import Api

        api = Api(first, first.mint_tokens(first.REALM_1)["access_token"], first.REALM_1)
        cust = api.create("Customer", {"DisplayName": "Persistent Person"})
    with run_sandbox({"db": db}) as second:
        names = {c["DisplayName"]: c["Id"] for c in second.entities(second.REALM_1, "Customer")}
        assert names["Persistent Person"] == cust["Id"]
        assert len(second.entities(second.REALM_1, "Employee")) == 5  # not seeded twice
