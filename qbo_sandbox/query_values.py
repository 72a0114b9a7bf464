"""Typed literals and comparisons for WHERE and ORDERBY.

Choices (all UNCONFIRMED against a real QBO, see reference §3 and §13.5):
- every string comparison (=, IN, <, >, LIKE, ORDERBY) is case-insensitive, for every entity;
- a date or timestamp literal without a UTC offset is read in the offset of the value it is
  compared with (QBO stores every timestamp in the company's offset, so this means "company
  local time"); literals with an offset (``-0700`` or ``-07:00`` or ``Z``) compare as instants;
- a string that is a single space (``' '``) is QBO's null: ``= ' '`` matches absent values;
- numbers may be quoted (``Balance > '0.0'``, as the .NET SDK sends) and ids may be unquoted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from qbo_sandbox.query_lexer import Token, validation_error
from qbo_sandbox.query_schema import Field

NULL = object()  # the ' ' literal

_DT = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?",
    re.ASCII,
)


@dataclass(frozen=True)
class Stamp:
    """A point in time as written: wall-clock time plus its offset, if one was given."""

    local: datetime
    tz: tzinfo | None

    def instant(self) -> datetime:
        return self.local.replace(tzinfo=self.tz or UTC)


def parse_stamp(text: str) -> Stamp | None:
    m = _DT.fullmatch(text.strip())
    if not m:
        return None
    y, mo, d, h, mi, s, frac, off = m.groups()
    try:
        local = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0))
        if frac:
            local += timedelta(microseconds=int(frac[:6].ljust(6, "0")))
        tz = None
        if off == "Z":
            tz = UTC
        elif off:
            digits = off[1:].replace(":", "")
            delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            tz = timezone(-delta if off[0] == "-" else delta)
    except ValueError:  # month 13, offset of 25 hours, ...
        return None
    return Stamp(local, tz)


def coerce(fld: Field, tok: Token) -> object:
    """The literal ``tok`` as a value of ``fld``'s kind; 4001 when it cannot be one."""
    if tok.kind == "STRING" and tok.value == " ":
        return NULL
    kind, v = fld.kind, tok.value
    text = v if tok.kind == "STRING" else tok.image
    if kind == "bool":
        if isinstance(v, bool):
            return v
        if isinstance(v, str) and v.lower() in ("true", "false"):
            return v.lower() == "true"
    elif isinstance(v, bool):
        pass  # true/false only make sense for booleans
    elif kind in ("id", "ref", "str", "email"):
        return text
    elif kind == "num":
        number = to_decimal(text)
        if number is not None:
            return number
    elif kind in ("datetime", "date") and tok.kind == "STRING":
        stamp = parse_stamp(text)
        if stamp is not None:
            return stamp.local.date() if kind == "date" else stamp
    raise validation_error(f"value {tok.image} is not valid for property '{fld.name}'")


def to_decimal(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def lookup(entity: dict, path: tuple[str, ...]) -> Any:
    value: Any = entity
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def id_key(value: object) -> tuple:
    """Numeric ids order as numbers ("2" < "10"); anything else after them, as text."""
    text = str(value).strip()
    return (0, int(text), "") if text.isascii() and text.isdigit() else (1, 0, text)


def _normal(kind: str, raw: object) -> object:
    """The stored value in the form its literals were coerced to; None when unusable."""
    if kind in ("id", "ref"):
        return id_key(raw)
    if kind in ("str", "email"):
        return str(raw).casefold()
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        return {"true": True, "false": False}.get(str(raw).lower())
    if kind == "num":
        return to_decimal(raw)
    stamp = parse_stamp(str(raw))
    if stamp is None:
        return None
    return stamp.local.date() if kind == "date" else stamp


def _lit(kind: str, lit: object) -> object:
    if kind in ("id", "ref"):
        return id_key(lit)
    if kind in ("str", "email"):
        return str(lit).casefold()
    return lit


def _pair(left: object, right: object) -> tuple[object, object]:
    if isinstance(left, Stamp) and isinstance(right, Stamp):
        if left.tz is not None and right.tz is not None:
            return left.instant(), right.instant()
        return left.local, right.local
    return left, right


def like(value: str, pattern: str) -> bool:
    """SQL LIKE with ``%`` as the only wildcard, case-insensitive.

    Matched segment by segment (leftmost occurrence is always safe with ``%`` alone), so a
    pattern such as ``'%a%a%a...%b'`` costs linear time, unlike a backtracking regex.
    """
    value, parts = value.casefold(), pattern.casefold().split("%")
    if len(parts) == 1:
        return value == parts[0]
    head, *middle, tail = parts
    if not value.startswith(head) or len(value) < len(head) + len(tail):
        return False
    pos, end = len(head), len(value) - len(tail)
    for part in middle:
        found = value.find(part, pos, end)
        if found < 0:
            return False
        pos = found + len(part)
    return value.endswith(tail)


def matches(fld: Field, op: str, values: tuple, entity: dict) -> bool:
    raw = lookup(entity, fld.path)
    if raw is None or raw == "":
        return NULL in values
    value = _normal(fld.kind, raw)
    if value is None:
        return False
    for lit in values:
        if lit is NULL:
            continue
        if op == "LIKE":
            if like(str(value), str(lit)):
                return True
            continue
        left, right = _pair(value, _lit(fld.kind, lit))
        if op in ("=", "IN") and left == right:
            return True
        if op == "<" and left < right:  # type: ignore[operator]
            return True
        if op == ">" and left > right:  # type: ignore[operator]
            return True
        if op == "<=" and left <= right:  # type: ignore[operator]
            return True
        if op == ">=" and left >= right:  # type: ignore[operator]
            return True
    return False


def sort_key(kind: str | None, raw: object) -> tuple:
    """Total order for ORDERBY: absent values first, then by ``kind`` (guessed when None)."""
    if raw is None or raw == "":
        return (0,)
    if kind is None:
        return (1, *_guessed_key(raw))
    if kind in ("datetime", "date"):
        stamp = parse_stamp(str(raw))
        if stamp is None:
            return (2, str(raw).casefold())
        return (1, stamp.instant() if kind == "datetime" else stamp.local)
    if kind == "num":
        number = to_decimal(raw)
        return (1, number) if number is not None else (2, str(raw).casefold())
    if kind == "bool":
        return (1, _normal("bool", raw) is True)
    if kind in ("id", "ref"):
        return (1, id_key(raw))
    return (1, str(raw).casefold())


def _guessed_key(raw: object) -> tuple:
    """Key for a property outside the filterable list: ranks by JSON type, then by value."""
    if isinstance(raw, bool):
        return (0, raw)
    number = to_decimal(raw) if isinstance(raw, (int, float)) else None
    if number is not None:
        return (1, number)
    if isinstance(raw, dict):
        inner = raw.get("value", raw.get("Address"))
        if inner is not None and not isinstance(inner, (dict, list)):
            return (2, id_key(inner))
    return (3, str(raw).casefold())
