"""Decisions the sync leaves to a person, and records it will not retry until they change.

- ``ClientReview``: one row per QBO customer that could be one of the firm's clients but
  is not obviously so (an import whose name matches an unlinked client; a push whose client
  matches several customers). The admin picks "Link to <client>", "Import as new" or
  "Ignore"; the row keeps the decision so the next run does not ask again.
- ``SyncHold``: an entity the sync tried and cannot send as it is (a 6240 clash with a vendor,
  a name QBO refuses, a review pending). It is skipped, at no QBO cost, until its version moves
  past ``version`` (the record was edited) or someone asks for that record's sync explicitly.
  Generic on purpose (entity = client, invoice, time_entry) so every flow can use it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models._common import utcnow

REVIEW_STATUSES = ("pending", "linked", "imported", "ignored")
REVIEW_SOURCES = ("import", "push")


class ClientReview(db.Model):
    __tablename__ = "client_reviews"
    __table_args__ = (
        UniqueConstraint("firm_id", "qbo_customer_id", name="uq_client_reviews_firm_customer"),
        Index("ix_client_reviews_firm_status", "firm_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id"))
    qbo_customer_id: Mapped[str] = mapped_column(String(40))
    qbo_display_name: Mapped[str] = mapped_column(String(500), default="")
    # The customer as QBO sent it (names, email, phone, address): "Import as new" needs it.
    qbo_data: Mapped[dict] = mapped_column(JSON, default=dict)
    candidate_client_ids: Mapped[list] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(10), default="import")
    status: Mapped[str] = mapped_column(String(10), default="pending")
    reason: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id"))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="SET NULL"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def is_pending(self) -> bool:
        return self.status == "pending"


class SyncHold(db.Model):
    __tablename__ = "sync_holds"
    __table_args__ = (
        UniqueConstraint("firm_id", "entity", "entity_id", name="uq_sync_holds_entity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id"), index=True)
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int]
    version: Mapped[int] = mapped_column(default=0)  # held while the record is at this version
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
