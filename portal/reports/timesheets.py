"""Timesheets report: the filter, the firm-scoped query, totals, CSV rows and approval actions.

Every query here is scoped to the current firm; staff are narrowed to their own entries by the
view before a filter reaches this module. Nothing here commits: the view owns the transaction.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import case, func
from sqlalchemy.orm import contains_eager, joinedload

from portal.auth.access import firm_id, scoped
from portal.extensions import db
from portal.models import Client, TimeEntry, User
from portal.models._common import ZERO, utcnow

CENT = Decimal("0.01")
PERIODS = {
    "this_week": "This week",
    "last_week": "Last week",
    "this_month": "This month",
    "last_month": "Last month",
    "all": "All dates",
    "custom": "Custom dates",
}
SYNC_STATES = {
    "pushed": "In QuickBooks",
    "not_pushed": "Not in QuickBooks",
    "pending": "Waiting to sync",
    "attention": "Needs attention",
}


def period_range(
    period: str, today: date, start: date | None = None, end: date | None = None
) -> tuple[date | None, date | None]:
    """Inclusive first and last day of a named period (weeks run Monday to Sunday);
    (None, None) for all dates; the given dates for a custom period."""
    monday = today - timedelta(days=today.weekday())
    if period == "this_week":
        return monday, monday + timedelta(days=6)
    if period == "last_week":
        return monday - timedelta(days=7), monday - timedelta(days=1)
    if period == "this_month":
        last = calendar.monthrange(today.year, today.month)[1]
        return today.replace(day=1), today.replace(day=last)
    if period == "last_month":
        end_prev = today.replace(day=1) - timedelta(days=1)
        return end_prev.replace(day=1), end_prev
    if period == "custom":
        return start, end
    return None, None


@dataclass
class TimesheetFilter:
    start: date | None = None
    end: date | None = None
    user_id: int | None = None
    client_id: int | None = None
    status: str | None = None
    billable: bool | None = None
    sync: str | None = None

    def conditions(self) -> list:
        """WHERE clauses on TimeEntry alone, so the list, the totals and the CSV share them."""
        conds: list = []
        if self.start:
            conds.append(TimeEntry.entry_date >= self.start)
        if self.end:
            conds.append(TimeEntry.entry_date <= self.end)
        if self.user_id is not None:
            conds.append(TimeEntry.user_id == self.user_id)
        if self.client_id is not None:
            conds.append(TimeEntry.client_id == self.client_id)
        if self.status:
            conds.append(TimeEntry.status == self.status)
        if self.billable is not None:
            conds.append(TimeEntry.billable.is_(self.billable))
        if self.sync == "pushed":
            conds.append(TimeEntry.qbo_time_activity_id.is_not(None))
        elif self.sync == "not_pushed":
            conds.append(TimeEntry.qbo_time_activity_id.is_(None))
        elif self.sync == "pending":  # what the next sync will create, update or delete
            approved = TimeEntry.status == "approved"
            pushed = TimeEntry.qbo_time_activity_id.is_not(None)
            conds.append(db.or_(
                db.and_(approved, TimeEntry.sync_message.is_(None),
                        db.or_(~pushed, TimeEntry.version > TimeEntry.qbo_pushed_version)),
                db.and_(~approved, pushed)))
        elif self.sync == "attention":
            conds.append(TimeEntry.sync_message.is_not(None))
        return conds


def entries_stmt(flt: TimesheetFilter):
    """The report's rows, in timesheet order (date, staff, client), with what each row shows."""
    return (
        scoped(TimeEntry)
        .where(*flt.conditions())
        .join(User, TimeEntry.user_id == User.id)
        .options(
            contains_eager(TimeEntry.user),  # the join above, not a second one
            joinedload(TimeEntry.client),
            joinedload(TimeEntry.category),
        )
        .order_by(TimeEntry.entry_date, User.name, TimeEntry.id)
    )


def entry_amount(entry: TimeEntry) -> Decimal:
    """Billable amount of one entry: hours x the staff member's rate; 0 when not billable."""
    if not entry.billable:
        return ZERO
    return (entry.hours * (entry.user.hourly_rate or ZERO)).quantize(CENT)


@dataclass
class TotalRow:
    label: str
    hours: Decimal = ZERO
    billable_hours: Decimal = ZERO
    amount: Decimal = ZERO
    rate: Decimal | None = None

    def add(self, hours: Decimal, billable_hours: Decimal, amount: Decimal) -> None:
        self.hours += hours
        self.billable_hours += billable_hours
        self.amount += amount


@dataclass
class Totals:
    by_staff: list[TotalRow] = field(default_factory=list)
    by_client: list[TotalRow] = field(default_factory=list)
    grand: TotalRow = field(default_factory=lambda: TotalRow("Total"))


