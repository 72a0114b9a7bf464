"""Invoice numbers: suggested per firm, unique per firm, short enough to be QBO's DocNumber."""

from __future__ import annotations

import re

from portal.extensions import db
from portal.models import Invoice

DEFAULT_NUMBER = "1001"
MAX_LENGTH = 21  # QBO DocNumber allows at most 21 characters
# Letters, digits and a few separators firms use ("INV-1001", "2024/17"); no spaces at the ends.
NUMBER_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9 ._/#-]*[A-Za-z0-9])?$")
_SUFFIX = re.compile(r"^(.*?)(\d+)$")


def suggest_next(existing: list[str]) -> str:
    """The number after the one with the highest numeric suffix, keeping its prefix and
    zero-padding ("INV-0099" -> "INV-0100"); "1001" when nothing numbered exists yet.

    Skips numbers already taken and never suggests one longer than QBO accepts."""
    taken = set(existing)
    best: tuple[int, str, str] | None = None
    for number in existing:
        match = _SUFFIX.match(number)
        if not match:
            continue
        prefix, digits = match.groups()
        value = int(digits)
        if best is None or value > best[0]:
            best = (value, prefix, digits)
    if best is None:
        candidate_prefix, width, value = "", len(DEFAULT_NUMBER), int(DEFAULT_NUMBER) - 1
    else:
        value, candidate_prefix, digits = best
        width = len(digits)
    for _ in range(1000):
        value += 1
        candidate = f"{candidate_prefix}{value:0{width}d}"
        if len(candidate) > MAX_LENGTH:
            break
        if candidate not in taken:
            return candidate
    # Pathological numbering (a suffix at the length limit): fall back to plain numbers.
    value = int(DEFAULT_NUMBER)
    while str(value) in taken:
        value += 1
    return str(value)


def firm_numbers(firm_id: int) -> list[str]:
    return list(
        db.session.execute(db.select(Invoice.number).where(Invoice.firm_id == firm_id)).scalars()
    )


def next_number(firm_id: int) -> str:
    """Suggested number for the firm's next invoice."""
    return suggest_next(firm_numbers(firm_id))


def number_taken(firm_id: int, number: str, exclude_id: int | None = None) -> bool:
    """True when another invoice of the same firm already uses `number`."""
    stmt = db.select(Invoice.id).where(Invoice.firm_id == firm_id, Invoice.number == number)
    if exclude_id is not None:
        stmt = stmt.where(Invoice.id != exclude_id)
    return db.session.execute(stmt.limit(1)).first() is not None
