"""Column helpers shared by the models."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Numeric
from sqlalchemy.orm import Mapped, mapped_column

MONEY = Numeric(12, 2)
HOURS = Numeric(5, 2)


def utcnow() -> datetime:
    """Naive UTC now: SQLite and PostgreSQL `timestamp` columns both store it unchanged."""
    return datetime.now(UTC).replace(tzinfo=None)


class Timestamps:
    """created_at/updated_at; updated_at moves on every UPDATE issued by the ORM."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


ZERO = Decimal("0.00")
