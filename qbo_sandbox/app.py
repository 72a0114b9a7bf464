"""Application factory for the QBO sandbox. Imports nothing from ``portal/``."""

from __future__ import annotations

import atexit
import secrets
from typing import Any

from flask import Flask, Response, g, request

from . import api, control, oauth, seed, ui, webhooks
from .config import load
from .core import Sandbox
from .errors import auth_failed, system_fault, throttled
from .faults import DROP_KEY, DropMiddleware

SESSION_COOKIE = (
    "qbo_sandbox_session"  # never Flask's default "session": the portal shares the host
)


def create_app(config: dict[str, Any] | None = None, config_file: str | None = None) -> Flask:
    """Build a sandbox app. ``config`` overrides ``config_file`` which overrides the defaults."""
    cfg = load(config, config_file)
    app = Flask(__name__, static_url_path="/_sandbox/static")
    app.config.update(
        SECRET_KEY=cfg["secret_key"] or secrets.token_hex(32),
        SESSION_COOKIE_NAME=SESSION_COOKIE,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        MAX_CONTENT_LENGTH=cfg["max_body_bytes"],
        JSON_SORT_KEYS=False,
    )
    sb = Sandbox(cfg)
    app.extensions["qbo_sandbox"] = sb
    seed.seed(sb)
    hooks = webhooks.install(sb)  # delivery thread starts with the first subscribed event
    app.extensions["qbo_webhooks"] = hooks
    atexit.register(hooks.stop)
    app.register_blueprint(oauth.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(control.bp)
    app.register_blueprint(ui.bp)
    api.register_error_handlers(app)
    _install_hooks(app, sb)
    app.wsgi_app = DropMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    return app


def _install_hooks(app: Flask, sb: Sandbox) -> None:
    @app.before_request
    def _inject_faults() -> Response | None:
        request.max_content_length = sb.config["max_body_bytes"]
        if request.path.startswith("/_sandbox"):
            return None
        realm = (request.view_args or {}).get("realm")
        rule = sb.faults.take(request.method, request.path, realm)
        if rule is None:
            return None
        sb.counters.bump("faults_injected", rule.kind)
        if rule.kind in ("500", "503"):
            raise system_fault("injected fault", status=int(rule.kind))
        if rule.kind == "429":
            sb.counters.bump("throttled", realm or "-")
            raise throttled()
        if rule.kind == "401":
            raise auth_failed("Token expired: injected by the sandbox")
        if rule.kind == "hang":
            sb.clock.sleep(
                rule.hang_seconds if rule.hang_seconds is not None else sb.config["hang_seconds"]
            )
            request.environ[DROP_KEY] = "reset"
            return Response("")
        g.drop_after = rule.drop  # commit_then_drop: run for real, drop on the way out
        return None

    @app.after_request
    def _headers(resp: Response) -> Response:
        resp.headers["intuit_tid"] = Sandbox.new_tid()
        if g.get("drop_after"):
            request.environ[DROP_KEY] = g.drop_after
        return resp
