"""Which entities can be queried and which of their properties are filterable, with types.

Sources: reference §3 "filterable" lists (Customer, Item, Invoice, TimeActivity; Id and
MetaData times on every entity). Vendor follows quickbooks-ruby #403, where QBO answered 4001
for ``PrimaryEmailAddr`` and listed Balance, AcctNum, Vendor1099 as not filterable. Employee,
Payment, Account and the remaining entities are reasonable guesses: UNCONFIRMED.
"""

from __future__ import annotations

from dataclasses import dataclass

# Kinds drive coercion of literals and comparison: id (numeric-aware string), str
# (case-insensitive), bool, num (Decimal), datetime (instant), date, ref (compares .value),
# email (compares .Address).


@dataclass(frozen=True)
class Field:
    name: str  # canonical property name as written in QBO docs
    kind: str
    path: tuple[str, ...]  # keys to walk in the entity dict


def _f(name: str, kind: str) -> Field:
    path = tuple(name.split("."))
    if kind == "ref":
        path += ("value",)
    elif kind == "email":
        path += ("Address",)
    return Field(name, kind, path)


_BASE = {
    "Id": "id",
    "MetaData.CreateTime": "datetime",
    "MetaData.LastUpdatedTime": "datetime",
}
_PERSON = {
    "DisplayName": "str", "GivenName": "str", "MiddleName": "str", "FamilyName": "str",
    "PrintOnCheckName": "str", "Active": "bool",
}  # fmt: skip
_LIST = {"Name": "str", "Active": "bool"}
_SALE = {"DocNumber": "str", "TxnDate": "date", "CustomerRef": "ref", "TotalAmt": "num"}
_BUY = {"DocNumber": "str", "TxnDate": "date", "VendorRef": "ref", "TotalAmt": "num"}

_SPECS: dict[str, dict[str, str]] = {
    "Customer": {
        **_PERSON, "CompanyName": "str", "PrimaryEmailAddr": "email", "Balance": "num",
        "FullyQualifiedName": "str",
    },
    "Vendor": {**_PERSON, "CompanyName": "str"},
    "Employee": {**_PERSON, "PrimaryEmailAddr": "email", "EmployeeNumber": "str"},
    "Item": {**_LIST, "Type": "str", "Sku": "str", "FullyQualifiedName": "str"},
    "Account": {
        **_LIST, "AccountType": "str", "AccountSubType": "str", "Classification": "str",
        "FullyQualifiedName": "str", "CurrentBalance": "num", "SubAccount": "bool",
    },
    "Invoice": {**_SALE, "DueDate": "date", "Balance": "num"},
    "TimeActivity": {"TxnDate": "date", "BillableStatus": "str", "ProjectRef": "ref"},
    "Payment": {"TxnDate": "date", "CustomerRef": "ref", "TotalAmt": "num", "PaymentRefNum": "str"},
    "Estimate": dict(_SALE),
    "SalesReceipt": dict(_SALE),
    "CreditMemo": {**_SALE, "Balance": "num"},
    "RefundReceipt": dict(_SALE),
    "Bill": {**_BUY, "DueDate": "date", "Balance": "num"},
    "BillPayment": dict(_BUY),
    "PurchaseOrder": dict(_BUY),
    "VendorCredit": dict(_BUY),
    "Purchase": {"DocNumber": "str", "TxnDate": "date", "TotalAmt": "num"},
    "JournalEntry": {"DocNumber": "str", "TxnDate": "date"},
    "Deposit": {"TxnDate": "date", "TotalAmt": "num"},
    "Transfer": {"TxnDate": "date", "Amount": "num"},
    "Class": {**_LIST, "FullyQualifiedName": "str"},
    "Department": {**_LIST, "FullyQualifiedName": "str"},
    "Term": dict(_LIST),
    "PaymentMethod": dict(_LIST),
    "TaxCode": dict(_LIST),
    "TaxRate": dict(_LIST),
    "TaxAgency": {"DisplayName": "str"},
    "Attachable": {},
    "Budget": {},
    "CompanyInfo": {},
    "Preferences": {},
    "CompanyCurrency": {"Code": "str", "Active": "bool"},
}  # fmt: skip

FIELDS: dict[str, dict[str, Field]] = {
    entity: {name.lower(): _f(name, kind) for name, kind in {**_BASE, **spec}.items()}
    for entity, spec in _SPECS.items()
}
ENTITIES: dict[str, str] = {name.lower(): name for name in _SPECS}
# Name-list entities whose inactive records QBO hides unless the query filters on Active.
NAME_ENTITIES = frozenset({"Customer", "Vendor", "Employee", "Item", "Account"})


def field(entity: str, prop: str) -> Field | None:
    """The filterable property ``prop`` (any casing, e.g. ``Metadata.LastUpdatedTime``)."""
    return FIELDS[entity].get(prop.lower())
