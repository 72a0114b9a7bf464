"""Control API for tests and benchmarks: ``/_sandbox/api/...``, guarded by ``X-Sandbox-Secret``.

Everything here is sandbox-only (no Intuit equivalent): reset and seed, companies, users and
apps, counters, the clock, token expiry/revocation, runtime settings and fault injection.
The HTML path ``/_sandbox/`` is reserved for the human UI.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from . import seed
from .config import merge
from .core import current_sandbox
from .errors import QboFault
from .merge import merge_customers
from .service import ENTITIES
from .tokens import Tokens

bp = Blueprint("control", __name__, url_prefix="/_sandbox/api")
TUNABLE = {
    "limits",
    "latency_ms",
    "batch_item_latency_ms",
    "hang_seconds",
    "refresh_grace_seconds",
    "refresh_rotation_seconds",
    "access_token_lifetime",
    "refresh_token_lifetime",
    "auth_code_lifetime",
    "batch_max_items",
    "replay_errors",
    "cdc_max_objects",
    "max_body_bytes",
    "webhooks",
}


def _bad(message: str, status: int = 400) -> tuple[Response, int]:
    return jsonify({"error": message}), status


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


@bp.before_request
def _guard() -> Any:
    expected = current_sandbox().config["control_secret"]
    given = request.headers.get("X-Sandbox-Secret", "")
    if not expected or not secrets.compare_digest(str(expected), given):
        return _bad("missing or wrong X-Sandbox-Secret", 401)
    return None


@bp.post("/reset")
def reset() -> Any:
    """Wipe data, tokens, counters, faults and limiter windows; reseed unless seed=false."""
    sb = current_sandbox()
    body = _body()
    sb.store.wipe()
    sb.faults.clear()
    current_app.extensions["qbo_webhooks"].clear()
    sb.limiter.reset()
    sb.counters.reset()
    old = sb.config["seed"]
    sb.config["seed"] = body.get("seed", True)
    try:
        seed.seed(sb)
    finally:
        sb.config["seed"] = old
    sb.counters.reset()
    return jsonify({"ok": True, "companies": [r for r, _ in sb.store.items("company")]})


@bp.get("/companies")
def companies() -> Any:
    sb = current_sandbox()
    return jsonify(
        [
            {"realm_id": r, "name": c["name"], "counts": sb.store.count_entities(r)}
            for r, c in sb.store.items("company")
        ]
    )


@bp.post("/companies")
def create_company() -> Any:
    body = _body()
    if not body.get("name"):
        return _bad("name is required")
    sb = current_sandbox()
    if body.get("realm_id") and sb.company(str(body["realm_id"])):
        return _bad("realm_id already exists", 409)
    realm = seed.create_company(
        sb,
        body["name"],
        str(body["realm_id"]) if body.get("realm_id") else None,
        sample=bool(body.get("sample")),
        owner=body.get("owner"),
    )
    return jsonify({"realm_id": realm, "name": body["name"]}), 201


@bp.get("/companies/<realm>/entities/<entity>")
def entities(realm: str, entity: str) -> Any:
    """Every live entity of a type, unfiltered (handy for exactly-once assertions)."""
    if entity not in ENTITIES:
        return _bad(f"unknown entity {entity}", 404)
    return jsonify(current_sandbox().store.list_entities(realm, entity))


@bp.post("/users")
def create_user() -> Any:
    body = _body()
    if not body.get("email") or not body.get("password"):
        return _bad("email and password are required")
    user = seed.create_user(
        current_sandbox(),
        body["email"],
        body["password"],
        body.get("given_name", ""),
        body.get("family_name", ""),
        body.get("companies"),
    )
    return jsonify({k: v for k, v in user.items() if k != "password"}), 201


@bp.get("/apps")
def apps() -> Any:
    return jsonify(
        [
            {k: v for k, v in a.items() if k != "client_secret"}
            for _, a in current_sandbox().store.items("app")
        ]
    )


@bp.post("/apps")
def register_app() -> Any:
    try:
        app = seed.register_app(current_sandbox(), _body())
    except ValueError as exc:
        return _bad(str(exc))
    return jsonify(app), 201


@bp.get("/counters")
def counters() -> Any:
    return jsonify(current_sandbox().counters.snapshot())


@bp.post("/counters/reset")
def reset_counters() -> Any:
    current_sandbox().counters.reset()
    return jsonify({"ok": True})


def _clock_state() -> dict[str, Any]:
    clock = current_sandbox().clock
    return {
        "now": clock.now().isoformat(),
        "timestamp": clock.timestamp(),
        "scale": clock.scale,
        "offset_seconds": clock.offset_seconds(),
    }


@bp.get("/clock")
def clock() -> Any:
    return jsonify(_clock_state())


@bp.post("/clock")
def move_clock() -> Any:
    """``{"advance_seconds": 3600}`` jumps ahead; ``{"scale": 60}`` changes speed."""
    body = _body()
    sb = current_sandbox()
    try:
        if body.get("advance_seconds"):
            sb.clock.advance(float(body["advance_seconds"]))
        if body.get("scale") is not None:
            sb.clock.set_scale(float(body["scale"]))
    except (TypeError, ValueError) as exc:
        return _bad(str(exc))
    return jsonify(_clock_state())


@bp.post("/tokens")
def mint_tokens() -> Any:
    """Skip the consent pages: mint a grant for ``client_id`` + ``realm_id``."""
    body = _body()
    sb = current_sandbox()
    tokens = Tokens(sb)
    if tokens.app(body.get("client_id")) is None or sb.company(str(body.get("realm_id"))) is None:
        return _bad("known client_id and realm_id are required")
    user = body.get("user") or seed.DEMO_USER["email"]
    scope = body.get("scope") or "com.intuit.quickbooks.accounting"
    return jsonify(tokens.new_grant(body["client_id"], str(body["realm_id"]), user, scope))


@bp.post("/tokens/expire")
def expire_tokens() -> Any:
    """``{"which": "access"|"refresh"|"all", "realm_id"?, "token"?}``"""
    body = _body()
    which = body.get("which", "access")
    if which not in ("access", "refresh", "all"):
        return _bad("which must be access, refresh or all")
    count = Tokens(current_sandbox()).expire(which, body.get("realm_id"), body.get("token"))
    return jsonify({"expired": count})


@bp.post("/tokens/revoke")
def revoke_tokens() -> Any:
    """Disconnect grants (as if the user clicked Disconnect in QBO): by realm and/or client."""
    body = _body()
    tokens = Tokens(current_sandbox())
    count = 0
    for grant_id, grant in tokens.grants():
        if body.get("realm_id") and grant["realm"] != str(body["realm_id"]):
            continue
        if body.get("client_id") and grant["client_id"] != body["client_id"]:
            continue
        count += tokens.revoke_grant(grant_id) and not grant["revoked"]
    return jsonify({"revoked": count})


@bp.get("/faults")
def faults() -> Any:
    return jsonify(current_sandbox().faults.list())


@bp.post("/faults")
def inject_fault() -> Any:
    """``{"kind": "500"|"503"|"429"|"401"|"hang"|"commit_then_drop", "count": 1, "method"?,
    "path"?, "realm_id"?, "hang_seconds"?, "drop": "reset"|"502"}``"""
    try:
        rule = current_sandbox().faults.add(_body())
    except (TypeError, ValueError) as exc:
        return _bad(str(exc))
    return jsonify({"id": rule.id, "kind": rule.kind, "remaining": rule.remaining}), 201


@bp.delete("/faults")
def clear_faults() -> Any:
    current_sandbox().faults.clear()
    return jsonify({"ok": True})


@bp.get("/config")
def get_config() -> Any:
    cfg = current_sandbox().config
    return jsonify({k: cfg[k] for k in sorted(TUNABLE)})


@bp.post("/config")
def set_config() -> Any:
    """Change tunable settings at runtime (limits, latency, token lifetimes...)."""
    body = _body()
    unknown = set(body) - TUNABLE
    if unknown:
        return _bad(f"not tunable: {', '.join(sorted(unknown))}")
    sb = current_sandbox()
    sb.config.update(merge({k: sb.config[k] for k in body}, body))
    return get_config()


@bp.post("/companies/<realm>/merge")
def merge_entities(realm: str) -> Any:
    """``{"entity": "Customer", "from_id": A, "into_id": B}``: A's transactions move to B, A
    becomes inactive, a ``Merge`` event (``deletedId`` A) goes to webhooks."""
    body = _body()
    if body.get("entity", "Customer") != "Customer":
        return _bad("only Customer merges are supported")
    if current_sandbox().company(realm) is None:
        return _bad(f"unknown realm {realm}", 404)
    try:
        survivor = merge_customers(
            current_sandbox(), realm, str(body.get("from_id")), str(body.get("into_id"))
        )
    except QboFault as exc:
        return jsonify({"Fault": exc.fault_dict()}), exc.status
    return jsonify({"Customer": survivor})


@bp.get("/webhooks/deliveries")
def webhook_deliveries() -> Any:
    """Every recorded delivery (``?realm_id=``, ``?status=pending|retrying|delivered|failed``)."""
    hooks = current_app.extensions["qbo_webhooks"]
    return jsonify(hooks.deliveries(request.args.get("realm_id"), request.args.get("status")))


@bp.delete("/webhooks/deliveries")
def clear_webhook_deliveries() -> Any:
    current_app.extensions["qbo_webhooks"].clear()
    return jsonify({"ok": True})


@bp.post("/webhooks/deliver")
def deliver_webhooks() -> Any:
    """Deliver now, synchronously: close every open batch and send what is due.
    ``{"ignore_backoff": true}`` also retries deliveries still waiting out their backoff."""
    body = _body()
    attempted = current_app.extensions["qbo_webhooks"].run(
        flush=body.get("flush", True), ignore_backoff=bool(body.get("ignore_backoff"))
    )
    return jsonify({"attempted": attempted})
