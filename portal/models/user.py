"""Portal users: staff of one firm, with a role and an hourly rate."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal.extensions import db
from portal.models._common import MONEY, ZERO, utcnow

ROLES = ("admin", "manager", "staff")


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (Index("ix_users_firm_name", "firm_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10), default="staff")
    hourly_rate: Mapped[Decimal] = mapped_column(MONEY, default=ZERO)
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped to end every session of this user server-side (logout, deactivation).
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    firm = relationship("Firm")

    def set_password(self, password: str) -> None:
        from flask import current_app

        # scrypt with werkzeug's strong defaults; the test config lowers the work factor only
        # to keep the suite fast (PASSWORD_HASH_METHOD).
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def can_approve(self) -> bool:
        return self.role in ("admin", "manager")

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"
