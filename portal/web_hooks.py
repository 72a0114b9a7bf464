"""Per-request hooks: template context shared by every page."""

from __future__ import annotations

from flask import Flask
from flask_login import current_user


def register(app: Flask) -> None:
    @app.context_processor
    def layout_context() -> dict:
        if not current_user.is_authenticated:
            return {}
        from portal.extensions import db
        from portal.models import QboConnection

        qbo = db.session.execute(
            db.select(QboConnection).where(QboConnection.firm_id == current_user.firm_id)
        ).scalar_one_or_none()
        return {"qbo_connection": qbo}
