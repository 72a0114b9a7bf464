"""Clients of the firm and the derived display name (DESIGN §2)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models._common import Timestamps

CLIENT_KINDS = ("individual", "joint", "business")


def _squash(value: str | None) -> str:
    """Trim and collapse inner whitespace, so "Van  Dyke" and "Van Dyke" are one last name."""
    return " ".join((value or "").split())


def display_name_for(
    kind: str,
    first_name: str | None = "",
    last_name: str | None = "",
    spouse_first_name: str | None = "",
    spouse_last_name: str | None = "",
    company_name: str | None = "",
) -> str:
    """The client's name as shown everywhere and sent to QBO as DisplayName.

    individual: "First Last"; joint: "First & SpouseFirst Last", or "First Last & SpouseFirst
    SpouseLast" when the last names differ (case-insensitively); business: the company name.
    static/js/clients.js re-implements this rule for the live preview: change both together.
    """
    first, last = _squash(first_name), _squash(last_name)
    spouse_first, spouse_last = _squash(spouse_first_name), _squash(spouse_last_name)
    if kind == "business":
        return _squash(company_name)
    if kind == "joint":
        spouse_last = spouse_last or last
        if spouse_last.casefold() == last.casefold():
            name = f"{first} & {spouse_first} {last}"
        else:
            name = f"{first} {last} & {spouse_first} {spouse_last}"
        return " ".join(name.split())
    return " ".join(f"{first} {last}".split())


class Client(Timestamps, db.Model):
    __tablename__ = "clients"
    __table_args__ = (
        Index("ix_clients_firm_display", "firm_id", "display_name"),
        Index("ix_clients_firm_email", "firm_id", "email"),
        Index("ix_clients_firm_kind", "firm_id", "kind"),
        Index("ix_clients_firm_qbo", "firm_id", "qbo_customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id"))
    kind: Mapped[str] = mapped_column(String(12), default="individual")
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    spouse_first_name: Mapped[str | None] = mapped_column(String(100))
    spouse_last_name: Mapped[str | None] = mapped_column(String(100))
    company_name: Mapped[str | None] = mapped_column(String(200))
    # Stored copy of the derived name so lists can search and sort on it; kept by refresh_name().
    display_name: Mapped[str] = mapped_column(String(500), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    address_line1: Mapped[str | None] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(50))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(60))
    notes: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    # Incremented on every edit; the sync pushes when version > qbo_pushed_version.
    version: Mapped[int] = mapped_column(default=1)

    # QBO link.
    qbo_customer_id: Mapped[str | None] = mapped_column(String(40))
    qbo_sync_token: Mapped[str | None] = mapped_column(String(20))
    qbo_pushed_version: Mapped[int] = mapped_column(default=0)

    def refresh_name(self) -> None:
        self.display_name = display_name_for(
            self.kind,
            self.first_name,
            self.last_name,
            self.spouse_first_name,
            self.spouse_last_name,
            self.company_name,
        )

    def touch(self) -> None:
        """Record an edit: new derived name and a new version for the sync to push."""
        self.refresh_name()
        self.version = (self.version or 0) + 1

    @property
    def is_linked(self) -> bool:
        return bool(self.qbo_customer_id)

    @property
    def needs_push(self) -> bool:
        return self.version > self.qbo_pushed_version

    @property
    def address_lines(self) -> list[str]:
        city_line = " ".join(p for p in (self.city, self.state, self.postal_code) if p)
        return [p for p in (self.address_line1, self.address_line2, city_line, self.country) if p]

    def __repr__(self) -> str:
        return f"<Client {self.id} {self.display_name!r}>"
