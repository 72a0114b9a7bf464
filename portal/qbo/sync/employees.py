"""Which QBO Employee a staff member's time belongs to (rule T2).

The match is strict on purpose: time is pay and billing, so a TimeActivity goes to the one
*active* Employee whose name AND email both equal the staff user's (compared without case
and with runs of spaces squashed). Anything else is held with a message that names the staff
member and says what to fix in QuickBooks Payroll, because guessing wrong would put hours on
somebody else's timesheet.

The list is read once per run (``load_directory``: one paged query over active and inactive
employees; inactive ones are kept only to explain a hold), never once per entry. Because the
fix happens in QuickBooks, entries held here are re-checked by every run that has them (one
read of the list), and go out as soon as the employee matches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from portal.qbo.client import QboClient

# Every employee hold message contains this phrase, so the time sync can tell "fixable in
# Payroll" holds (retried for free when the list shows a match) from other holds.
PAYROLL = "QuickBooks Payroll"
AFTER_FIX = "and the time goes to QuickBooks with the next sync (hourly or after an approval)"


class StaffLike(Protocol):
    name: str
    email: str


def squash(value: str | None) -> str:
    """Case-free, single-spaced text: "  Alice   NGUYEN " -> "alice nguyen"."""
    return " ".join((value or "").split()).casefold()


def employee_names(employee: Mapping[str, Any]) -> set[str]:
    """The spellings an Employee goes by: DisplayName, "Given Family", "Given Middle Family"."""
    given, middle, family = (employee.get(k) or "" for k in
                             ("GivenName", "MiddleName", "FamilyName"))
    names = {squash(employee.get("DisplayName")), squash(f"{given} {family}"),
             squash(f"{given} {middle} {family}")}
    return {n for n in names if n}


def employee_email(employee: Mapping[str, Any]) -> str:
    email = employee.get("PrimaryEmailAddr")
    return squash(email.get("Address") if isinstance(email, Mapping) else None)


def label(employee: Mapping[str, Any]) -> str:
    name = employee.get("DisplayName") or " ".join(
        p for p in (employee.get("GivenName"), employee.get("FamilyName")) if p)
    return f'"{name}" (Id {employee.get("Id")})'


@dataclass(frozen=True)
class Match:
    """The employee to use, or why there is none (``reason`` names the person and the fix)."""

    employee: Mapping[str, Any] | None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.employee is not None

    @property
    def employee_id(self) -> str | None:
        return str(self.employee["Id"]) if self.employee is not None else None

    @property
    def bill_rate(self) -> Any:
        return self.employee.get("BillRate") if self.employee is not None else None


class Directory:
    """The firm's QBO employees, indexed for matching; built once per run."""

    def __init__(self, employees: Iterable[Mapping[str, Any]]) -> None:
        self.employees = list(employees)
        self._cache: dict[tuple[str, str], Match] = {}

    def match(self, staff: StaffLike) -> Match:
        key = (squash(staff.name), squash(staff.email))
        if key not in self._cache:
            self._cache[key] = self._match(staff, *key)
        return self._cache[key]

    def _match(self, staff: StaffLike, name: str, email: str) -> Match:
        who = f"{' '.join(staff.name.split())} ({staff.email})"
        both, same_name, same_email = [], [], []
        for emp in self.employees:
            name_ok = name in employee_names(emp)
            email_ok = bool(email) and email == employee_email(emp)
            if name_ok and email_ok:
                both.append(emp)
            elif name_ok:
                same_name.append(emp)
            elif email_ok:
                same_email.append(emp)
        active = [e for e in both if e.get("Active", True)]
        if len(active) == 1:
            return Match(active[0])
        if len(active) > 1:
            ids = ", ".join(label(e) for e in active)
            return Match(None, f"Time of {who} is held: several active QuickBooks employees "
                               f"match this name and email ({ids}). Fix in {PAYROLL}: make "
                               f"the email of all but one different or deactivate the "
                               f"duplicates, {AFTER_FIX}.")
        if both:
            return Match(None, f"Time of {who} is held: the matching QuickBooks employee "
                               f"{label(both[0])} is inactive. Fix in {PAYROLL}: reactivate "
                               f"the employee, {AFTER_FIX}.")
        live_name = [e for e in same_name if e.get("Active", True)]
        if live_name:
            emp = live_name[0]
            theirs = employee_email(emp) or "no email"
            return Match(None, f"Time of {who} is held: QuickBooks employee {label(emp)} has "
                               f"the same name but email {theirs}. Fix in {PAYROLL}: set the "
                               f"employee's email to {staff.email} (or correct the user's "
                               f"email in the portal), {AFTER_FIX}.")
        live_email = [e for e in same_email if e.get("Active", True)]
        if live_email:
            emp = live_email[0]
            return Match(None, f"Time of {who} is held: QuickBooks employee {label(emp)} has "
                               f"this email but another name. Fix in {PAYROLL}: rename the "
                               f"employee to {' '.join(staff.name.split())} (or correct the "
                               f"user's name in the portal), {AFTER_FIX}.")
        return Match(None, f"Time of {who} is held: no QuickBooks employee has this name and "
                           f"email. Fix in {PAYROLL}: add the employee with exactly this name "
                           f"and email (or correct the existing one), {AFTER_FIX}.")


def load_directory(qbo: QboClient) -> Directory:
    """Every employee, active or not, in one paged query (one call for up to 1000)."""
    return Directory(qbo.query_all("Employee", where="Active IN (true, false)"))


def is_payroll_hold(reason: str | None) -> bool:
    return PAYROLL in (reason or "")
