"""Time entries recorded by staff; approved by managers; locked once invoiced."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models._common import HOURS, Timestamps

TIME_STATUSES = ("draft", "submitted", "approved")


class TimeEntry(Timestamps, db.Model):
    __tablename__ = "time_entries"
    __table_args__ = (
        Index("ix_time_firm_date", "firm_id", "entry_date"),
        Index("ix_time_firm_user_date", "firm_id", "user_id", "entry_date"),
        Index("ix_time_firm_client_status", "firm_id", "client_id", "status"),
        Index("ix_time_firm_status", "firm_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"))
    entry_date: Mapped[date]
    hours: Mapped[Decimal] = mapped_column(HOURS)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("billable_categories.id"))
    description: Mapped[str] = mapped_column(Text, default="")
    billable: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    locked: Mapped[bool] = mapped_column(default=False)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    qbo_time_activity_id: Mapped[str | None] = mapped_column(String(40))
    qbo_sync_token: Mapped[str | None] = mapped_column(String(20))
    qbo_pushed_version: Mapped[int] = mapped_column(default=0)
    sync_message: Mapped[str | None] = mapped_column(Text)

    user = relationship("User", foreign_keys=[user_id])
    approved_by = relationship("User", foreign_keys=[approved_by_id])
    client = relationship("Client")
    category = relationship("BillableCategory")
    invoice = relationship("Invoice")

    @property
    def is_editable(self) -> bool:
        """Staff edit their own drafts; nothing edits a locked (invoiced) entry."""
        return not self.locked and self.status == "draft"
