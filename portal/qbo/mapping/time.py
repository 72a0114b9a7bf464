"""Time entries -> QBO TimeActivity payloads, pure (reference §8.5, rule T2).

What a TimeActivity needs from us, and why it looks like this:

- ``NameOf: Employee`` + ``EmployeeRef``: the payroll employee who did the work (the sync
  matches it; this module only takes its Id).
- ``Hours`` / ``Minutes``: QBO wants whole numbers (6350) and refuses a zero duration (6380);
  portal hours have two decimals, so 1.25 h -> 1 h 15 min and 0.01 h -> 1 min (rounded half
  up, never below one minute).
- ``BillableStatus``: ``Billable`` needs a customer (6310) and an hourly rate (6330), so a
  billable entry always carries both; a non-billable one carries neither requirement and sends
  ``HourlyRate: 0`` only so an update from billable to not billable clears the old rate.
- ``Description``: the entry's text plus a marker ``[PP-<firm>-<entry>]``. QBO cannot filter
  TimeActivities by employee or description, so before a re-planned create the sync reads a
  day's activities and looks for this marker: it is how "never two TimeActivities for one
  entry" survives a worker that died between QBO's answer and our commit.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

DESCRIPTION_MAX = 4000
MAX_HOURS = 8760
_MARKER = re.compile(r"\[PP-(\d+)-(\d+)\]")


class TimeEntryLike(Protocol):
    id: int
    entry_date: date
    hours: Decimal
    description: str | None
    billable: bool


def marker(firm_id: int, entry_id: int) -> str:
    """The tag that identifies one portal entry inside a TimeActivity's Description."""
    return f"[PP-{firm_id}-{entry_id}]"


def marker_of(description: str | None) -> tuple[int, int] | None:
    """(firm_id, entry_id) from a Description carrying our marker (the last one wins)."""
    found = _MARKER.findall(description or "")
    if not found:
        return None
    firm_id, entry_id = found[-1]
    return int(firm_id), int(entry_id)


def hours_minutes(hours: Decimal | float | int | str) -> tuple[int, int]:
    """Whole hours and minutes QBO accepts: rounded to the minute, at least one minute."""
    try:
        value = Decimal(str(hours))
    except ArithmeticError:
        raise ValueError(f"{hours!r} is not a number of hours") from None
    if not value.is_finite() or value <= 0:  # NaN would raise InvalidOperation, not a hold
        raise ValueError("a time entry needs more than zero hours")
    value = min(value, Decimal(MAX_HOURS))  # and 1e30 h would overflow the quantize
    total = int((value * 60).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    total = max(1, total)
    return divmod(total, 60)


def description(firm_id: int, entry: TimeEntryLike) -> str:
    """The entry's text (whitespace squashed, cut to fit) followed by the marker."""
    tag = marker(firm_id, entry.id)
    text = " ".join((entry.description or "").split())
    room = DESCRIPTION_MAX - len(tag) - 1
    if len(text) > room:
        text = text[: room - 3].rstrip() + "..."
    return f"{text} {tag}" if text else tag


def money(value: Decimal | float | int | str | None) -> float:
    """A rate as the JSON number QBO expects (two decimals)."""
    return float(Decimal(str(value or 0)).quantize(Decimal("0.01")))


def time_activity_payload(
    entry: TimeEntryLike,
    *,
    firm_id: int,
    employee_id: str,
    hourly_rate: Decimal | None,
    customer_id: str | None = None,
    item_id: str | None = None,
) -> dict[str, Any]:
    """The TimeActivity body for a create, or (with Id/SyncToken added) a sparse update.

    Raises ValueError for an entry QBO would refuse for sure (billable without a customer,
    no hours), so the sync can hold it with a clear reason instead of spending a call.
    """
    if not employee_id:
        raise ValueError("a TimeActivity needs the QuickBooks employee")
    if entry.billable and not customer_id:
        raise ValueError("a billable entry needs a client that is in QuickBooks")
    hours, minutes = hours_minutes(entry.hours)
    body: dict[str, Any] = {
        "NameOf": "Employee",
        "EmployeeRef": {"value": str(employee_id)},
        "TxnDate": entry.entry_date.isoformat(),
        "Hours": hours,
        "Minutes": minutes,
        "Description": description(firm_id, entry),
        "BillableStatus": "Billable" if entry.billable else "NotBillable",
        "HourlyRate": money(hourly_rate) if entry.billable else 0,
    }
    if customer_id:
        body["CustomerRef"] = {"value": str(customer_id)}
    if item_id:
        body["ItemRef"] = {"value": str(item_id)}
    return body


def rate_mismatch(portal_rate: Decimal | None, bill_rate: Any) -> bool:
    """True when the QBO employee has a BillRate and it differs from the portal rate.

    An employee without a BillRate has nothing to disagree with, so it is not flagged.
    """
    if bill_rate in (None, ""):
        return False
    try:
        theirs = Decimal(str(bill_rate)).quantize(Decimal("0.01"))
    except ArithmeticError:
        return True
    return theirs != Decimal(str(portal_rate or 0)).quantize(Decimal("0.01"))
