"""Billable types and categories. A code is the exact Name of a QBO Product/Service."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db


class BillableType(db.Model):
    __tablename__ = "billable_types"
    __table_args__ = (UniqueConstraint("firm_id", "name", name="uq_billable_types_firm_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)

    categories = relationship(
        "BillableCategory", back_populates="type", order_by="BillableCategory.name"
    )


class BillableCategory(db.Model):
    __tablename__ = "billable_categories"
    __table_args__ = (
        UniqueConstraint("firm_id", "name", name="uq_billable_categories_firm_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id"), index=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("billable_types.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)

    type = relationship("BillableType", back_populates="categories")

    def code_for(self, rollup: str) -> str | None:
        """The code an invoice line in this category uses under the firm's roll-up setting."""
        return self.type.code if rollup == "type" else self.code
