"""`flask db upgrade` is what builds the schema (never create_all outside tests): the
migrations must produce exactly what the models declare, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from portal import create_app
from portal.extensions import db

CHECK_DB = "portal_migrations_check"


def _postgres_admin(url: str, statement: str) -> None:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(statement))
    admin.dispose()


def test_upgrade_builds_the_models_schema(tmp_path):
    server_url = os.environ.get("DATABASE_URL", "")
    on_postgres = server_url.startswith("postgresql")
    if on_postgres:
        # A database of its own, so the suite's tables in `test` are not disturbed.
        _postgres_admin(server_url, f"DROP DATABASE IF EXISTS {CHECK_DB}")
        _postgres_admin(server_url, f"CREATE DATABASE {CHECK_DB}")
        url = server_url.rsplit("/", 1)[0] + "/" + CHECK_DB
    else:
        url = f"sqlite:///{tmp_path / 'migrated.db'}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    try:
        with app.app_context():
            upgrade()
            with db.engine.connect() as conn:
                diffs = compare_metadata(MigrationContext.configure(conn), db.metadata)
            db.engine.dispose()
    finally:
        if on_postgres:
            _postgres_admin(server_url, f"DROP DATABASE IF EXISTS {CHECK_DB}")
    assert diffs == [], f"models and migrations differ; run `flask db migrate`: {diffs}"
