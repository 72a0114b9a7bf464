"""``GET /cdc``: what changed since a moment, per entity, deletes as ``status: Deleted`` stubs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .clock import parse_iso
from .core import Sandbox
from .errors import fault, required
from .queries import EMPTY_ENTITIES
from .service import ENTITIES


def run(sb: Sandbox, realm: str, entities: str | None, changed_since: str | None) -> dict[str, Any]:
    if not entities:
        raise required("entities")
    if not changed_since:
        raise required("changedSince")
    since = parse_iso(changed_since)
    if since is None:
        raise fault(
            "4001",
            "Invalid query",
            f"QueryValidationError: changedSince {changed_since} is not a valid dateTime",
            "changedSince",
        )
    if since.tzinfo is None:
        since = since.replace(tzinfo=sb.clock.now().astimezone().tzinfo)
    now = sb.clock.now()
    if since < now - timedelta(days=sb.config["cdc_lookback_days"]):
        # Code UNCONFIRMED (reference §7.1).
        raise fault(
            "4001",
            "Invalid query",
            "QueryValidationError: changedSince must be within the last "
            f"{sb.config['cdc_lookback_days']} days",
            "changedSince",
        )
    budget = sb.config["cdc_max_objects"]
    blocks: list[dict[str, Any]] = []
    for raw in entities.split(","):
        name = raw.strip()
        entity = next((e for e in ENTITIES if e.lower() == name.lower()), None)
        if entity is None:
            if name.lower() not in {e.lower() for e in EMPTY_ENTITIES}:
                raise fault(
                    "4001",
                    "Invalid query",
                    f"QueryValidationError: Invalid entity : {name}",
                    "entities",
                )
            blocks.append({})
            continue
        rows = [doc for doc, _ in sb.store.changed_since(realm, entity, since.timestamp())][
            : max(budget, 0)
        ]
        budget -= len(rows)
        blocks.append({entity: rows, "startPosition": 1, "maxResults": len(rows)} if rows else {})
    return {"CDCResponse": [{"QueryResponse": blocks}], "time": sb.time_field(realm)}
