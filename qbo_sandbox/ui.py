"""The human UI at ``/_sandbox/``: sign in as an Intuit user, pick a company, browse and edit.

Every write goes through the same service layer as the API (``service.write``, the merge
module), so the API's rules apply and their Faults show up as form errors; change events (and
so webhooks) fire exactly as for API writes. The session cookie is the consent pages' one
(``qbo_sandbox_session``): signing in here also signs in there. POST forms carry a per-session
CSRF token; pages send a CSP without inline scripts.

This module holds the blueprint, session/CSRF/access checks, sign-in and the company chooser,
and the helpers the page modules share; ``ui_customers`` and ``ui_transactions`` add the rest.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from .core import current_sandbox
from .errors import QboFault

bp = Blueprint("ui", __name__, url_prefix="/_sandbox")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


# -- session, CSRF, access -----------------------------------------------------------------------
def csrf_token() -> str:
    if "ui_csrf" not in session:
        session["ui_csrf"] = secrets.token_urlsafe(24)
    return session["ui_csrf"]


@bp.app_template_global("ui_csrf_token")
def _csrf_global() -> str:
    return csrf_token()


@bp.before_request
def _check_csrf() -> Any:
    if request.method == "POST" and not request.path.startswith("/_sandbox/api"):
        sent = request.form.get("csrf_token", "")
        if not secrets.compare_digest(session.get("ui_csrf", ""), sent):
            return render_template(
                "ui/message.html",
                title="Form expired",
                message="This form expired or came from another page. Go back, reload and retry.",
            ), 400
    return None


@bp.after_request
def _security_headers(resp: Response) -> Response:
    if not request.path.startswith(("/_sandbox/api", "/_sandbox/static")):
        resp.headers["Content-Security-Policy"] = CSP
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.app_template_filter("money")
def _money(value: Any) -> str:
    try:
        amount = float(value or 0)
    except (TypeError, ValueError):
        return str(value)
    return f"-${-amount:,.2f}" if amount < 0 else f"${amount:,.2f}"


@bp.app_template_filter("stamp")
def _stamp(value: Any) -> str:
    """``2024-01-15T10:30:00-08:00`` -> ``2024-01-15 10:30``."""
    return str(value or "")[:16].replace("T", " ")


def current_user() -> dict[str, Any] | None:
    email = session.get("user")
    return current_sandbox().store.get("user", email) if email else None


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("ui.signin", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper


def company_or_404(realm: str) -> dict[str, Any]:
    """The company, if the signed-in user administers it (404 otherwise, like a wrong URL)."""
    user = current_user() or {}
    company = current_sandbox().company(realm)
    if company is None or realm not in user.get("companies", []):
        abort(404)
    return company


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/_sandbox/") and not urlsplit(target).netloc:
        return target
    return url_for("ui.index")


# -- sign in and company chooser -----------------------------------------------------------------
@bp.route("/signin", methods=["GET", "POST"])
def signin() -> Any:
    nxt = request.values.get("next", "")
    if request.method == "GET":
        return render_template("ui/signin.html", email="", error=None, next=nxt)
    email = request.form.get("email", "").strip().lower()
    user = current_sandbox().store.get("user", email)
    if user is None or not secrets.compare_digest(
        user["password"], request.form.get("password", "")
    ):
        error = "That email and password don't match an Intuit account."
        return render_template("ui/signin.html", email=email, error=error, next=nxt), 401
    session.clear()
    session["user"] = email
    return redirect(_safe_next(nxt))


@bp.post("/signout")
def signout() -> Any:
    session.clear()
    flash("Signed out.", "ok")
    return redirect(url_for("ui.signin"))


@bp.get("/")
@login_required
def index() -> Any:
    sb = current_sandbox()
    user = current_user() or {}
    companies = [
        dict(c, counts=sb.store.count_entities(c["realm_id"]))
        for c in (sb.company(r) for r in user.get("companies", []))
        if c
    ]
    return render_template("ui/companies.html", companies=companies)


@bp.get("/company/<realm>/")
@login_required
def company_home(realm: str) -> Any:
    company_or_404(realm)
    return redirect(url_for("ui.customers", realm=realm))


# -- helpers shared by the list pages ------------------------------------------------------------
def names(realm: str, *entities: str) -> dict[str, str]:
    """Current display names by Id for refs (stored ref names can be stale after renames)."""
    out: dict[str, str] = {}
    store = current_sandbox().store
    for entity in entities:
        for doc in store.list_entities(realm, entity):
            out[f"{entity}:{doc['Id']}"] = doc.get("DisplayName") or doc.get("Name") or doc["Id"]
    return out


def ref_name(lookup: dict[str, str], entity: str, ref: Any) -> str:
    if not isinstance(ref, dict) or not ref.get("value"):
        return ""
    return lookup.get(f"{entity}:{ref['value']}") or ref.get("name") or f"#{ref['value']}"


def render(template: str, realm: str, **ctx: Any) -> str:
    return render_template(template, company=company_or_404(realm), realm=realm, **ctx)


def fault_messages(exc: QboFault) -> list[str]:
    return [
        f"{e.message}: {e.detail} (code {e.code})" if e.detail else f"{e.message} (code {e.code})"
        for e in exc.errors
    ]


# The page modules add their routes to ``bp``; importing them here means ``ui.bp`` is complete
# whenever this module is imported, in the same route order as before the split.
from . import ui_customers, ui_transactions  # noqa: E402, F401
