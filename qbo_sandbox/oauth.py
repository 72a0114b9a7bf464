"""Intuit's OAuth 2.0 endpoints: consent pages, token, revoke, discovery and userinfo.

The consent flow is server-rendered (sign in -> company chooser when the user has several
companies -> consent with Allow/Deny). An unregistered redirect_uri is shown as an error page
and never redirected to, as Intuit does.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, redirect, render_template, request, session, url_for

from .core import current_sandbox
from .tokens import OAuthError, Tokens

bp = Blueprint("oauth", __name__)

ACCOUNTING_SCOPES = {"com.intuit.quickbooks.accounting", "com.intuit.quickbooks.payment"}
KNOWN_SCOPES = ACCOUNTING_SCOPES | {
    "openid",
    "profile",
    "email",
    "phone",
    "address",
    "intuit_name",
    "com.intuit.quickbooks.payroll",
    "com.intuit.quickbooks.payroll.timetracking",
    "com.intuit.quickbooks.payroll.benefits",
}
AUTH_PARAMS = ("client_id", "response_type", "scope", "redirect_uri", "state")


def tokens() -> Tokens:
    return Tokens(current_sandbox())


def _json(body: Any, status: int = 200) -> Response:
    resp = Response(json.dumps(body), status=status, mimetype="application/json")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _with_query(uri: str, params: dict[str, str]) -> str:
    clean = {k: v for k, v in params.items() if v is not None}
    return uri + ("&" if "?" in uri else "?") + urlencode(clean)


def _error_page(title: str, message: str, status: int = 400) -> tuple[str, int]:
    return render_template("error.html", title=title, message=message), status


def _auth_request(source: Any) -> tuple[dict[str, str], dict[str, Any] | None, Any]:
    """Validate an authorize request. Returns (params, app, error_response_or_None)."""
    params = {k: source.get(k, "") for k in AUTH_PARAMS}
    app = tokens().app(params["client_id"])
    if app is None:
        return (
            params,
            None,
            _error_page("Unknown app", "The client_id in this request is not a registered app."),
        )
    if params["redirect_uri"] not in app.get("redirect_uris", []):
        return (
            params,
            app,
            _error_page(
                "Redirect URI not registered",
                f"The redirect_uri {params['redirect_uri'] or '(none)'} is not registered for "
                f"{app.get('name', 'this app')}."
                " Add it to the app's Keys & credentials before connecting.",
            ),
        )
    if params["response_type"] != "code":
        return (
            params,
            app,
            redirect(
                _with_query(
                    params["redirect_uri"],
                    {"error": "unsupported_response_type", "state": params["state"]},
                )
            ),
        )
    scopes = params["scope"].split()
    if not scopes or any(s not in KNOWN_SCOPES for s in scopes):
        return (
            params,
            app,
            redirect(
                _with_query(
                    params["redirect_uri"], {"error": "invalid_scope", "state": params["state"]}
                )
            ),
        )
    return params, app, None


def _user() -> dict[str, Any] | None:
    email = session.get("user")
    return current_sandbox().store.get("user", email) if email else None


def _csrf() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


@bp.get("/connect/oauth2")
@bp.get("/connect/oauth2/companyselection")
def authorize() -> Any:
    params, app, error = _auth_request(request.args)
    if error is not None:
        return error
    user = _user()
    if user is None:
        return render_template("signin.html", params=params, app=app, error=None, email="")
    sb = current_sandbox()
    companies = [c for c in (sb.company(r) for r in user.get("companies", [])) if c]
    needs_realm = bool(set(params["scope"].split()) & ACCOUNTING_SCOPES)
    chosen = request.args.get("company")
    if needs_realm:
        if not companies:
            return _error_page(
                "No company", "This Intuit user has no QuickBooks company to connect."
            )
        if chosen not in {c["realm_id"] for c in companies}:
            if len(companies) > 1:
                return render_template(
                    "choose.html", params=params, app=app, user=user, companies=companies
                )
            chosen = companies[0]["realm_id"]
    company = sb.company(chosen) if needs_realm and chosen else None
    return render_template(
        "consent.html",
        params=params,
        app=app,
        user=user,
        company=company,
        scopes=params["scope"].split(),
        csrf=_csrf(),
    )


@bp.post("/connect/oauth2/signin")
def signin() -> Any:
    params, app, error = _auth_request(request.form)
    if error is not None:
        return error
    email = request.form.get("email", "").strip().lower()
    user = current_sandbox().store.get("user", email)
    if user is None or not secrets.compare_digest(
        user["password"], request.form.get("password", "")
    ):
        return render_template(
            "signin.html",
            params=params,
            app=app,
            email=email,
            error="That email and password don't match an Intuit account.",
        ), 401
    session.clear()
    session["user"] = email
    return redirect(url_for("oauth.authorize", **params))


@bp.get("/connect/oauth2/signout")
def signout() -> Any:
    session.clear()
    params = {k: request.args.get(k, "") for k in AUTH_PARAMS}
    return redirect(url_for("oauth.authorize", **params))


@bp.post("/connect/oauth2/consent")
def consent() -> Any:
    params, app, error = _auth_request(request.form)
    if error is not None:
        return error
    assert app is not None
    user = _user()
    if user is None:
        return render_template("signin.html", params=params, app=app, error=None, email="")
    if not secrets.compare_digest(session.get("csrf", ""), request.form.get("csrf", "")):
        return _error_page(
            "Session expired", "Your session expired. Start connecting again from the app."
        )
    if request.form.get("decision") != "allow":
        return redirect(
            _with_query(
                params["redirect_uri"], {"error": "access_denied", "state": params["state"]}
            )
        )
    realm = request.form.get("realm") or None
    if set(params["scope"].split()) & ACCOUNTING_SCOPES:
        if realm not in user.get("companies", []):
            return _error_page(
                "No access", "You can't connect a company you don't administer.", 403
            )
    else:
        realm = None
    code = tokens().issue_code(
        app["client_id"], realm or "", user["email"], params["redirect_uri"], params["scope"]
    )
    query = {"code": code, "state": params["state"]}
    if realm:
        query["realmId"] = realm
    return redirect(_with_query(params["redirect_uri"], query))


def _client_credentials() -> tuple[str | None, str | None]:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            raw = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        client_id, _, secret = raw.partition(":")
        return client_id, secret
    return request.form.get("client_id"), request.form.get("client_secret")


@bp.post("/oauth2/v1/tokens/bearer")
def token() -> Response:
    try:
        if request.mimetype != "application/x-www-form-urlencoded":
            raise OAuthError("invalid_request")
        app = tokens().authenticate_client(*_client_credentials())
        grant_type = request.form.get("grant_type")
        hard = request.headers.get("x-include-refresh-token-hard-expires-in", "").lower() == "true"
        if grant_type == "authorization_code":
            body = tokens().exchange_code(
                app, request.form.get("code"), request.form.get("redirect_uri"), hard
            )
        elif grant_type == "refresh_token":
            body = tokens().refresh(app, request.form.get("refresh_token"), hard)
        else:
            raise OAuthError("unsupported_grant_type")
    except OAuthError as exc:
        return _json(exc.body(), exc.status)
    return _json(body)


@bp.post("/v2/oauth2/tokens/revoke")
def revoke() -> Response:
    try:
        app = tokens().authenticate_client(*_client_credentials())
        data = request.get_json(silent=True) if request.is_json else request.form
        tokens().revoke(app, (data or {}).get("token"))
    except OAuthError as exc:
        return _json(exc.body(), exc.status)
    return Response("", status=200)


@bp.get("/.well-known/openid_sandbox_configuration")
@bp.get("/.well-known/openid_sandbox_configuration/")
@bp.get("/.well-known/openid-sandbox-configuration")
@bp.get("/.well-known/openid_configuration")
@bp.get("/.well-known/openid_configuration/")
@bp.get("/.well-known/openid-configuration")
def discovery() -> Response:
    base = request.host_url.rstrip("/")
    return _json(
        {
            "issuer": f"{base}/op/v1",
            "authorization_endpoint": f"{base}/connect/oauth2",
            "token_endpoint": f"{base}/oauth2/v1/tokens/bearer",
            "userinfo_endpoint": f"{base}/v1/openid_connect/userinfo",
            "revocation_endpoint": f"{base}/v2/oauth2/tokens/revoke",
            "jwks_uri": f"{base}/op/v1/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile", "address", "phone"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
        }
    )


@bp.get("/op/v1/jwks")
def jwks() -> Response:
    return _json({"keys": []})


@bp.get("/v1/openid_connect/userinfo")
def userinfo() -> Response:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return _json({"error": "invalid_token"}, 401)
    state, grant = tokens().check_access(header[7:].strip())
    if grant is None:
        return _json({"error": "invalid_token"}, 401)
    if "openid" not in grant["scope"].split():
        return _json({"error": "insufficient_scope"}, 403)
    user = current_sandbox().store.get("user", grant["user"]) or abort(404)
    return _json(
        {
            "sub": user["sub"],
            "email": user["email"],
            "emailVerified": True,
            "givenName": user.get("given_name", ""),
            "familyName": user.get("family_name", ""),
        }
    )
