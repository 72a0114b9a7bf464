"""A firm's QuickBooks Online connection (tokens encrypted at rest) and the Stripe stand-in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models._common import Timestamps

QBO_STATUSES = ("connected", "needs_reconnect", "disconnected")


class QboConnection(Timestamps, db.Model):
    __tablename__ = "qbo_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id"), unique=True)
    realm_id: Mapped[str | None] = mapped_column(String(40))
    company_name: Mapped[str | None] = mapped_column(String(300))
    # Ciphertexts only (portal.qbo.oauth encrypts); plaintext tokens never touch the database.
    access_token_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    refresh_token_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    access_expires_at: Mapped[datetime | None]
    refresh_expires_at: Mapped[datetime | None]
    # Incremented on every token write: compare-and-set guard for serialized refreshes.
    token_version: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(20), default="disconnected")
    connected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    connected_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)

    connected_by = relationship("User")

    @property
    def is_connected(self) -> bool:
        return self.status == "connected"


class StripeConnection(Timestamps, db.Model):
    """Exists to enforce that QBO and Stripe are exclusive (C3)."""

    __tablename__ = "stripe_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id"), unique=True)
    account_id: Mapped[str | None] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(20), default="disconnected")
    connected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    connected_at: Mapped[datetime | None]

    @property
    def is_connected(self) -> bool:
        return self.status == "connected"