def _dec(value: object) -> Decimal:
    """SUM() comes back as Decimal on PostgreSQL and may be float on SQLite: normalise."""
    return Decimal(str(value or 0)).quantize(CENT)


def totals(flt: TimesheetFilter) -> Totals:
    """Hours and billable amounts per staff member, per client and overall, for every row the
    filter matches (not only the page on screen). One grouped query; rates applied in Python
    so money stays Decimal on every database."""
    billable_hours = func.sum(case((TimeEntry.billable.is_(True), TimeEntry.hours), else_=0))
    stmt = (
        db.select(TimeEntry.user_id, TimeEntry.client_id, func.sum(TimeEntry.hours),
                  billable_hours)
        .where(TimeEntry.firm_id == firm_id(), *flt.conditions())
        .group_by(TimeEntry.user_id, TimeEntry.client_id)
    )
    groups = db.session.execute(stmt).all()
    user_ids = {g[0] for g in groups}
    client_ids = {g[1] for g in groups if g[1] is not None}
    users = {u.id: u for u in db.session.execute(
        scoped(User).where(User.id.in_(user_ids))).scalars()} if user_ids else {}
    clients = {c.id: c for c in db.session.execute(
        scoped(Client).where(Client.id.in_(client_ids))).scalars()} if client_ids else {}

    result = Totals()
    staff_rows: dict[int, TotalRow] = {}
    client_rows: dict[int | None, TotalRow] = {}
    for user_id, client_id, hours, bill in groups:
        hours, bill = _dec(hours), _dec(bill)
        user = users[user_id]
        amount = (bill * (user.hourly_rate or ZERO)).quantize(CENT)
        staff_rows.setdefault(user_id, TotalRow(user.name, rate=user.hourly_rate)).add(
            hours, bill, amount)
        label = clients[client_id].display_name if client_id in clients else "No client (internal)"
        client_rows.setdefault(client_id, TotalRow(label)).add(hours, bill, amount)
        result.grand.add(hours, bill, amount)
    result.by_staff = sorted(staff_rows.values(), key=lambda r: r.label.casefold())
    result.by_client = sorted(client_rows.values(), key=lambda r: r.label.casefold())
    return result


# --- CSV --------------------------------------------------------------------------------------

CSV_HEADER = ("Date", "Staff", "Client", "Category", "Description", "Hours", "Billable",
              "Status", "Locked", "Amount")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> str:
    """Text a spreadsheet will not run: cells starting like a formula get a leading quote
    (OWASP CSV injection guidance)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_rows(entries: Iterable[TimeEntry]) -> Iterator[list[str]]:
    """The same columns and values the table shows, one list per entry."""
    for e in entries:
        yield [csv_safe(v) for v in (
            e.entry_date.isoformat(),
            e.user.name,
            e.client.display_name if e.client else "",
            e.category.name if e.category else "",
            e.description or "",
            f"{e.hours:.2f}",
            "Yes" if e.billable else "No",
            e.status.capitalize(),
            "Yes" if e.locked else "No",
            f"{entry_amount(e):.2f}",
        )]


# --- approval actions -------------------------------------------------------------------------


@dataclass
class ActionResult:
    changed: int = 0
    locked: int = 0
    skipped: int = 0  # in the firm, but not in a state the action applies to


def _selected(ids: list[int]) -> list[TimeEntry]:
    """The current firm's entries among `ids`; ids of other firms simply never match."""
    if not ids:
        return []
    return list(db.session.execute(scoped(TimeEntry).where(TimeEntry.id.in_(ids))).scalars())


def approve(ids: list[int], approver: User) -> ActionResult:
    """submitted -> approved, recording who and when. Approving does not lock: locking belongs
    to invoicing (DESIGN T3)."""
    result = ActionResult()
    now = utcnow()
    for entry in _selected(ids):
        if entry.locked:
            result.locked += 1
        elif entry.status != "submitted":
            result.skipped += 1
        else:
            entry.status = "approved"
            entry.approved_by_id = approver.id
            entry.approved_at = now
            entry.version = (entry.version or 0) + 1
            result.changed += 1
    return result


def return_to_draft(ids: list[int]) -> ActionResult:
    """submitted/approved and not locked -> draft, clearing the approval, so the author can
    correct it. Locked (invoiced) entries are refused."""
    result = ActionResult()
    for entry in _selected(ids):
        if entry.locked:
            result.locked += 1
        elif entry.status not in ("submitted", "approved"):
            result.skipped += 1
        else:
            entry.status = "draft"
            entry.approved_by_id = None
            entry.approved_at = None
            entry.version = (entry.version or 0) + 1
            result.changed += 1
    return result
