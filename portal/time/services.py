"""My Time logic: weeks, the user's own entries, choices for the form, and the draft-only rules.

Views own the transaction: nothing here commits.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from flask import abort
from flask_login import current_user

from portal.auth.access import get_for_firm, scoped
from portal.extensions import db
from portal.models import BillableCategory, BillableType, Client, TimeEntry
from portal.models._common import ZERO

# Days a ?week= may name: its week, the one before and the one after must all be real dates.
WEEK_RANGE = (date.min + timedelta(days=14), date.max - timedelta(days=14))


def week_start(day: date) -> date:
    """Weeks run Monday to Sunday, as on a paper timesheet."""
    return day - timedelta(days=day.weekday())


def parse_week(value: str | None, today: date) -> date:
    """The Monday of the week named by `?week=YYYY-MM-DD` (any day of it); this week when the
    value is missing or not a date, so a mangled link still shows a page."""
    try:
        day = date.fromisoformat(value) if value else today
    except ValueError:
        day = today
    if not WEEK_RANGE[0] <= day <= WEEK_RANGE[1]:  # 9999-12-31 has no next week: a 500
        day = today
    return week_start(day)


@dataclass
class WeekView:
    start: date
    entries: list[TimeEntry]

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(7)]

    @property
    def end(self) -> date:
        return self.start + timedelta(days=6)

    @property
    def daily_totals(self) -> list[tuple[date, Decimal]]:
        totals: OrderedDict[date, Decimal] = OrderedDict((d, ZERO) for d in self.days)
        for entry in self.entries:
            totals[entry.entry_date] += entry.hours
        return list(totals.items())

    @property
    def total(self) -> Decimal:
        return sum((e.hours for e in self.entries), ZERO)

    @property
    def draft_ids(self) -> list[int]:
        return [e.id for e in self.entries if e.is_editable]


def my_week(start: date) -> WeekView:
    """The signed-in user's own entries of one week (never anyone else's, whatever the role)."""
    stmt = (
        scoped(TimeEntry)
        .where(
            TimeEntry.user_id == current_user.id,
            TimeEntry.entry_date >= start,
            TimeEntry.entry_date <= start + timedelta(days=6),
        )
        .order_by(TimeEntry.entry_date, TimeEntry.created_at, TimeEntry.id)
    )
    return WeekView(start=start, entries=list(db.session.execute(stmt).scalars()))


def own_entry(entry_id: int) -> TimeEntry:
    """An entry of the current firm recorded by the current user, or 404: other people's
    entries must look exactly like ids that do not exist."""
    entry = get_for_firm(TimeEntry, entry_id)
    if entry.user_id != current_user.id:
        abort(404)
    return entry


def require_editable(entry: TimeEntry) -> None:
    """Refuse (409) any change to an entry that is locked by an invoice or no longer a draft,
    whatever the UI showed."""
    if entry.locked:
        abort(409, description="This entry is locked: it has been invoiced and can no longer "
                               "be changed.")
    if entry.status != "draft":
        abort(409, description=f"This entry is {entry.status}: only drafts can be changed. "
                               "Ask a manager to return it to draft first.")


def client_choices(include_id: int | None = None) -> list[tuple[int, str]]:
    """Active clients of the firm by name, plus `include_id` (the entry's current client) even
    when it has been deactivated since, so editing never silently drops it."""
    cond = Client.active.is_(True)
    if include_id is not None:
        cond = cond | (Client.id == include_id)
    stmt = scoped(Client).where(cond).order_by(Client.display_name, Client.id)
    return [(c.id, c.display_name) for c in db.session.execute(stmt).scalars()]


def category_choices(include_id: int | None = None) -> dict[str, list[tuple[int, str]]]:
    """Active categories of the firm grouped by type name (for <optgroup>), plus the entry's
    current category when it has been deactivated since."""
    cond = BillableCategory.active.is_(True) & BillableType.active.is_(True)
    if include_id is not None:
        cond = cond | (BillableCategory.id == include_id)
    stmt = (
        scoped(BillableCategory)
        .join(BillableType, BillableCategory.type_id == BillableType.id)
        .where(cond)
        .order_by(BillableType.name, BillableCategory.name)
    )
    groups: dict[str, list[tuple[int, str]]] = {}
    for category in db.session.execute(stmt).scalars():
        groups.setdefault(category.type.name, []).append((category.id, category.name))
    return groups


def apply_form(entry: TimeEntry, form) -> None:
    """Copy validated form data onto the entry and bump its version (the sync pushes changes)."""
    entry.client_id = form.client_id.data
    entry.entry_date = form.entry_date.data
    entry.hours = form.hours.data.quantize(Decimal("0.01"))
    entry.category_id = form.category_id.data
    entry.description = (form.description.data or "").strip()
    entry.billable = bool(form.billable.data) and entry.client_id is not None
    if entry.id is not None:
        entry.version = (entry.version or 0) + 1


def submit_drafts(ids: list[int]) -> int:
    """Submit the current user's unlocked drafts among `ids`; anything else is left alone.
    Returns how many were submitted."""
    if not ids:
        return 0
    stmt = scoped(TimeEntry).where(
        TimeEntry.id.in_(ids),
        TimeEntry.user_id == current_user.id,
        TimeEntry.status == "draft",
        TimeEntry.locked.is_(False),
    )
    count = 0
    for entry in db.session.execute(stmt).scalars():
        entry.status = "submitted"
        entry.version = (entry.version or 0) + 1
        count += 1
    return count


def plural(count: int, word: str = "entry", many: str = "entries") -> str:
    return f"{count} {word if count == 1 else many}"
