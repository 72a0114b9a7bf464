"""The sync log: one SyncRun per job, one SyncEvent per entity outcome."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models._common import utcnow

RUN_STATUSES = ("queued", "running", "succeeded", "failed", "skipped")


class SyncRun(db.Model):
    __tablename__ = "sync_runs"
    __table_args__ = (Index("ix_sync_runs_firm_started", "firm_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id"))
    kind: Mapped[str] = mapped_column(String(30))  # firm_sync, clients, invoices, time, import
    trigger: Mapped[str] = mapped_column(String(20))  # schedule, button, client, approval
    status: Mapped[str] = mapped_column(String(12), default="queued")
    job_id: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int | None]
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    message: Mapped[str | None] = mapped_column(Text)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    events = relationship("SyncEvent", back_populates="run", order_by="SyncEvent.id")

    @property
    def duration_seconds(self) -> float | None:
        if not self.finished_at:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class SyncEvent(db.Model):
    __tablename__ = "sync_events"
    __table_args__ = (
        Index("ix_sync_events_firm_entity", "firm_id", "entity", "entity_id"),
        Index("ix_sync_events_firm_result", "firm_id", "result"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id"), index=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id"))
    entity: Mapped[str] = mapped_column(String(20))  # client, invoice, time_entry
    entity_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(20))  # created, updated, linked, held, ...
    result: Mapped[str] = mapped_column(String(12))  # ok, held, failed, skipped
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    run = relationship("SyncRun", back_populates="events")
