"""Practice Portal application factory. Importing this package does nothing."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask


def create_app(config: Any = None) -> Flask:
    """Build the app.

    `config` is a config object or class (see portal.config) or a mapping of overrides applied
    on top of the environment's config (tests pass their own). Nothing happens at import time.
    """
    from portal.config import TestConfig, config_from_env

    app = Flask(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_relative_config=True,
    )
    if config is None:
        cfg = config_from_env()
        overrides: dict = {}
    elif isinstance(config, dict):
        cfg = TestConfig() if config.get("TESTING") else config_from_env()
        overrides = config
    else:
        cfg = config() if isinstance(config, type) else config
        overrides = {}
    cfg.validate()
    app.config.from_object(cfg)
    app.config.update(overrides)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    _init_extensions(app)
    _register_blueprints(app)

    from portal import errors, security, web_hooks
    from portal.cli import register_cli

    security.register(app)
    errors.register(app)
    web_hooks.register(app)
    register_cli(app)
    return app


def _init_extensions(app: Flask) -> None:
    from portal import models  # noqa: F401 - metadata must know every table
    from portal.extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=app.config.get("MIGRATIONS_DIR", _migrations_dir()))
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"


def _migrations_dir() -> str:
    import os

    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")


def _register_blueprints(app: Flask) -> None:
    from portal.auth.views import bp as auth_bp
    from portal.clients.views import bp as clients_bp
    from portal.customizations.views import bp as customizations_bp
    from portal.dashboard.views import bp as dashboard_bp
    from portal.integrations import qbo_connect  # noqa: F401 - adds the OAuth routes to bp
    from portal.integrations.client_sync_views import bp as qbo_clients_bp
    from portal.integrations.invoice_sync_views import bp as qbo_invoices_bp
    from portal.integrations.views import bp as integrations_bp
    from portal.invoices.views import bp as invoices_bp
    from portal.reports.views import bp as reports_bp
    from portal.time.views import bp as time_bp
    from portal.users.views import bp as users_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(clients_bp, url_prefix="/clients")
    app.register_blueprint(invoices_bp, url_prefix="/invoices")
    app.register_blueprint(time_bp, url_prefix="/time")
    app.register_blueprint(reports_bp, url_prefix="/reports")
    app.register_blueprint(customizations_bp, url_prefix="/customizations")
    app.register_blueprint(users_bp, url_prefix="/users")
    app.register_blueprint(integrations_bp, url_prefix="/integrations")
    app.register_blueprint(qbo_clients_bp, url_prefix="/integrations/quickbooks/clients")
    app.register_blueprint(qbo_invoices_bp, url_prefix="/integrations/quickbooks/invoices")
