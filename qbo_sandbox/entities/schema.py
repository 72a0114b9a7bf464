"""Field schemas: which properties each entity accepts, their types and maximum lengths.

QBO rejects unknown properties (2010) and over-long strings (2050), so the sandbox must know
every property a client may send. Specs are short strings:
``s:N`` string of at most N chars (0 = unlimited), ``b`` bool, ``n`` number, ``i`` integer,
``d`` date, ``dt`` dateTime, ``ref``/``email``/``phone``/``addr``/``web``/``memo`` nested objects,
``obj``/``list`` free-form, ``ro`` read-only (accepted, ignored on write), ``lines``
transaction lines.
"""

from __future__ import annotations

from typing import Any

from ..errors import QboFault, bad_length, fault, unrecognized

NESTED: dict[str, dict[str, str]] = {
    "ref": {"value": "s:0", "name": "s:0", "type": "s:0"},
    "email": {"Address": "s:100"},
    "phone": {"FreeFormNumber": "s:30"},
    "web": {"URI": "s:1000"},
    "memo": {"value": "s:1000"},
    "addr": {
        "Id": "ro",
        "Line1": "s:500",
        "Line2": "s:500",
        "Line3": "s:500",
        "Line4": "s:500",
        "Line5": "s:500",
        "City": "s:255",
        "Country": "s:255",
        "CountrySubDivisionCode": "s:255",
        "PostalCode": "s:30",
        "Lat": "s:0",
        "Long": "s:0",
        "Note": "s:0",
    },
}
NESTED_CLASS = {
    "ref": "ReferenceType",
    "email": "EmailAddress",
    "phone": "TelephoneNumber",
    "web": "WebSiteAddress",
    "memo": "MemoRef",
    "addr": "PhysicalAddress",
}

COMMON = {
    "Id": "ro",
    "SyncToken": "ro",
    "domain": "ro",
    "sparse": "b",
    "MetaData": "ro",
    "status": "ro",
}

PERSON = {
    "DisplayName": "s:500",
    "Title": "s:16",
    "GivenName": "s:100",
    "MiddleName": "s:100",
    "FamilyName": "s:100",
    "Suffix": "s:16",
    "PrintOnCheckName": "s:110",
    "Active": "b",
    "PrimaryEmailAddr": "email",
    "PrimaryPhone": "phone",
    "Mobile": "phone",
    "AlternatePhone": "phone",
    "Fax": "phone",
    "V4IDPseudonym": "ro",
}

