"""The demo firm: enough realistic, awkward data to click through every screen and to show
how the QuickBooks sync copes with real-world names.

`seed_demo_firm()` is idempotent (does nothing when the firm exists) and writes everything
in one transaction, so a failed seed leaves nothing behind. Dates are relative to today, so
the time entries always cover the last three weeks.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from portal.extensions import db
from portal.models import (
    BillableCategory,
    BillableType,
    Client,
    Firm,
    Invoice,
    InvoiceLine,
    TimeEntry,
    User,
)

FIRM_NAME = "Whitfield & Lopez CPAs"
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - published demo login, printed by `make demo`

USERS = [  # key, name, email, role, hourly rate
    ("dana", "Dana Whitfield", "admin@demo.example", "admin", "225"),
    ("maria", "Maria Lopez", "maria@demo.example", "manager", "150"),
    ("alice", "Alice Nguyen", "alice@demo.example", "staff", "95"),
    ("bob", "Bob Martinez", "bob@demo.example", "staff", "85"),
]

BILLING = {  # type (code) -> categories (code)
    ("Tax", "TAX"): [("Individual tax return", "TAX-IND"), ("Business tax return", "TAX-BUS")],
    ("Accounting", "ACCOUNTING"): [("Bookkeeping", "BOOKKEEPING"), ("Payroll", "PAYROLL")],
    ("Advisory", "ADVISORY"): [("Advisory", "ADVISORY"), ("Audit support", "AUDIT")],
}

# Individuals: first, last, email, phone, street, city, state, zip.
INDIVIDUALS = [
    ("Patrick", "O'Brien", "patrick.obrien@mail.example", "(555) 014-2201", "12 Harbor Rd",
     "Boston", "MA", "02110"),
    ("Gina", "D'Angelo", "gina.dangelo@mail.example", "(555) 014-2202", "88 Mulberry St",
     "New York", "NY", "10013"),
    ("José", "Álvarez", "jose.alvarez@mail.example", "(555) 014-2203", "451 Calle Ocho",
     "Miami", "FL", "33135"),
    ("Zoë", "Brontë", "zoe.bronte@mail.example", "(555) 014-2204", "7 Haworth Ln",
     "Portland", "OR", "97205"),
    ("Renée", "Côté", "renee.cote@mail.example", "(555) 014-2205", "19 Rue Champlain",
     "Burlington", "VT", "05401"),
    ("Michael", "Chen", "m.chen@mail.example", "(555) 014-2206", "300 Pine St",
     "San Francisco", "CA", "94104"),
    ("Sarah", "Johnson", "sarah.johnson@mail.example", "(555) 014-2207", "1420 Elm Ave",
     "Denver", "CO", "80203"),
    ("David", "Kim", "david.kim@mail.example", "(555) 014-2208", "55 Lake Shore Dr",
     "Chicago", "IL", "60611"),
    ("Emily", "Walsh", "emily.walsh@mail.example", "(555) 014-2209", "9 Beacon St",
     "Boston", "MA", "02108"),
    ("Robert", "Fitzgerald", "rob.fitz@mail.example", "(555) 014-2210", "210 Oak St",
     "Austin", "TX", "78701"),
    ("Priya", "Patel", "priya.patel@mail.example", "(555) 014-2211", "77 Maple Ct",
     "Edison", "NJ", "08817"),
    ("Thomas", "Müller", "thomas.mueller@mail.example", "(555) 014-2212", "4 Linden Way",
     "Milwaukee", "WI", "53202"),
    ("Hannah", "Schmidt", "hannah.schmidt@mail.example", "(555) 014-2213", "61 Birch Rd",
     "Madison", "WI", "53703"),  # inactive: moved away
    ("Kevin", "Anderson", "kevin.anderson@mail.example", "(555) 014-2214", "15 Cedar Ln",
     "Seattle", "WA", "98101"),
    ("Laura", "Bennett", "laura.bennett@mail.example", "(555) 014-2215", "230 Willow Dr",
     "Raleigh", "NC", "27601"),
]
INACTIVE = {"Hannah Schmidt"}

# Married couples: first, last, spouse first, spouse last (None = same last name), email.
JOINT = [
    ("John", "Smith", "Mary", None, "smiths@mail.example"),
    ("Carlos", "García", "Ana", None, "garcia.family@mail.example"),
    ("James", "Thompson", "Linda", None, "thompsons@mail.example"),
    ("William", "O'Neil", "Grace", None, "oneil.home@mail.example"),
    ("Peter", "Novak", "Nina", None, "novaks@mail.example"),
    ("Mark", "Davis", "Susan", "Lee", "davis.lee@mail.example"),
    ("Daniel", "Rossi", "Claire", "Dubois", "rossi.dubois@mail.example"),
    ("Ahmed", "Hassan", "Fatima", "Al-Sayed", "hassan.alsayed@mail.example"),
]

# Businesses: company, contact first, contact last, email. The first three also exist in the
# QBO sandbox's sample company and are deliberately unlinked: importing offers to link them.
BUSINESSES = [
    ("Amy's Bird Sanctuary", "Amy", "Lauterbach", "birds@amys.example"),
    ("Bill's Windsurf Shop", "Bill", "Lucchini", "bill@windsurf.example"),
    ("Cool Cars", "Grace", "Pariente", "grace@coolcars.example"),
    ("Smith & Sons Plumbing", "Frank", "Smith", "office@smithsons.example"),
    ("Acme, Inc.", "Wile", "Coyote", "accounts@acme.example"),
    ("Acme: West Division", "Road", "Runner", "west@acme.example"),  # QBO refuses the colon
    ("Harbor View Dental LLC", "Irene", "Park", "billing@harborviewdental.example"),
    ("Green Leaf Landscaping", "Sam", "Green", "sam@greenleaf.example"),
    ("Blue Sky Bakery", "Olivia", "Blue", "hello@blueskybakery.example"),
    ("Café Lumière", "Amélie", "Laurent", "bonjour@cafelumiere.example"),
    ("Riverside Veterinary Clinic", "Noah", "Rivers", "frontdesk@riversidevet.example"),
    ("Summit Ridge Construction Co.", "Ray", "Summers", "ray@summitridge.example"),
    ("Oak & Iron Furniture", "Ivy", "Oakes", "ivy@oakandiron.example"),
    ("Pinecrest HOA", "Gail", "Pine", "board@pinecresthoa.example"),
    ("Redwood Tech Consulting", "Raj", "Iyer", "raj@redwoodtech.example"),
    ("Lopez & Park Architects", "Ana", "Park", "studio@lopezpark.example"),
    ("Bright Smile Orthodontics", "Lee", "Smiles", "office@brightsmile.example"),
]


def seed_demo_firm(today: date | None = None) -> bool:
    """Create the demo firm with users, billing codes, clients, invoices and time, dated
    relative to `today` (default: the real today).

    Returns False (and changes nothing) when the firm already exists.
    """
    exists = db.session.execute(
        db.select(Firm.id).where(Firm.name == FIRM_NAME)
    ).scalar_one_or_none()
    if exists is not None:
        return False
    try:
        _seed(today or date.today())
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return True


def _seed(today: date) -> None:
    firm = Firm(name=FIRM_NAME, invoice_rollup="category")
    db.session.add(firm)
    db.session.flush()
    users = _users(firm)
    categories, types = _billing(firm)
    clients = _clients(firm)
    invoices = _invoices(firm, clients, categories, types, today)
    _time(firm, users, clients, categories, invoices, today)


def _users(firm: Firm) -> dict[str, User]:
    users = {}
    for key, name, email, role, rate in USERS:
        user = User(firm_id=firm.id, name=name, email=email, role=role,
                    hourly_rate=Decimal(rate))
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)
        users[key] = user
    db.session.flush()
    return users


def _billing(firm: Firm) -> tuple[dict[str, BillableCategory], dict[str, BillableType]]:
    categories, types = {}, {}
    for (type_name, type_code), cats in BILLING.items():
        btype = BillableType(firm_id=firm.id, name=type_name, code=type_code)
        db.session.add(btype)
        db.session.flush()
        types[type_code] = btype
        for name, code in cats:
            category = BillableCategory(firm_id=firm.id, type_id=btype.id, name=name, code=code)
            db.session.add(category)
            categories[code] = category
    db.session.flush()
    return categories, types


def _clients(firm: Firm) -> dict[str, Client]:
    made: list[Client] = []
    for first, last, email, phone, street, city, state, zip_code in INDIVIDUALS:
        made.append(Client(kind="individual", first_name=first, last_name=last, email=email,
                           phone=phone, address_line1=street, city=city, state=state,
                           postal_code=zip_code, country="USA"))
    for i, (first, last, spouse_first, spouse_last, email) in enumerate(JOINT):
        made.append(Client(kind="joint", first_name=first, last_name=last,
                           spouse_first_name=spouse_first, spouse_last_name=spouse_last,
                           email=email, phone=f"(555) 015-{3300 + i}",
                           address_line1=f"{40 + 7 * i} Meadow Lane", city="Springfield",
                           state="IL", postal_code="62704", country="USA"))
    for i, (company, first, last, email) in enumerate(BUSINESSES):
        made.append(Client(kind="business", company_name=company, first_name=first,
                           last_name=last, email=email, phone=f"(555) 016-{4400 + i}",
                           address_line1=f"{100 + 25 * i} Commerce Blvd", address_line2="Suite 2",
                           city="Riverton", state="CA", postal_code="94301", country="USA"))
    clients = {}
    for client in made:
        client.firm_id = firm.id
        client.refresh_name()
        client.active = client.display_name not in INACTIVE
        db.session.add(client)
        clients[client.display_name] = client
    db.session.flush()
    return clients


# number, client, status, days ago, lines (description, qty, rate, category code or
# ("type", code) for a line billed directly under a type, or None for an uncategorized line).
INVOICES = [
    ("1001", "Michael Chen", "processed_externally", 40,
     [("2025 individual tax return", "1", "650", "TAX-IND")]),
    ("1002", "Smith & Sons Plumbing", "processed_externally", 35,
     [("Monthly bookkeeping", "1", "450", "BOOKKEEPING"),
      ("Payroll, 2 runs", "2", "85", "PAYROLL")]),
    ("1003", "John & Mary Smith", "processed_externally", 30,
     [("Joint return preparation", "1", "825", "TAX-IND"),
      ("Estimated tax planning", "1.5", "150", "ADVISORY")]),
    ("1004", "Patrick O'Brien", "processed_externally", 15, []),  # lines from locked time
    ("1005", "Acme, Inc.", "void", 28,
     [("Duplicate of bookkeeping invoice", "1", "450", "BOOKKEEPING")]),
    ("1006", "José Álvarez", "new", 6,
     [("2025 individual tax return", "1", "575", "TAX-IND")]),
    ("1007", "Harbor View Dental LLC", "new", 5,
     [("Business tax return (Form 1120-S)", "1", "1450", "TAX-BUS"),
      ("Quarterly bookkeeping review", "3.5", "120", "BOOKKEEPING")]),
    ("1008", "Mark Davis & Susan Lee", "new", 4,
     [("Joint return preparation", "1", "900", "TAX-IND"),
      ("Courier and postage", "1", "24.50", None)]),
    ("1009", "Café Lumière", "new", 3,
     [("Advisory retainer, monthly", "1", "400", ("type", "ADVISORY")),
      ("Payroll setup", "2.25", "110", "PAYROLL")]),
    ("1010", "Acme: West Division", "new", 2,
     [("Audit support, inventory count", "6", "175", "AUDIT")]),
    ("1011", "Zoë Brontë", "draft", 1,
     [("Amended return (draft)", "1", "300", "TAX-IND")]),
    ("1012", "Amy's Bird Sanctuary", "draft", 0,
     [("Nonprofit filing (Form 990)", "1", "700", "TAX-BUS"),
      ("Bookkeeping catch-up", "4", "95", "BOOKKEEPING")]),
]
PROCESSED_QBO_ID_START = 9001


def _invoices(firm, clients, categories, types, today: date) -> dict[str, Invoice]:
    invoices = {}
    qbo_id = PROCESSED_QBO_ID_START
    for number, client_name, status, days_ago, lines in INVOICES:
        issued = today - timedelta(days=days_ago)
        invoice = Invoice(firm_id=firm.id, client_id=clients[client_name].id, number=number,
                          issue_date=issued, due_date=issued + timedelta(days=30), status=status)
        if status == "processed_externally":
            invoice.qbo_invoice_id = str(qbo_id)
            invoice.qbo_doc_number = number
            invoice.pushed_at = datetime.combine(issued, time(9, 0)) + timedelta(hours=1)
            qbo_id += 1
        if status == "void":
            invoice.memo = "Voided: issued twice by mistake."
        for position, (description, qty, rate, billed_as) in enumerate(lines):
            line = InvoiceLine(position=position, description=description,
                               quantity=Decimal(qty), rate=Decimal(rate))
            if isinstance(billed_as, tuple):
                line.type = types[billed_as[1]]
            elif billed_as:
                line.category = categories[billed_as]
            invoice.lines.append(line)
        invoice.recompute_total()
        db.session.add(invoice)
        invoices[number] = invoice
    db.session.flush()
    return invoices


TASKS = {  # category code -> descriptions staff write
    "TAX-IND": ["Prepared Schedule C", "Reviewed 1099s and W-2s", "Client call about deductions"],
    "TAX-BUS": ["Depreciation schedule", "Prepared K-1s", "Reconciled book-to-tax differences"],
    "BOOKKEEPING": ["Bank reconciliation", "Categorized transactions", "Month-end close"],
    "PAYROLL": ["Ran payroll", "Quarterly 941 filing", "New hire setup"],
    "ADVISORY": ["Cash-flow planning meeting", "Entity structure review"],
    "AUDIT": ["Prepared audit schedules", "Responded to auditor requests"],
}
# Entries invoiced on 1004 (approved, locked): user, days ago, hours, category, description.
LOCKED = [
    ("alice", 20, "2.5", "TAX-IND", "Gathered documents and prior-year return"),
    ("alice", 19, "3", "TAX-IND", "Prepared 2025 return"),
    ("maria", 19, "1", "TAX-IND", "Reviewed return with client"),
    ("bob", 18, "2", "BOOKKEEPING", "Cleaned up rental property ledger"),
]


def _time(firm, users, clients, categories, invoices, today: date) -> None:
    rng = random.Random(2026)  # the same demo every time
    invoice = invoices["1004"]
    hours_by_line: dict[tuple[str, Decimal], Decimal] = {}
    for key, days_ago, hours, code, description in LOCKED:
        user = users[key]
        day = _weekday(today - timedelta(days=days_ago))
        db.session.add(TimeEntry(
            firm_id=firm.id, user_id=user.id, client_id=invoice.client_id, entry_date=day,
            hours=Decimal(hours), category_id=categories[code].id, description=description,
            status="approved", locked=True, invoice_id=invoice.id,
            approved_by_id=users["dana" if key == "maria" else "maria"].id,
            approved_at=datetime.combine(day + timedelta(days=1), time(17, 0)),
        ))
        line_key = (code, user.hourly_rate)
        hours_by_line[line_key] = hours_by_line.get(line_key, Decimal(0)) + Decimal(hours)
    # As "generate invoice from time" does: one line per category (and rate), hours x rate.
    for position, ((code, rate), hours) in enumerate(sorted(hours_by_line.items())):
        category = categories[code]
        invoice.lines.append(InvoiceLine(position=position, description=category.name,
                                         quantity=hours, rate=rate, category=category))
    invoice.recompute_total()

    billable_clients = [c for c in clients.values() if c.active and c.id != invoice.client_id]
    codes = list(TASKS)
    for key in ("alice", "bob", "maria"):
        user = users[key]
        for days_ago in range(20, -1, -1):
            day = today - timedelta(days=days_ago)
            if day.weekday() >= 5:
                continue
            for _ in range(rng.choice((1, 1, 2))):
                code = rng.choice(codes)
                status = _status_for(days_ago, rng)
                entry = TimeEntry(
                    firm_id=firm.id, user_id=user.id, client_id=rng.choice(billable_clients).id,
                    entry_date=day, hours=Decimal(rng.choice(("0.5", "1", "1.25", "2", "3.5"))),
                    category_id=categories[code].id, description=rng.choice(TASKS[code]),
                    billable=rng.random() > 0.1, status=status,
                )
                if status == "approved":
                    entry.approved_by_id = users["dana" if key == "maria" else "maria"].id
                    entry.approved_at = datetime.combine(day + timedelta(days=2), time(10, 0))
                db.session.add(entry)


def _weekday(day: date) -> date:
    """The day itself, or the Monday after when it falls on a weekend."""
    return day + timedelta(days=7 - day.weekday()) if day.weekday() >= 5 else day


def _status_for(days_ago: int, rng: random.Random) -> str:
    """Older work is approved, last week's waits for approval, this week's is still draft.

    Any three consecutive days hold a weekday, so every user always has all three statuses.
    """
    if days_ago > 13:
        return "approved"
    if days_ago > 9:
        return rng.choice(("submitted", "approved"))
    if days_ago > 6:
        return "submitted"
    if days_ago > 2:
        return rng.choice(("draft", "submitted"))
    return "draft"
