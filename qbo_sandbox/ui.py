"""The human UI at ``/_sandbox/``: sign in as an Intuit user, pick a company, browse and edit.

Every write goes through the same service layer as the API (``service.write``, the merge
module), so the API's rules apply and their Faults show up as form errors; change events (and
so webhooks) fire exactly as for API writes. The session cookie is the consent pages' one
(``qbo_sandbox_session``): signing in here also signs in there. POST forms carry a per-session
CSRF token; pages send a CSP without inline scripts.
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
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from . import service
from .clock import parse_iso
from .core import current_sandbox
from .errors import QboFault
from .merge import merge_customers

bp = Blueprint("ui", __name__, url_prefix="/_sandbox")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# Fault element -> the customer form field it belongs to
CUSTOMER_FIELDS = {
    "DisplayName": "display_name",
    "GivenName": "given_name",
    "FamilyName": "family_name",
    "CompanyName": "company_name",
    "PrimaryEmailAddr": "email",
    "PrimaryEmailAddr.Address": "email",
    "PrimaryPhone": "phone",
    "PrimaryPhone.FreeFormNumber": "phone",
    "SyncToken": "sync_token",
}
NAME_CODES = {"6240": "display_name", "6080": "display_name"}


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


# -- customers -----------------------------------------------------------------------------------
@bp.get("/company/<realm>/customers")
@login_required
def customers(realm: str) -> Any:
    company_or_404(realm)
    q = request.args.get("q", "").strip()
    status = request.args.get("status", "active")
    rows = current_sandbox().store.list_entities(realm, "Customer")
    if status == "active":
        rows = [c for c in rows if c.get("Active") is not False]
    elif status == "inactive":
        rows = [c for c in rows if c.get("Active") is False]
    if q:
        needle = q.casefold()
        rows = [
            c
            for c in rows
            if any(
                needle in str(c.get(k) or "").casefold()
                for k in ("DisplayName", "CompanyName", "GivenName", "FamilyName")
            )
        ]
    rows.sort(key=lambda c: str(c.get("FullyQualifiedName") or c["DisplayName"]).casefold())
    return render("ui/customers.html", realm, customers=rows, q=q, status=status)


def _customer_form(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "sync_token": doc.get("SyncToken", ""),
        "display_name": doc.get("DisplayName", ""),
        "given_name": doc.get("GivenName", ""),
        "family_name": doc.get("FamilyName", ""),
        "company_name": doc.get("CompanyName", ""),
        "email": (doc.get("PrimaryEmailAddr") or {}).get("Address", ""),
        "phone": (doc.get("PrimaryPhone") or {}).get("FreeFormNumber", ""),
        "active": doc.get("Active") is not False,
    }


def _customer_page(realm: str, doc: dict[str, Any], form: dict[str, Any], **extra: Any) -> str:
    store = current_sandbox().store
    lookup = names(realm, "Employee", "Vendor", "Item")
    invoices = [
        i
        for i in store.list_entities(realm, "Invoice")
        if (i.get("CustomerRef") or {}).get("value") == doc["Id"]
    ]
    times = [
        t
        for t in store.list_entities(realm, "TimeActivity")
        if (t.get("CustomerRef") or {}).get("value") == doc["Id"]
    ]
    others = [
        c
        for c in store.list_entities(realm, "Customer")
        if c["Id"] != doc["Id"] and c.get("Active") is not False
    ]
    others.sort(key=lambda c: str(c["DisplayName"]).casefold())
    return render(
        "ui/customer.html",
        realm,
        customer=doc,
        form=form,
        invoices=invoices,
        times=times,
        others=others,
        lookup=lookup,
        ref_name=ref_name,
        errors=extra.get("errors", []),
        field_errors=extra.get("field_errors", {}),
    )


@bp.get("/company/<realm>/customers/<cid>")
@login_required
def customer(realm: str, cid: str) -> Any:
    company_or_404(realm)
    doc = service.Ctx(current_sandbox(), realm).load("Customer", cid) or abort(404)
    return _customer_page(realm, doc, _customer_form(doc))


@bp.post("/company/<realm>/customers/<cid>")
@login_required
def customer_save(realm: str, cid: str) -> Any:
    company_or_404(realm)
    sb = current_sandbox()
    doc = service.Ctx(sb, realm).load("Customer", cid) or abort(404)
    f = request.form
    form = {k: f.get(k, "").strip() for k in _customer_form(doc) if k != "active"}
    form["active"] = f.get("active") == "on"
    payload = {
        "Id": doc["Id"],
        "SyncToken": form["sync_token"],
        "sparse": True,
        "DisplayName": form["display_name"] or None,
        "GivenName": form["given_name"] or None,
        "FamilyName": form["family_name"] or None,
        "CompanyName": form["company_name"] or None,
        "PrimaryEmailAddr": {"Address": form["email"]} if form["email"] else None,
        "PrimaryPhone": {"FreeFormNumber": form["phone"]} if form["phone"] else None,
        "Active": form["active"],
    }
    try:
        saved = service.write(sb, realm, "Customer", payload, "update")["Customer"]
    except QboFault as exc:
        field_errors = {}
        for err in exc.errors:
            name = NAME_CODES.get(err.code) or CUSTOMER_FIELDS.get(err.element)
            if name:
                field_errors[name] = err.detail or err.message
        return _customer_page(
            realm, doc, form, errors=fault_messages(exc), field_errors=field_errors
        ), 400
    flash(f"Saved {saved['DisplayName']} (SyncToken {saved['SyncToken']}).", "ok")
    return redirect(url_for("ui.customer", realm=realm, cid=cid))


@bp.post("/company/<realm>/customers/<cid>/merge")
@login_required
def customer_merge(realm: str, cid: str) -> Any:
    company_or_404(realm)
    sb = current_sandbox()
    into = request.form.get("into", "")
    try:
        source = service.Ctx(sb, realm).load("Customer", cid) or abort(404)
        survivor = merge_customers(sb, realm, cid, into)
    except QboFault as exc:
        for message in fault_messages(exc):
            flash(message, "error")
        return redirect(url_for("ui.customer", realm=realm, cid=cid))
    flash(
        f"Merged {source['DisplayName']} into {survivor['DisplayName']}; "
        f"{source['DisplayName']} is now inactive.",
        "ok",
    )
    return redirect(url_for("ui.customer", realm=realm, cid=survivor["Id"]))


# -- invoices and payments -----------------------------------------------------------------------
def invoice_state(inv: dict[str, Any]) -> str:
    if str(inv.get("PrivateNote", "")).startswith("Voided"):
        return "Voided"
    total, balance = inv.get("TotalAmt", 0), inv.get("Balance", 0)
    if balance <= 0 and total > 0:
        return "Paid"
    return "Partially paid" if 0 < balance < total else "Open"


@bp.get("/company/<realm>/invoices")
@login_required
def invoices(realm: str) -> Any:
    company_or_404(realm)
    rows = current_sandbox().store.list_entities(realm, "Invoice")
    customer_id = request.args.get("customer", "")
    if customer_id:
        rows = [i for i in rows if (i.get("CustomerRef") or {}).get("value") == customer_id]
    rows.sort(key=lambda i: (i.get("TxnDate", ""), int(i["Id"])), reverse=True)
    return render(
        "ui/invoices.html",
        realm,
        invoices=rows,
        lookup=names(realm, "Customer"),
        ref_name=ref_name,
        state=invoice_state,
    )


def _invoice_page(realm: str, inv: dict[str, Any], **extra: Any) -> str:
    lookup = names(realm, "Customer", "Item")
    return render(
        "ui/invoice.html",
        realm,
        invoice=inv,
        lookup=lookup,
        ref_name=ref_name,
        state=invoice_state(inv),
        today=current_sandbox().today(realm),
        amount=extra.get("amount", f"{inv.get('Balance', 0):.2f}"),
        errors=extra.get("errors", []),
    )


@bp.get("/company/<realm>/invoices/<iid>")
@login_required
def invoice(realm: str, iid: str) -> Any:
    company_or_404(realm)
    inv = service.Ctx(current_sandbox(), realm).load("Invoice", iid) or abort(404)
    return _invoice_page(realm, inv)


@bp.post("/company/<realm>/invoices/<iid>/payments")
@login_required
def record_payment(realm: str, iid: str) -> Any:
    """Create a Payment applied to this invoice, exactly as an API client would."""
    company_or_404(realm)
    sb = current_sandbox()
    inv = service.Ctx(sb, realm).load("Invoice", iid) or abort(404)
    raw = request.form.get("amount", "").strip().replace(",", "").lstrip("$")
    try:
        amount = round(float(raw), 2)
    except ValueError:
        return _invoice_page(realm, inv, amount=raw, errors=["Enter an amount, e.g. 25.00."]), 400
    if amount <= 0:
        return _invoice_page(realm, inv, amount=raw, errors=["The amount must be above 0."]), 400
    payload: dict[str, Any] = {
        "CustomerRef": {"value": inv["CustomerRef"]["value"]},
        "TotalAmt": amount,
        "TxnDate": request.form.get("date") or sb.today(realm),
        "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}],
    }
    if request.form.get("reference"):
        payload["PaymentRefNum"] = request.form["reference"][:21]
    try:
        pay = service.write(sb, realm, "Payment", payload, None)["Payment"]
    except QboFault as exc:
        return _invoice_page(realm, inv, amount=raw, errors=fault_messages(exc)), 400
    number = inv.get("DocNumber") or inv["Id"]
    flash(f"Recorded payment {pay['Id']} of ${amount:,.2f} on invoice {number}.", "ok")
    return redirect(url_for("ui.invoice", realm=realm, iid=iid))


# -- time activities and name lists --------------------------------------------------------------
def duration(ta: dict[str, Any]) -> str:
    """``h:mm`` from Hours/Minutes or StartTime/EndTime minus breaks."""
    if ta.get("Hours") is not None or ta.get("Minutes") is not None:
        minutes = int(ta.get("Hours") or 0) * 60 + int(ta.get("Minutes") or 0)
    else:
        start, end = parse_iso(ta.get("StartTime", "")), parse_iso(ta.get("EndTime", ""))
        if not start or not end:
            return ""
        minutes = int((end - start).total_seconds() // 60)
        minutes -= int(ta.get("BreakHours") or 0) * 60 + int(ta.get("BreakMinutes") or 0)
    return f"{minutes // 60}:{minutes % 60:02d}"


@bp.get("/company/<realm>/time")
@login_required
def time_activities(realm: str) -> Any:
    company_or_404(realm)
    rows = current_sandbox().store.list_entities(realm, "TimeActivity")
    rows.sort(key=lambda t: (t.get("TxnDate", ""), int(t["Id"])), reverse=True)
    return render(
        "ui/time.html",
        realm,
        times=rows,
        lookup=names(realm, "Customer", "Employee", "Vendor", "Item"),
        ref_name=ref_name,
        duration=duration,
    )


@bp.get("/company/<realm>/<kind>")
@login_required
def name_list(realm: str, kind: str) -> Any:
    entity = {"employees": "Employee", "items": "Item", "vendors": "Vendor"}.get(kind)
    if entity is None:
        abort(404)
    company_or_404(realm)
    rows = current_sandbox().store.list_entities(realm, entity)
    rows.sort(key=lambda d: str(d.get("FullyQualifiedName") or d.get("DisplayName")).casefold())
    return render(f"ui/{kind}.html", realm, rows=rows, kind=kind)


@bp.get("/company/<realm>/webhooks")
@login_required
def webhook_log(realm: str) -> Any:
    hooks = current_app.extensions["qbo_webhooks"]
    rows = list(reversed(hooks.deliveries(realm)))
    return render("ui/webhooks.html", realm, deliveries=rows, queued=hooks.pending_events())


@bp.post("/company/<realm>/webhooks/deliver")
@login_required
def webhook_deliver(realm: str) -> Any:
    company_or_404(realm)
    attempted = current_app.extensions["qbo_webhooks"].run(flush=True, ignore_backoff=True)
    flash(f"Attempted {len(attempted)} deliveries.", "ok")
    return redirect(url_for("ui.webhook_log", realm=realm))
