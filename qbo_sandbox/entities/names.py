"""Name-list entities: Customer, Vendor, Employee and Item (reference §8.1, §8.2, §8.4).

Names are never deleted; ``Active: false`` is their delete. DisplayName is unique across
Customer, Vendor and Employee, case-insensitively and including inactive records (6240 with
``: Id=<n>``), and may not contain ':', tab or newline (2040).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import business, fault, required
from .base import Rules

if TYPE_CHECKING:
    from ..service import Ctx

NAME_PARTS = ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")
NO_SEPARATORS = ("DisplayName", *NAME_PARTS, "PrintOnCheckName")
PEOPLE = ("Customer", "Vendor", "Employee")
USD = {"value": "USD", "name": "United States Dollar"}
ITEM_TYPES = {"Service", "Inventory", "NonInventory", "Category"}


def check_separators(doc: dict[str, Any], fields: tuple[str, ...]) -> None:
    for name in fields:
        value = doc.get(name)
        if isinstance(value, str) and any(ch in value for ch in ":\t\n\r"):
            raise fault(
                "2040", "Invalid String", f"Element contains invalid characters: {value}", name
            )


def check_email(doc: dict[str, Any], field: str) -> None:
    address = (doc.get(field) or {}).get("Address")
    if address is not None and ("@" not in address or "." not in address):
        raise fault(
            "2210",
            "Invalid Email Address Format",
            "Email Address does not conform to the syntax rules of RFC 822. "
            f"Supplied value:{address}",
            f"{field}.Address",
        )


def address_ids(ctx: Ctx, doc: dict[str, Any], fields: tuple[str, ...]) -> None:
    """QBO gives every stored address its own Id."""
    for name in fields:
        addr = doc.get(name)
        if isinstance(addr, dict) and addr and "Id" not in addr:
            addr["Id"] = str(ctx.store.next_id(ctx.realm, "PhysicalAddress", 100))


def unique_display_name(ctx: Ctx, doc: dict[str, Any], entity: str) -> None:
    for other_type, other_id in ctx.store.find_by_name(
        ctx.realm, PEOPLE, "DisplayName", doc["DisplayName"]
    ):
        if other_type == entity and other_id == doc.get("Id"):
            continue
        raise fault(
            "6240",
            "Duplicate Name Exists Error",
            f"The name supplied already exists. : Id={other_id}",
            "",
        )


class PersonRules(Rules):
    """Shared by Customer, Vendor and Employee."""

    addresses: tuple[str, ...] = ()

    def prepare(
        self, ctx: Ctx, doc: dict[str, Any], old: dict[str, Any] | None, opts: dict[str, Any]
    ) -> None:
        check_separators(doc, NO_SEPARATORS)
        check_email(doc, "PrimaryEmailAddr")
        self.require(doc)
        if not doc.get("DisplayName"):
            parts = [str(doc[p]).strip() for p in NAME_PARTS if doc.get(p)]
            if parts:
                doc["DisplayName"] = " ".join(parts)
            elif old and old.get("DisplayName"):
                doc["DisplayName"] = old["DisplayName"]  # cannot be removed by an update
            else:
                raise fault(
                    "6080",
                    "No Name Provided",
                    "Please provide at least one of Title, GivenName, MiddleName, FamilyName, "
                    "DisplayName, Suffix",
                    "",
                )
        unique_display_name(ctx, doc, self.entity)
        if not doc.get("PrintOnCheckName"):
            doc["PrintOnCheckName"] = doc.get("CompanyName") or doc["DisplayName"]
        doc.setdefault("Active", True)
        address_ids(ctx, doc, self.addresses)

    def require(self, doc: dict[str, Any]) -> None:
        """Entity-specific required fields."""


class CustomerRules(PersonRules):
    entity = "Customer"
    addresses = ("BillAddr", "ShipAddr")
    keep_on_full_update = frozenset({"Balance", "OpenBalanceDate"})

    def prepare(
        self, ctx: Ctx, doc: dict[str, Any], old: dict[str, Any] | None, opts: dict[str, Any]
    ) -> None:
        super().prepare(ctx, doc, old, opts)
        if old is not None:
            doc["Balance"] = old.get("Balance", 0)  # write-on-create only; invoices move it after
        doc["Balance"] = round(float(doc.get("Balance") or 0), 2)
        doc["BalanceWithJobs"] = doc["Balance"]
        if (
            doc["Active"] is False
            and (old is None or old.get("Active") is not False)
            and doc["Balance"] != 0
        ):
            raise fault(
                "6220",
                "Delete List Has Balance Error",
                "Delete List Has Balance Error : This customer cannot be deleted because it "
                "has a non-zero balance",
                "",
            )
        self._hierarchy(ctx, doc)
        for key, value in (
            ("Job", False),
            ("BillWithParent", False),
            ("Taxable", True),
            ("PreferredDeliveryMethod", "Print"),
            ("IsProject", False),
        ):
            doc.setdefault(key, value)
        doc.setdefault("CurrencyRef", dict(USD))
        if doc.get("Taxable") and not doc.get("DefaultTaxCodeRef"):
            doc["DefaultTaxCodeRef"] = {"value": "2"}

    def _hierarchy(self, ctx: Ctx, doc: dict[str, Any]) -> None:
        parent_ref = doc.get("ParentRef")
        if not parent_ref:
            doc["FullyQualifiedName"] = doc["DisplayName"]
            doc.pop("Level", None)
            return
        parent = ctx.ref(parent_ref, "ParentRef", ("Customer",))
        if parent.get("Id") == doc.get("Id"):
            raise business("A customer cannot be its own parent.", "ParentRef")
        level = int(parent.get("Level", 0)) + 1
        if level > 4:
            raise fault(
                "6180",
                "Sub Level Limit",
                "You can only have 4 levels of sub-customers.",
                "ParentRef",
            )
        doc["Level"] = level
        doc["Job"] = doc.get("Job", True)
        doc["FullyQualifiedName"] = f"{parent['FullyQualifiedName']}:{doc['DisplayName']}"


class VendorRules(PersonRules):
    entity = "Vendor"
    addresses = ("BillAddr",)

    def prepare(
        self, ctx: Ctx, doc: dict[str, Any], old: dict[str, Any] | None, opts: dict[str, Any]
    ) -> None:
        super().prepare(ctx, doc, old, opts)
        doc["Balance"] = (old or {}).get("Balance", 0)
        doc.setdefault("Vendor1099", False)
        doc.setdefault("CurrencyRef", dict(USD))


class EmployeeRules(PersonRules):
    entity = "Employee"
    addresses = ("PrimaryAddr",)

    def require(self, doc: dict[str, Any]) -> None:
        for name in ("GivenName", "FamilyName"):
            if not doc.get(name):
                raise required(name)

    def prepare(
        self, ctx: Ctx, doc: dict[str, Any], old: dict[str, Any] | None, opts: dict[str, Any]
    ) -> None:
        super().prepare(ctx, doc, old, opts)
        doc.setdefault("BillableTime", False)
        ssn = doc.get("SSN")
        if ssn and not str(ssn).startswith("XXX-XX-"):
            doc["SSN"] = "XXX-XX-" + str(ssn)[-4:]


class ItemRules(Rules):
    entity = "Item"

    def prepare(
        self, ctx: Ctx, doc: dict[str, Any], old: dict[str, Any] | None, opts: dict[str, Any]
    ) -> None:
        if not doc.get("Name"):
            raise required("Name")
        check_separators(doc, ("Name",))
        if not doc.get("Type"):
            if old is None:
                raise required("Type")
            doc["Type"] = old["Type"]
        if doc["Type"] not in ITEM_TYPES:
            raise fault(
                "2170", "Invalid Enumeration", f"Invalid Enumeration : {doc['Type']}", "Type"
            )
        for _, other_id in ctx.store.find_by_name(ctx.realm, ("Item",), "Name", doc["Name"]):
            if other_id != doc.get("Id"):
                raise fault(
                    "6240",
                    "Duplicate Name Exists Error",
                    "The name supplied already exists. : Another Item is already using this name.",
                    "",
                )
        if doc["Type"] in ("Service", "Inventory") and not doc.get("IncomeAccountRef"):
            raise required("IncomeAccountRef")
        if doc["Type"] == "Inventory":
            for name in ("AssetAccountRef", "ExpenseAccountRef", "QtyOnHand", "InvStartDate"):
                if doc.get(name) is None:
                    raise required(name)
            doc["TrackQtyOnHand"] = True
        elif old and old.get("TrackQtyOnHand") and doc.get("TrackQtyOnHand") is False:
            raise business("TrackQtyOnHand cannot be turned off once on.", "TrackQtyOnHand")
        for name in ("IncomeAccountRef", "ExpenseAccountRef", "AssetAccountRef"):
            if doc.get(name):
                account(ctx, doc[name], name)
        parent_ref = doc.get("ParentRef")
        if parent_ref:
            parent = ctx.ref(parent_ref, "ParentRef", ("Item",), "Item")
            doc["SubItem"] = True
            doc["Level"] = int(parent.get("Level", 0)) + 1
            doc["FullyQualifiedName"] = f"{parent['FullyQualifiedName']}:{doc['Name']}"
        else:
            doc["FullyQualifiedName"] = doc["Name"]
        doc.setdefault("Active", True)
        if doc["Type"] != "Category":
            for key, value in (
                ("Taxable", False),
                ("TrackQtyOnHand", False),
                ("UnitPrice", 0),
                ("PurchaseCost", 0),
            ):
                doc.setdefault(key, value)


def account(ctx: Ctx, ref: dict[str, Any], element: str) -> None:
    """Accounts are not an API entity here; the company carries a fixed chart of accounts."""
    accounts = (ctx.sb.company(ctx.realm) or {}).get("accounts", {})
    acct = accounts.get(str(ref.get("value")))
    if acct is None:
        raise fault(
            "2500",
            "Invalid Reference Id",
            f"Invalid Reference Id : Accounts element id {ref.get('value')} is invalid",
            element,
        )
    ref["value"] = str(ref["value"])
    ref["name"] = acct["name"]
