"""The Accounting API under ``/v3/company/<realmId>/...``: auth, limits, requestid, routing.

One dispatcher view handles every path so the gateway steps (bearer token, realm check,
throttles, latency, requestid replay) run in the same order for every endpoint, batch included.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from flask import Blueprint, Response, request
from werkzeug.exceptions import RequestEntityTooLarge

from . import batch, cdc, queries, service
from .core import Sandbox, current_sandbox
from .errors import (
    GatewayFault,
    QboFault,
    auth_failed,
    authz_failed,
    bad_length,
    fault,
    system_fault,
    unsupported,
)
from .tokens import Tokens

bp = Blueprint("api", __name__)

RID_MAX, RID_MAX_BATCH = 50, 36
_rid_locks: dict[str, threading.Lock] = {}
_rid_guard = threading.Lock()


def json_response(body: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(body),
        status=status,
        mimetype="application/json",
        content_type=("application/json;charset=UTF-8"),
    )


def authenticate(sb: Sandbox, realm: str) -> dict[str, Any]:
    """Bearer token -> grant, or the gateway 401/403 a real QBO would send."""
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer ") or not header[7:].strip():
        raise auth_failed("Authorization header missing or not a Bearer token")
    token = header[7:].strip()
    state, grant = Tokens(sb).check_access(token)
    if grant is None:
        detail = {
            "expired": f"Token expired: {token[:30]}",
            "revoked": f"Token revoked: {token[:30]}",
        }
        raise auth_failed(
            detail.get(
                state,
                "Malformed bearer token: too short or too long"
                if len(token) < 40
                else f"Token invalid: {token[:30]}",
            )
        )
    if grant["realm"] != realm or sb.company(realm) is None:
        raise authz_failed()
    return grant


def endpoint_key(method: str, parts: list[str]) -> str:
    """Counter key: 'POST customer', 'GET customer/{id}', 'GET query', 'POST batch'..."""
    name = parts[0].lower() if parts and parts[0] else "?"
    suffix = "/{id}" if len(parts) > 1 and name != "companyinfo" else ""
    return f"{method} {name}{suffix}" + ("/" + "/".join(parts[2:]) if len(parts) > 2 else "")


def read_json() -> Any:
    """The JSON body, or QBO-style faults for wrong content types and malformed payloads."""
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise fault(
            "500",
            "Unsupported Operation",
            "Request body exceeds the maximum allowed size",
            "",
            status=413,
        ) from None
    if request.mimetype != "application/json":
        raise unsupported(
            f"Content type {request.mimetype or '(none)'} is not supported; use application/json"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise unsupported("Invalid byte 1 of 1-byte UTF-8 sequence.") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise fault(
            "2010",
            "Request has invalid or unsupported property",
            f"Property Name:{exc.msg} at line {exc.lineno} column {exc.colno} "
            "specified is unsupported or "
            "invalid",
            "",
        ) from None


def _rid_lock(key: str) -> threading.Lock:
    with _rid_guard:
        if len(_rid_locks) > 10000:
            _rid_locks.clear()
        return _rid_locks.setdefault(key, threading.Lock())


@bp.route("/v3/company/<realm>/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def dispatch(realm: str, rest: str) -> Response:
    sb = current_sandbox()
    parts = rest.strip("/").split("/")
    sb.counters.bump("requests", endpoint_key(request.method, parts))
    sb.counters.bump("requests_by_realm", realm)
    grant = authenticate(sb, realm)
    is_batch = parts[0] == "batch"
    sb.limiter.admit(realm, grant["client_id"], is_batch)
    try:
        sb.clock.sleep(sb.config["latency_ms"] / 1000)
        rid = request.args.get("requestid")
        if rid is None or request.method != "POST":
            status, body = route(sb, realm, parts)
            return json_response(body, status)
        limit = RID_MAX_BATCH if is_batch else RID_MAX
        if not rid or len(rid) > limit:
            raise bad_length("requestid", limit, len(rid), 1)
        key = f"{realm}:{rid}"
        with _rid_lock(key):
            stored = sb.store.get("requestid", key)
            if stored is not None:
                return json_response(stored["body"], stored["status"])
            try:
                status, body = route(sb, realm, parts, rid=True)
            except QboFault as exc:
                if sb.config["replay_errors"] and exc.status < 500:
                    sb.store.put(
                        "requestid", key, {"status": exc.status, "body": fault_body(sb, realm, exc)}
                    )
                raise
            sb.store.put("requestid", key, {"status": status, "body": body})
            return json_response(body, status)
    finally:
        sb.limiter.release(realm, grant["client_id"])


def route(
    sb: Sandbox, realm: str, parts: list[str], rid: bool = False
) -> tuple[int, dict[str, Any]]:
    """Dispatch on path and method; returns (status, body)."""
    name, method = parts[0], request.method
    opts = {"include": request.args.get("include", "")}
    if name == "query" and len(parts) == 1 and method in ("GET", "POST"):
        if method == "GET":
            text = request.args.get("query", "")
        else:
            text = request.get_data(as_text=True)
        return 200, queries.run(sb, realm, text)
    if name == "batch" and len(parts) == 1 and method == "POST":
        return 200, batch.run(sb, realm, read_json(), opts, check_bids=rid)
    if name == "cdc" and len(parts) == 1 and method == "GET":
        return 200, cdc.run(
            sb, realm, request.args.get("entities"), request.args.get("changedSince")
        )
    entity = service.PATHS.get(name)
    if entity is None or method not in ("GET", "POST") or len(parts) > 2:
        raise system_fault(
            f"Could not find resource for relative : {request.path} of full path: {request.url}",
            status=400,
        )
    if entity in ("CompanyInfo", "Preferences"):
        if method == "GET":
            return 200, service.read(sb, realm, entity, "1")
        payload = read_json()
        if isinstance(payload, dict) and payload.get("Id") not in (None, "1"):
            payload = dict(payload, Id="1")
        return 200, service.write(sb, realm, entity, payload, "update", opts)
    if method == "GET":
        if len(parts) != 2:
            raise system_fault(f"Could not find resource for relative : {request.path}", status=400)
        return 200, service.read(sb, realm, entity, parts[1])
    if len(parts) != 1:
        raise system_fault(f"Could not find resource for relative : {request.path}", status=400)
    return 200, service.write(sb, realm, entity, read_json(), request.args.get("operation"), opts)


def fault_body(sb: Sandbox, realm: str | None, exc: QboFault) -> dict[str, Any]:
    return {"Fault": exc.fault_dict(), "time": sb.time_field(realm)}


def register_error_handlers(app: Any) -> None:
    """Both Fault shapes for every path, and never a stack trace."""

    def realm_of() -> str | None:
        return (request.view_args or {}).get("realm")

    @app.errorhandler(QboFault)
    def _qbo(exc: QboFault) -> Response:
        sb = current_sandbox()
        return json_response(
            fault_body(sb, realm_of() if sb.company(realm_of() or "") else None, exc), exc.status
        )

    @app.errorhandler(GatewayFault)
    def _gateway(exc: GatewayFault) -> Response:
        sb = current_sandbox()
        resp = json_response(exc.body(int(sb.clock.timestamp() * 1000)), exc.status)
        resp.headers.update(exc.headers)
        return resp

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc: Exception) -> Response:
        return _qbo(
            fault(
                "500",
                "Unsupported Operation",
                "Request body exceeds the maximum allowed size",
                "",
                status=413,
            )
        )

    @app.errorhandler(Exception)
    def _crash(exc: Exception) -> Any:
        from werkzeug.exceptions import HTTPException

        if isinstance(exc, HTTPException):
            if request.path.startswith("/v3/"):
                return _qbo(system_fault(f"{exc.name} : {request.path}", status=exc.code or 400))
            return exc
        app.logger.exception("event=sandbox_error path=%s", request.path)
        return _qbo(system_fault(f"{type(exc).__name__} while processing {request.path}"))
