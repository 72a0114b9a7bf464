"""Seed data: the demo Intuit user, "Sandbox Company_US_1" (reference §9 sample data plus the
portal demo's billable codes and staff) and an empty "Sandbox Company_US_2".

Realm ids are fixed so demo restarts (and stored portal connections) keep working.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from .core import Sandbox
from .entities.rules import RULES
from .service import NAME_SEQ, Ctx

REALM_1, REALM_2 = "9341452000000001", "9341452000000002"
DEMO_USER = {
    "email": "admin@sandbox.test",
    "password": "sandbox",
    "given_name": "Sandbox",
    "family_name": "Admin",
}
ACCOUNTS = {
    "1": {"name": "Services", "type": "Income"},
    "4": {"name": "Accounts Receivable (A/R)", "type": "Accounts Receivable"},
    "35": {"name": "Checking", "type": "Bank"},
    "45": {"name": "Landscaping Services", "type": "Income"},
    "79": {"name": "Sales of Product Income", "type": "Income"},
    "80": {"name": "Cost of Goods Sold", "type": "Cost of Goods Sold"},
    "81": {"name": "Inventory Asset", "type": "Other Current Asset"},
}
CUSTOMERS = [
    (
        1,
        "Amy's Bird Sanctuary",
        {
            "GivenName": "Amy",
            "FamilyName": "Lauterbach",
            "PrimaryEmailAddr": {"Address": "Birds@Intuit.com"},
            "BillAddr": {
                "Line1": "4581 Finch St.",
                "City": "Bayshore",
                "CountrySubDivisionCode": "CA",
                "PostalCode": "94326",
            },
        },
    ),
    (
        2,
        "Bill's Windsurf Shop",
        {"CompanyName": "Bill's Windsurf Shop", "GivenName": "Bill", "FamilyName": "Lucchini"},
    ),
    (3, "Cool Cars", {"CompanyName": "Cool Cars", "GivenName": "Grace", "FamilyName": "Pariente"}),
    (4, "Diego Rodriguez", {"GivenName": "Diego", "FamilyName": "Rodriguez"}),
    (
        5,
        "Dukes Basketball Camp",
        {"CompanyName": "Dukes Basketball Camp", "GivenName": "Peter", "FamilyName": "Dukes"},
    ),
    (6, "Dylan Sollfrank", {"GivenName": "Dylan", "FamilyName": "Sollfrank"}),
    (7, "Sonnenschein Family Store", {"CompanyName": "Sonnenschein Family Store"}),
    (
        8,
        "Freeman Sporting Goods",
        {"CompanyName": "Freeman Sporting Goods", "GivenName": "Kirby", "FamilyName": "Freeman"},
    ),
    (9, "0969 Ocean View Road", {"ParentRef": {"value": "8"}, "Job": True}),
    (10, "Geeta Kalapatapu", {"GivenName": "Geeta", "FamilyName": "Kalapatapu"}),
    (
        11,
        "Gevelber Photography",
        {"CompanyName": "Gevelber Photography", "GivenName": "Lisa", "FamilyName": "Gevelber"},
    ),
    (
        12,
        "Jeff's Jalopies",
        {"CompanyName": "Jeff's Jalopies", "GivenName": "Jeff", "FamilyName": "Chin"},
    ),
    (13, "John Melton", {"GivenName": "John", "FamilyName": "Melton"}),
    (14, "Kate Whelan", {"GivenName": "Kate", "FamilyName": "Whelan"}),
    (
        15,
        "Kookies by Kathy",
        {"CompanyName": "Kookies by Kathy", "GivenName": "Kathy", "FamilyName": "Kuplis"},
    ),
    (16, "Mark Cho", {"GivenName": "Mark", "FamilyName": "Cho"}),
    (
        17,
        "Paulsen Medical Supplies",
        {"CompanyName": "Paulsen Medical Supplies", "GivenName": "Kathy", "FamilyName": "Paulsen"},
    ),
    (18, "Pye's Cakes", {"CompanyName": "Pye's Cakes", "GivenName": "Karen", "FamilyName": "Pye"}),
    (
        19,
        "Rago Travel Agency",
        {"CompanyName": "Rago Travel Agency", "GivenName": "Nicola", "FamilyName": "Rago"},
    ),
    (
        20,
        "Red Rock Diner",
        {"CompanyName": "Red Rock Diner", "GivenName": "Stephanie", "FamilyName": "Martini"},
    ),
    (
        21,
        "Rondonuwu Fruit and Vegi",
        {"CompanyName": "Rondonuwu Fruit and Vegi", "GivenName": "Sasha", "FamilyName": "Tillou"},
    ),
    (22, "Shara Barnett", {"GivenName": "Shara", "FamilyName": "Barnett"}),
    (
        23,
        "Barnett Design",
        {"ParentRef": {"value": "22"}, "Job": True, "CompanyName": "Barnett Design"},
    ),
    (
        24,
        "Sushi by Katsuyuki",
        {"CompanyName": "Sushi by Katsuyuki", "GivenName": "Katsuyuki", "FamilyName": "Yanagawa"},
    ),
    (25, "Travis Waldron", {"GivenName": "Travis", "FamilyName": "Waldron"}),
    (
        26,
        "Video Games by Dan",
        {"CompanyName": "Video Games by Dan", "GivenName": "Dan", "FamilyName": "Miller"},
    ),
    (
        27,
        "Wedding Planning by Whitney",
        {
            "CompanyName": "Wedding Planning by Whitney",
            "GivenName": "Whitney",
            "FamilyName": "Zwingli",
        },
    ),
    (28, "55 Twin Lane", {"ParentRef": {"value": "8"}, "Job": True}),
    (
        29,
        "Weiskopf Consulting",
        {"CompanyName": "Weiskopf Consulting", "GivenName": "Nicola", "FamilyName": "Weiskopf"},
    ),
    # Not in Intuit's sample: a married couple written the way bookkeepers often do, so the
    # portal demo can show its client "James & Linda Thompson" matched, not duplicated.
    (59, "Thompson, James and Linda", {"GivenName": "James", "FamilyName": "Thompson"}),
]
VENDORS = [
    (30, "Brosnahan Insurance Agency"),
    (31, "Cal Telephone"),
    (32, "Computers by Jenni"),
    (33, "Diego's Road Warrior Bodyshop"),
    (34, "Hicks Hardware"),
    (35, "Norton Lumber and Building Materials"),
]
EMPLOYEES = [
    (54, "John", "Johnson", None),
    (55, "Emily", "Platt", None),
    # The portal demo's staff (portal/demo_seed.py): same names and emails, so time can sync.
    (56, "Alice", "Nguyen", "alice@demo.example"),
    (57, "Bob", "Martinez", "bob@demo.example"),
    (58, "Maria", "Lopez", "maria@demo.example"),
]
ITEMS = [
    (1, "Services", "Service", 0),
    (2, "Hours", "Service", 0),
    (3, "Concrete", "Service", 0),
    (4, "Design", "Service", 75),
    (5, "Gardening", "Service", 0),
    (6, "Installation", "Service", 50),
    (7, "Maintenance & Repair", "Service", 0),
    (8, "Lighting", "NonInventory", 0),
    (9, "Pest Control", "Service", 35),
    (10, "Pump", "NonInventory", 15),
    (11, "Rock Fountain", "NonInventory", 275),
    (12, "Rocks", "NonInventory", 0),
    (13, "Sod", "NonInventory", 0),
    (14, "Soil", "NonInventory", 10),
    (15, "Sprinkler Heads", "NonInventory", 2),
    (16, "Sprinkler Pipes", "NonInventory", 4),
    (17, "Refunds & Allowances", "Service", 0),
    (18, "Trimming", "Service", 35),
    (19, "TAX-IND", "Service", 150),
    (20, "TAX-BUS", "Service", 200),
    (21, "BOOKKEEPING", "Service", 90),
    (22, "PAYROLL", "Service", 110),
    (23, "ADVISORY", "Service", 175),
    (24, "AUDIT", "Service", 220),
    (25, "TAX", "Service", 150),
    (26, "ACCOUNTING", "Service", 95),
]


def _put(ctx: Ctx, entity: str, doc: dict[str, Any], eid: int | None = None) -> dict[str, Any]:
    """Create through the entity rules (defaults, derived fields) with an optional fixed Id."""
    rules = RULES[entity]
    if eid is not None:
        doc["Id"] = str(eid)
        ctx.store.bump_seq(ctx.realm, NAME_SEQ.get(entity, entity), eid)
    rules.prepare(ctx, doc, None, {})
    ctx.save(entity, doc, "Create")
    rules.after_save(ctx, doc, None)
    return doc


def create_company(
    sb: Sandbox, name: str, realm: str | None = None, sample: bool = False, owner: str | None = None
) -> str:
    """Create a company (optionally with the §9 sample data) and give ``owner`` access."""
    with sb.store.transaction():
        if realm is None:
            realm = str(max([int(r) for r, _ in sb.store.items("company")] + [int(REALM_2)]) + 1)
        sb.store.put(
            "company",
            realm,
            {
                "realm_id": realm,
                "name": name,
                "offset": sb.config["company_offset"],
                "accounts": ACCOUNTS,
            },
        )
        ctx = Ctx(sb, realm)
        _company_docs(ctx, name)
        if sample:
            _sample(ctx)
        if owner:
            user = sb.store.get("user", owner)
            if user is not None and realm not in user["companies"]:
                user["companies"].append(realm)
                sb.store.put("user", owner, user)
    return realm


def create_user(
    sb: Sandbox,
    email: str,
    password: str,
    given_name: str = "",
    family_name: str = "",
    companies: list[str] | None = None,
) -> dict[str, Any]:
    user = {
        "email": email.lower(),
        "password": password,
        "given_name": given_name,
        "family_name": family_name,
        "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, email.lower())),
        "companies": list(companies or []),
    }
    sb.store.put("user", user["email"], user)
    return user


def register_app(sb: Sandbox, app: dict[str, Any]) -> dict[str, Any]:
    if not app.get("client_id") or not app.get("client_secret"):
        raise ValueError("client_id and client_secret are required")
    doc = {
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "name": app.get("name") or app["client_id"],
        "redirect_uris": list(app.get("redirect_uris") or []),
        "webhook_url": app.get("webhook_url"),
        "verifier_token": app.get("verifier_token"),
        "webhook_format": app.get("webhook_format", "legacy"),
    }
    sb.store.put("app", doc["client_id"], doc)
    return doc


def seed(sb: Sandbox) -> None:
    """Apps from config always; the demo user and companies when the store has none."""
    for app in sb.config["apps"]:
        register_app(sb, app)
    if sb.store.items("company") or not sb.config["seed"]:
        return
    create_user(
        sb,
        DEMO_USER["email"],
        DEMO_USER["password"],
        DEMO_USER["given_name"],
        DEMO_USER["family_name"],
    )
    create_company(sb, "Sandbox Company_US_1", REALM_1, sample=True, owner=DEMO_USER["email"])
    create_company(sb, "Sandbox Company_US_2", REALM_2, sample=False, owner=DEMO_USER["email"])
    sb.counters.reset()


def _company_docs(ctx: Ctx, name: str) -> None:
    addr = {
        "Id": "1",
        "Line1": "123 Sierra Way",
        "City": "San Pablo",
        "CountrySubDivisionCode": "CA",
        "PostalCode": "87999",
        "Country": "USA",
    }
    info = {
        "Id": "1",
        "CompanyName": name,
        "LegalName": name,
        "Country": "US",
        "CompanyAddr": addr,
        "LegalAddr": dict(addr),
        "CustomerCommunicationAddr": dict(addr),
        "Email": {"Address": "noreply@quickbooks.com"},
        "FiscalYearStartMonth": "January",
        "SupportedLanguages": "en",
        "CompanyStartDate": ctx.sb.today(ctx.realm),
        "NameValue": [
            {"Name": "NeoEnabled", "Value": "true"},
            {"Name": "ItemCategoriesFeature", "Value": "true"},
            {"Name": "SubscriptionStatus", "Value": "SUBSCRIBED"},
            {"Name": "OfferingSku", "Value": "QuickBooks Online Plus"},
        ],
    }
    ctx.save("CompanyInfo", info, "Create")
    prefs = {
        "Id": "1",
        "AccountingInfoPrefs": {
            "TrackDepartments": False,
            "ClassTrackingPerTxn": False,
            "ClassTrackingPerTxnLine": False,
            "CustomerTerminology": "Customers",
        },
        "ProductAndServicesPrefs": {
            "ForSales": True,
            "ForPurchase": True,
            "QuantityWithPriceAndRate": True,
            "QuantityOnHand": True,
        },
        "SalesFormsPrefs": {
            "CustomTxnNumbers": False,
            "AllowDiscount": True,
            "AllowShipping": False,
            "AllowServiceDate": False,
            "DefaultTerms": {"value": "3"},
            "DefaultDeliveryMethod": "PRINT",
            "AutoApplyCredit": True,
            "AutoApplyPayments": True,
            "CustomField": [],
        },
        "EmailMessagesPrefs": {
            "InvoiceMessage": {
                "Subject": f"Invoice from {name}",
                "Message": "Your invoice is attached.",
            }
        },
        "TimeTrackingPrefs": {
            "UseServices": True,
            "BillCustomers": True,
            "ShowBillRateToAll": False,
            "WorkWeekStartDate": "Monday",
            "MarkTimeEntriesBillable": True,
        },
        "TaxPrefs": {"UsingSalesTax": False},
        "CurrencyPrefs": {"MultiCurrencyEnabled": False, "HomeCurrency": {"value": "USD"}},
    }
    ctx.save("Preferences", prefs, "Create")


def _sample(ctx: Ctx) -> None:
    for eid, display, extra in CUSTOMERS:
        _put(ctx, "Customer", {"DisplayName": display, **extra}, eid)
    for eid, display in VENDORS:
        _put(ctx, "Vendor", {"DisplayName": display, "CompanyName": display}, eid)
    for eid, given, family, email in EMPLOYEES:
        doc: dict[str, Any] = {"GivenName": given, "FamilyName": family, "BillableTime": True}
        if email:
            doc["PrimaryEmailAddr"] = {"Address": email}
        _put(ctx, "Employee", doc, eid)
    for eid, name, kind, price in ITEMS:
        doc = {"Name": name, "Type": kind, "UnitPrice": price, "IncomeAccountRef": {"value": "1"}}
        if kind == "NonInventory":
            doc["IncomeAccountRef"] = {"value": "79"}
        _put(ctx, "Item", doc)
        ctx.store.bump_seq(ctx.realm, "Item", eid)
    today = ctx.sb.clock.now().date()
    day = (today - timedelta(days=20)).isoformat()

    def line(item: str, name: str, qty: float, price: float) -> dict[str, Any]:
        return {
            "DetailType": "SalesItemLineDetail",
            "Amount": round(qty * price, 2),
            "SalesItemLineDetail": {
                "ItemRef": {"value": item, "name": name},
                "Qty": qty,
                "UnitPrice": price,
            },
        }

    _put(
        ctx,
        "Invoice",
        {"CustomerRef": {"value": "1"}, "TxnDate": day, "Line": [line("1", "Services", 1, 100)]},
    )
    inv2 = _put(
        ctx,
        "Invoice",
        {"CustomerRef": {"value": "2"}, "TxnDate": day, "Line": [line("4", "Design", 2, 75)]},
    )
    _put(
        ctx,
        "Invoice",
        {
            "CustomerRef": {"value": "3"},
            "TxnDate": day,
            "Line": [line("2", "Hours", 5, 30), line("8", "Lighting", 1, 200)],
        },
    )
    _put(
        ctx,
        "Payment",
        {
            "CustomerRef": {"value": "2"},
            "TotalAmt": 50,
            "TxnDate": day,
            "Line": [{"Amount": 50, "LinkedTxn": [{"TxnId": inv2["Id"], "TxnType": "Invoice"}]}],
        },
    )
    _put(
        ctx,
        "TimeActivity",
        {
            "NameOf": "Employee",
            "EmployeeRef": {"value": "54"},
            "CustomerRef": {"value": "1"},
            "ItemRef": {"value": "4"},
            "BillableStatus": "Billable",
            "HourlyRate": 75,
            "Hours": 5,
            "Minutes": 0,
            "TxnDate": day,
            "Description": "Custom Design",
        },
    )
    _put(
        ctx,
        "TimeActivity",
        {
            "NameOf": "Employee",
            "EmployeeRef": {"value": "55"},
            "CustomerRef": {"value": "3"},
            "ItemRef": {"value": "2"},
            "BillableStatus": "NotBillable",
            "Hours": 3,
            "Minutes": 30,
            "TxnDate": day,
            "Description": "Site visit",
        },
    )