SCHEMAS: dict[str, dict[str, str]] = {
    "Customer": {
        **COMMON,
        **PERSON,
        "CompanyName": "s:100",
        "FullyQualifiedName": "ro",
        "Notes": "s:2000",
        "WebAddr": "web",
        "BillAddr": "addr",
        "ShipAddr": "addr",
        "Taxable": "b",
        "Job": "b",
        "BillWithParent": "b",
        "ParentRef": "ref",
        "Level": "ro",
        "Balance": "n",
        "OpenBalanceDate": "d",
        "BalanceWithJobs": "ro",
        "PreferredDeliveryMethod": "s:0",
        "CurrencyRef": "ref",
        "DefaultTaxCodeRef": "ref",
        "SalesTermRef": "ref",
        "PaymentMethodRef": "ref",
        "ResaleNum": "s:16",
        "IsProject": "b",
        "TaxExemptionReasonId": "s:0",
        "ARAccountRef": "ref",
        "PrimaryTaxIdentifier": "s:0",
    },
    "Vendor": {
        **COMMON,
        **PERSON,
        "CompanyName": "s:100",
        "WebAddr": "web",
        "BillAddr": "addr",
        "Vendor1099": "b",
        "AcctNum": "s:100",
        "TaxIdentifier": "s:20",
        "Balance": "ro",
        "CurrencyRef": "ref",
        "TermRef": "ref",
        "Notes": "s:2000",
        "APAccountRef": "ref",
        "BillRate": "n",
        "CostRate": "n",
    },
    "Employee": {
        **COMMON,
        **PERSON,
        "PrimaryAddr": "addr",
        "EmployeeNumber": "s:15",
        "SSN": "s:15",
        "BirthDate": "d",
        "HiredDate": "d",
        "ReleasedDate": "d",
        "Gender": "s:0",
        "BillableTime": "b",
        "BillRate": "n",
        "CostRate": "n",
        "Notes": "s:4000",
        "Organization": "b",
    },
    "Item": {
        **COMMON,
        "Name": "s:100",
        "Sku": "s:100",
        "Description": "s:4000",
        "PurchaseDesc": "s:4000",
        "Active": "b",
        "FullyQualifiedName": "ro",
        "Type": "s:0",
        "UnitPrice": "n",
        "PurchaseCost": "n",
        "Taxable": "b",
        "SalesTaxIncluded": "b",
        "PurchaseTaxIncluded": "b",
        "TrackQtyOnHand": "b",
        "QtyOnHand": "n",
        "InvStartDate": "d",
        "IncomeAccountRef": "ref",
        "ExpenseAccountRef": "ref",
        "AssetAccountRef": "ref",
        "SalesTaxCodeRef": "ref",
        "PurchaseTaxCodeRef": "ref",
        "ParentRef": "ref",
        "SubItem": "b",
        "Level": "ro",
        "ClassRef": "ref",
        "PrefVendorRef": "ref",
    },
    "Invoice": {
        **COMMON,
        "DocNumber": "s:21",
        "TxnDate": "d",
        "DueDate": "d",
        "ShipDate": "d",
        "CustomerRef": "ref",
        "Line": "lines",
        "CustomerMemo": "memo",
        "PrivateNote": "s:4000",
        "BillAddr": "addr",
        "ShipAddr": "addr",
        "ShipFromAddr": "addr",
        "BillEmail": "email",
        "BillEmailCc": "email",
        "BillEmailBcc": "email",
        "SalesTermRef": "ref",
        "TotalAmt": "ro",
        "Balance": "ro",
        "LinkedTxn": "list",
        "EmailStatus": "s:0",
        "PrintStatus": "s:0",
        "CurrencyRef": "ref",
        "TxnTaxDetail": "obj",
        "GlobalTaxCalculation": "s:0",
        "ApplyTaxAfterDiscount": "b",
        "Deposit": "n",
        "CustomField": "list",
        "AllowIPNPayment": "b",
        "AllowOnlinePayment": "b",
        "AllowOnlineACHPayment": "b",
        "AllowOnlineCreditCardPayment": "b",
        "EInvoiceStatus": "ro",
        "RecurDataRef": "ref",
        "TaxExemptionRef": "ref",
        "ClassRef": "ref",
        "DepartmentRef": "ref",
        "HomeTotalAmt": "ro",
        "HomeBalance": "ro",
        "ExchangeRate": "n",
        "InvoiceLink": "ro",
        "DeliveryInfo": "ro",
        "TrackingNum": "s:0",
        "ShipMethodRef": "ref",
        "FreeFormAddress": "b",
        "DepositToAccountRef": "ref",
        "TxnSource": "s:0",
        "ProjectRef": "ref",
    },
    "Payment": {
        **COMMON,
        "CustomerRef": "ref",
        "TotalAmt": "n",
        "Line": "list",
        "TxnDate": "d",
        "PaymentRefNum": "s:21",
        "PaymentMethodRef": "ref",
        "DepositToAccountRef": "ref",
        "ARAccountRef": "ref",
        "UnappliedAmt": "ro",
        "PrivateNote": "s:4000",
        "CurrencyRef": "ref",
        "ProcessPayment": "b",
        "TxnStatus": "s:0",
        "CreditCardPayment": "obj",
        "ExchangeRate": "n",
        "ProjectRef": "ref",
    },
    "TimeActivity": {
        **COMMON,
        "TxnDate": "d",
        "NameOf": "s:0",
        "EmployeeRef": "ref",
        "VendorRef": "ref",
        "OtherNameRef": "ref",
        "CustomerRef": "ref",
        "ItemRef": "ref",
        "ClassRef": "ref",
        "DepartmentRef": "ref",
        "ProjectRef": "ref",
        "PayrollItemRef": "ref",
        "BillableStatus": "s:0",
        "Taxable": "b",
        "HourlyRate": "n",
        "CostRate": "n",
        "Hours": "obj",
        "Minutes": "obj",
        "BreakHours": "obj",
        "BreakMinutes": "obj",
        "StartTime": "dt",
        "EndTime": "dt",
        "Description": "s:4000",
        "TimeZone": "s:0",
    },
    "CompanyInfo": {
        **COMMON,
        "CompanyName": "s:1024",
        "LegalName": "s:1024",
        "CompanyAddr": "addr",
        "CustomerCommunicationAddr": "addr",
        "LegalAddr": "addr",
        "PrimaryPhone": "phone",
        "Email": "email",
        "CustomerCommunicationEmailAddr": "email",
        "WebAddr": "web",
        "CompanyStartDate": "d",
        "FiscalYearStartMonth": "s:0",
        "Country": "s:0",
        "SupportedLanguages": "s:0",
        "NameValue": "list",
    },
    "Preferences": {
        **COMMON,
        "AccountingInfoPrefs": "obj",
        "ProductAndServicesPrefs": "obj",
        "SalesFormsPrefs": "obj",
        "EmailMessagesPrefs": "obj",
        "VendorAndPurchasesPrefs": "obj",
        "TimeTrackingPrefs": "obj",
        "TaxPrefs": "obj",
        "CurrencyPrefs": "obj",
        "ReportPrefs": "obj",
        "OtherPrefs": "obj",
    },
}

