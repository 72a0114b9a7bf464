"""Generate a draft invoice from a client's approved, billable, unbilled time (rule T3).

One line per category — or per type when the firm rolls invoices up by type — and per distinct
hourly rate, so quantity x rate is the line's amount exactly. The chosen entries are locked to
the invoice in the caller's transaction; nothing here commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import update

from portal.auth.access import valid_id
from portal.extensions import db
from portal.invoices.lines import LineData, replace_lines
from portal.invoices.numbering import next_number
from portal.models import BillableCategory, Client, Firm, Invoice, TimeEntry, User
from portal.models._common import ZERO

DEFAULT_TERMS_DAYS = 30
UNCATEGORIZED = "Professional services"


class FromTimeError(Exception):
    """The chosen entries cannot be invoiced (as chosen); the message is for the user."""


def billable_entries_stmt(firm_id: int, client_id: int):
    """Entries that may be invoiced: the client's approved, billable, unlocked, unbilled time."""
    return (
        db.select(TimeEntry)
        .where(
            TimeEntry.firm_id == firm_id,
            TimeEntry.client_id == client_id,
            TimeEntry.status == "approved",
            TimeEntry.billable.is_(True),
            TimeEntry.locked.is_(False),
            TimeEntry.invoice_id.is_(None),
        )
        .order_by(TimeEntry.entry_date, TimeEntry.id)
    )


def unbilled_counts(firm_id: int) -> dict[int, int]:
    """client id -> number of entries ready to invoice (for the client picker)."""
    stmt = (
        db.select(TimeEntry.client_id, db.func.count())
        .where(
            TimeEntry.firm_id == firm_id,
            TimeEntry.client_id.is_not(None),
            TimeEntry.status == "approved",
            TimeEntry.billable.is_(True),
            TimeEntry.locked.is_(False),
            TimeEntry.invoice_id.is_(None),
        )
        .group_by(TimeEntry.client_id)
    )
    return {client_id: count for client_id, count in db.session.execute(stmt)}


@dataclass
class _Group:
    name: str
    rate: Decimal
    category_id: int | None = None
    type_id: int | None = None
    hours: Decimal = ZERO
    entries: list[TimeEntry] = field(default_factory=list)


def group_lines(entries: Iterable[TimeEntry], rollup: str) -> list[LineData]:
    """Lines for `entries`: one per (category or type, staff rate), ordered by name then rate.

    Entries without a category make one "Professional services" line per rate (the sync
    leaves such a line out of QBO and records why)."""
    groups: dict[tuple, _Group] = {}
    for entry in entries:
        rate = Decimal(entry.user.hourly_rate or ZERO)
        category: BillableCategory | None = entry.category
        if category is None:
            key: tuple = ("none", None, rate)
            proto = _Group(UNCATEGORIZED, rate)
        elif rollup == "type":
            key = ("type", category.type_id, rate)
            proto = _Group(category.type.name, rate, type_id=category.type_id)
        else:
            key = ("cat", category.id, rate)
            proto = _Group(category.name, rate, category_id=category.id)
        group = groups.setdefault(key, proto)
        group.hours += Decimal(entry.hours)
        group.entries.append(entry)

    ordered = sorted(groups.values(), key=lambda g: (g.category_id is None and g.type_id is None,
                                                      g.name.casefold(), -g.rate))
    rates_per_name: dict[str, int] = {}
    for group in ordered:
        rates_per_name[group.name] = rates_per_name.get(group.name, 0) + 1
    lines = []
    for group in ordered:
        description = f"{group.name} — {group.hours:.2f} h"
        if rates_per_name[group.name] > 1:
            description += f" at {group.rate:,.2f}/h"
        lines.append(
            LineData(
                description=description,
                quantity=group.hours,
                rate=group.rate,
                category_id=group.category_id,
                type_id=group.type_id,
            )
        )
    return lines


def generate_invoice_from_time(
    firm_id: int,
    client_id: int,
    entry_ids: Sequence[int],
    *,
    issue_date: date | None = None,
) -> Invoice:
    """Create a draft invoice for `entry_ids` and lock them to it. Does not commit.

    Raises FromTimeError (and changes nothing the caller must keep) when the client is not the
    firm's, no entry is chosen, or any chosen entry is missing, of another client or firm,
    not approved, not billable, or already locked/invoiced — e.g. changed since the page was
    shown. The caller rolls back on error."""
    ids = sorted({int(i) for i in entry_ids})
    if not ids:
        raise FromTimeError("Choose at least one time entry to invoice.")
    client = db.session.execute(
        db.select(Client).where(Client.id == client_id, Client.firm_id == firm_id)
    ).scalar_one_or_none() if valid_id(client_id) else None
    if client is None:
        raise FromTimeError("Choose one of your firm's clients.")
    firm = db.session.get(Firm, firm_id)

    # Lock the rows where the database can (PostgreSQL), then re-check every condition.
    entries = list(
        db.session.execute(
            billable_entries_stmt(firm_id, client_id)
            .where(TimeEntry.id.in_([i for i in ids if valid_id(i)]))  # others: missing
            .with_for_update(of=TimeEntry)
        ).scalars()
    )
    if len(entries) != len(ids):
        stale = len(ids) - len(entries)
        raise FromTimeError(
            f"{stale} of the chosen time entries can no longer be invoiced (already invoiced, "
            "changed, or not this client's). Nothing was created; review the list and try again."
        )
    # Load the staff rates with the entries (one query, not one per entry).
    db.session.execute(db.select(User).where(User.id.in_({e.user_id for e in entries})))

    issued = issue_date or date.today()
    invoice = Invoice(
        firm_id=firm_id,
        client_id=client.id,
        number=next_number(firm_id),
        issue_date=issued,
        due_date=issued + timedelta(days=DEFAULT_TERMS_DAYS),
        status="draft",
        memo=None,
    )
    db.session.add(invoice)
    replace_lines(invoice, group_lines(entries, firm.invoice_rollup if firm else "category"))
    db.session.flush()

    # Compare-and-set: only rows still unlocked and unbilled are taken; if another request
    # won the race for any of them, the counts differ and the caller rolls everything back.
    result = db.session.execute(
        update(TimeEntry)
        .where(
            TimeEntry.id.in_(ids),
            TimeEntry.firm_id == firm_id,
            TimeEntry.locked.is_(False),
            TimeEntry.invoice_id.is_(None),
        )
        .values(status="approved", locked=True, invoice_id=invoice.id)
        .execution_options(synchronize_session="fetch")
    )
    if result.rowcount != len(ids):
        raise FromTimeError(
            "Some of the chosen time entries were invoiced by someone else meanwhile. "
            "Nothing was created; review the list and try again."
        )
    return invoice


def release_entries(invoice: Invoice) -> int:
    """Unlock the time entries billed on `invoice` (deleting a draft, voiding): they become
    approved, unbilled time again. Returns how many were released. Does not commit."""
    result = db.session.execute(
        update(TimeEntry)
        .where(TimeEntry.invoice_id == invoice.id, TimeEntry.firm_id == invoice.firm_id)
        .values(invoice_id=None, locked=False)
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount or 0
