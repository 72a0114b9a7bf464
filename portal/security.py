"""Security headers and session lifetime rules applied to every request.

- CSP allows no inline script or style: pages load /static files only.
- Authenticated pages are never cached (`Cache-Control: no-store`).
- A session ends after SESSION_IDLE_TIMEOUT without requests and PERMANENT_SESSION_LIFETIME
  after sign-in, whatever the activity; both are checked server-side.
- Production refuses to start with secrets that are present but unusable or defaults (what
  ProductionConfig.validate() does not already catch): a trivial SECRET_KEY, a token key that
  is not a Fernet key, or the development QBO app's credentials outside the local sandbox.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from flask import Flask, Response, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user

# The development/test credentials of the sandbox's registered app (qbo_sandbox DEV_APP).
DEV_QBO_CREDENTIALS = frozenset({"sandbox-client-id", "sandbox-client-secret"})
MIN_SECRET_KEY_DISTINCT_CHARS = 10

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)


def csp_for(config: dict) -> str:
    """The CSP, with Intuit's sign-in origin allowed as a form target: Chromium applies
    form-action to redirects too, so "Connect QuickBooks" (a POST answered by a redirect to
    the authorization page) is blocked by a bare 'self'."""
    if config.get("QBO_ENVIRONMENT") == "local":
        parts = urlsplit(config.get("QBO_LOCAL_URL") or "")
        origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    else:
        origin = "https://appcenter.intuit.com"
    if not origin:
        return CSP
    return CSP.replace("form-action 'self'", f"form-action 'self' {origin}")


def check_production_secrets(config: dict) -> None:
    """Raise RuntimeError when a production secret is trivial, unusable or a known default."""
    if config.get("ENV_NAME") != "production":
        return
    secret = (config.get("SECRET_KEY") or "").strip()
    if len(set(secret)) < MIN_SECRET_KEY_DISTINCT_CHARS:
        raise RuntimeError("SECRET_KEY must be a random value, not a repeated pattern")
    for key in config.get("TOKEN_ENCRYPTION_KEYS") or []:
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise RuntimeError(
                "TOKEN_ENCRYPTION_KEYS holds a value that is not a Fernet key "
                "(generate one with cryptography's Fernet.generate_key())"
            ) from None
    if config.get("QBO_ENVIRONMENT") != "local":
        for name in ("QBO_CLIENT_ID", "QBO_CLIENT_SECRET"):
            if config.get(name) in DEV_QBO_CREDENTIALS:
                raise RuntimeError(f"{name} is the local sandbox's development credential")


def _has_nul(values) -> bool:
    return any("\x00" in key or any("\x00" in v for v in vals) for key, vals in values.lists())


def register(app: Flask) -> None:
    check_production_secrets(app.config)

    @app.before_request
    def refuse_nul_characters():
        """PostgreSQL cannot store or compare a NUL character (a 500 in any search box or
        form); no legitimate input contains one, so the request is refused as malformed."""
        if _has_nul(request.args) or (request.method == "POST" and _has_nul(request.form)):
            from portal.errors import render_error

            return render_error(400, "The request contained a character that is not allowed.")
        return None

    @app.before_request
    def enforce_session_lifetime():
        if not current_user.is_authenticated:
            return None
        now = time.time()
        login_at = session.get("login_at")
        seen_at = session.get("seen_at", login_at)
        idle = app.config["SESSION_IDLE_TIMEOUT"].total_seconds()
        absolute = app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
        if login_at is None or now - login_at > absolute or now - (seen_at or 0) > idle:
            logout_user()
            session.clear()
            from portal.auth.views import signed_out_json, wants_json

            if wants_json():
                return signed_out_json()
            flash("Your session has ended. Please sign in again.", "info")
            return redirect(url_for("auth.login", next=request.full_path
                                    if request.method == "GET" else None))
        # Writing the cookie on every request is what makes the idle timer slide.
        session["seen_at"] = now
        return None

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", csp_for(app.config))
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if current_user.is_authenticated and request.endpoint != "static":
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
        return response
