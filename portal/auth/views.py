"""Sign in and out."""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

from flask import Blueprint, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_url, login_user, logout_user

from portal.auth import throttle
from portal.auth.forms import LoginForm
from portal.extensions import db, login_manager
from portal.models import User

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)


@login_manager.user_loader
def load_user(user_key: str) -> User | None:
    """Session ids are "<user id>:<session version>": bumping the version ends every session."""
    user_id, _, version = user_key.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def wants_json() -> bool:
    """A script's fetch (Accept: application/json), not a page a person navigates to."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def signed_out_json():
    """What a JSON endpoint answers when nobody (or nobody any more) is signed in."""
    return jsonify(error="signed_out", message="Your session has ended. Sign in again."), 401


@login_manager.unauthorized_handler
def unauthorized():
    """Pages redirect to the sign-in form (coming back afterwards); JSON callers get 401, not
    an HTML login page they cannot use."""
    if wants_json():
        return signed_out_json()
    flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(login_url("auth.login", next_url=request.url))


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths are followed after login (no open redirects).

    Browsers read a backslash as a slash and drop tabs and newlines, so "/\\evil.example" or
    "/<TAB>/evil.example" would leave the site: any backslash, whitespace or control character
    is refused outright rather than normalised.
    """
    if not target:
        return None
    if "\\" in target or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        ip = request.remote_addr or "unknown"
        if throttle.is_blocked(email, ip):
            log.info("event=login state=throttled")
            form.password.errors.append(
                "Too many failed attempts from here. Wait 15 minutes and try again."
            )
            return render_template("auth/login.html", form=form), 429
        user = db.session.execute(db.select(User).where(User.email == email)).scalar_one_or_none()
        if user is None or not user.check_password(form.password.data):
            throttle.record_failure(email, ip)
            form.password.errors.append("Email or password is not correct.")
        elif not user.active:
            form.email.errors.append("This account has been deactivated. Ask your firm admin.")
        else:
            throttle.record_success(email, ip)
            session.clear()  # a new session at sign-in: nothing from before carries over
            login_user(user)
            session["login_at"] = session["seen_at"] = time.time()
            log.info("event=login state=ok user=%s firm=%s", user.id, user.firm_id)
            return redirect(_safe_next(request.args.get("next")) or url_for("dashboard.index"))
    if request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    # Cookie sessions cannot be deleted server-side; bumping the version makes every copy of
    # this user's session cookie (this browser's or a stolen one) worthless.
    current_user.session_version += 1
    db.session.commit()
    logout_user()
    session.clear()
    flash("You have been signed out.", "info")
    return redirect(url_for("auth.login"))
