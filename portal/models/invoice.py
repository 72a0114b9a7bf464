"""Invoices and their lines (DESIGN §2). Once processed_externally an invoice is read-only."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models._common import MONEY, ZERO, Timestamps

INVOICE_STATUSES = ("draft", "new", "processed_externally", "void")
STATUS_LABELS = {
    "draft": "Draft",
    "new": "New",
    "processed_externally": "Processed Externally",
    "void": "Void",
}
CENT = Decimal("0.01")


def line_amount(quantity: Decimal, rate: Decimal) -> Decimal:
    """Qty x rate rounded half-up to cents: the amount QBO will be sent and will accept."""
    return (Decimal(quantity) * Decimal(rate)).quantize(CENT, rounding=ROUND_HALF_UP)


class Invoice(Timestamps, db.Model):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("firm_id", "number", name="uq_invoices_firm_number"),
        Index("ix_invoices_firm_status", "firm_id", "status"),
        Index("ix_invoices_firm_client", "firm_id", "client_id"),
        Index("ix_invoices_firm_date", "firm_id", "issue_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    number: Mapped[str] = mapped_column(String(21))  # QBO DocNumber allows at most 21
    issue_date: Mapped[date]
    due_date: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(24), default="draft")
    memo: Mapped[str | None] = mapped_column(Text)
    total: Mapped[Decimal] = mapped_column(MONEY, default=ZERO)
    version: Mapped[int] = mapped_column(default=1)

    qbo_invoice_id: Mapped[str | None] = mapped_column(String(40))
    qbo_doc_number: Mapped[str | None] = mapped_column(String(21))
    qbo_sync_token: Mapped[str | None] = mapped_column(String(20))
    pushed_at: Mapped[datetime | None]
    # Why the last push held the invoice back, or which lines it left out (shown on the invoice).
    sync_message: Mapped[str | None] = mapped_column(Text)

    client = relationship("Client")
    lines = relationship(
        "InvoiceLine",
        back_populates="invoice",
        order_by="InvoiceLine.position",
        cascade="all, delete-orphan",
    )

    @property
    def is_read_only(self) -> bool:
        return self.status in ("processed_externally", "void")

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    def recompute_total(self) -> None:
        for line in self.lines:
            line.amount = line_amount(line.quantity, line.rate)
        self.total = sum((line.amount for line in self.lines), ZERO)


class InvoiceLine(db.Model):
    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    description: Mapped[str] = mapped_column(String(4000), default="")
    quantity: Mapped[Decimal] = mapped_column(MONEY, default=ZERO)
    rate: Mapped[Decimal] = mapped_column(MONEY, default=ZERO)
    amount: Mapped[Decimal] = mapped_column(MONEY, default=ZERO)
    # A line is billed under a category, or directly under a type (when rolled up by type).
    category_id: Mapped[int | None] = mapped_column(ForeignKey("billable_categories.id"))
    type_id: Mapped[int | None] = mapped_column(ForeignKey("billable_types.id"))

    invoice = relationship("Invoice", back_populates="lines")
    category = relationship("BillableCategory")
    type = relationship("BillableType")
