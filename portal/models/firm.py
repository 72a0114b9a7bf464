"""Firm: the tenant. Every other firm-owned row carries firm_id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models._common import utcnow

ROLLUP_CHOICES = ("category", "type")


class Firm(db.Model):
    __tablename__ = "firms"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Which code an invoice line uses: its billable category's, or that category's type's.
    invoice_rollup: Mapped[str] = mapped_column(String(10), default="category")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Firm {self.id} {self.name!r}>"