LINE = {
    "Id": "s:0",
    "LineNum": "i",
    "Amount": "n",
    "Description": "s:4000",
    "DetailType": "s:0",
    "LinkedTxn": "list",
    "SalesItemLineDetail": "obj",
    "DescriptionLineDetail": "obj",
    "SubTotalLineDetail": "obj",
    "DiscountLineDetail": "obj",
    "GroupLineDetail": "obj",
    "ProjectRef": "ref",
    "CustomField": "list",
    "LineEx": "obj",
}
LINE_DETAILS = {
    "SalesItemLineDetail": {
        "ItemRef": "ref",
        "Qty": "n",
        "UnitPrice": "n",
        "ServiceDate": "d",
        "TaxCodeRef": "ref",
        "ClassRef": "ref",
        "ItemAccountRef": "ref",
        "DiscountRate": "n",
        "DiscountAmt": "n",
        "MarkupInfo": "obj",
        "TaxInclusiveAmt": "n",
        "TaxClassificationRef": "ref",
    },
    "DescriptionLineDetail": {"ServiceDate": "d", "TaxCodeRef": "ref"},
    "SubTotalLineDetail": {"ItemRef": "ref"},
    "DiscountLineDetail": {
        "PercentBased": "b",
        "DiscountPercent": "n",
        "DiscountAccountRef": "ref",
        "ClassRef": "ref",
        "TaxCodeRef": "ref",
    },
    "GroupLineDetail": {"GroupItemRef": "ref", "Quantity": "n", "Line": "list"},
}
PAYMENT_LINE = {"Amount": "n", "LinkedTxn": "list", "LineEx": "obj"}
LINKED_TXN = {"TxnId": "s:0", "TxnType": "s:0", "TxnLineId": "s:0"}


def _type_error(name: str, value: Any, cls: str) -> QboFault:
    return fault(
        "2010",
        "Request has invalid or unsupported property",
        f"Property Name:Can not construct instance of {cls}.{name} from value {value!r}",
        name,
    )


def check_object(obj: Any, spec: dict[str, str], cls: str, path: str = "") -> None:
    """Raise 2010 for unknown properties or wrong JSON types, 2050 for over-long strings."""
    if not isinstance(obj, dict):
        raise _type_error(path or cls, obj, cls)
    for name, value in obj.items():
        kind = spec.get(name)
        where = f"{path}.{name}" if path else name
        if kind is None:
            raise unrecognized(name, cls)
        if value is None or kind in ("ro", "obj", "list", "lines"):
            if kind in ("list", "lines") and value is not None and not isinstance(value, list):
                raise _type_error(where, value, cls)
            continue
        if kind.startswith("s:"):
            if not isinstance(value, str):
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    continue  # Jackson coerces numbers to strings
                raise _type_error(where, value, cls)
            limit = int(kind[2:])
            if limit and len(value) > limit:
                raise bad_length(where, limit, len(value))
        elif kind == "b":
            if not isinstance(value, bool):
                raise _type_error(where, value, cls)
        elif kind in ("n", "i"):
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise _type_error(where, value, cls)
            try:
                float(value)
            except ValueError:
                raise _type_error(where, value, cls) from None
        elif kind in ("d", "dt"):
            if not isinstance(value, str):
                raise _type_error(where, value, cls)
        elif kind in NESTED:
            check_object(value, NESTED[kind], NESTED_CLASS[kind], where)


def check_lines(lines: list[Any]) -> None:
    for line in lines:
        check_object(line, LINE, "Line", "Line")
        for detail, spec in LINE_DETAILS.items():
            if isinstance(line.get(detail), dict):
                check_object(line[detail], spec, detail, f"Line.{detail}")
        for linked in line.get("LinkedTxn") or []:
            check_object(linked, LINKED_TXN, "LinkedTxn", "Line.LinkedTxn")


def blank_dates_to_null(payload: dict[str, Any], spec: dict[str, str]) -> None:
    """An empty string in a date/dateTime property (top level or in a line detail) means "not
    given": python-quickbooks sends ``"TxnDate": ""``, ``"DueDate": ""``, ``"ServiceDate": ""``
    ... on every object it writes and QBO defaults them rather than echoing ``""``. Likewise a
    blank ref ``type`` is dropped."""
    for name, kind in spec.items():
        value = payload.get(name)
        if value == "" and kind in ("d", "dt"):
            payload[name] = None
        elif kind == "ref" and isinstance(value, dict) and value.get("type") == "":
            del value["type"]
        elif kind == "lines" and isinstance(value, list):
            for line in value:
                for detail, detail_spec in LINE_DETAILS.items():
                    if isinstance(line, dict) and isinstance(line.get(detail), dict):
                        blank_dates_to_null(line[detail], detail_spec)


def writable(entity: str) -> list[str]:
    """Properties a full update resets to null when omitted."""
    return [k for k, v in SCHEMAS[entity].items() if v != "ro" and k not in COMMON]
