"""Entity operations shared by the REST views and batch: create, read, update, delete, void.

Every write runs inside one store transaction: load, check SyncToken, apply the entity's rules
(``entities/*``), persist, then fire change events once the transaction has committed.
"""

from __future__ import annotations

import copy
from datetime import UTC
from typing import Any

from .core import Sandbox
from .entities import schema
from .entities.rules import RULES, Rules
from .errors import fault, inactive_ref, invalid_ref, not_found, required, unsupported

PATHS = {
    "customer": "Customer",
    "vendor": "Vendor",
    "employee": "Employee",
    "item": "Item",
    "invoice": "Invoice",
    "payment": "Payment",
    "timeactivity": "TimeActivity",
    "companyinfo": "CompanyInfo",
    "preferences": "Preferences",
}
ENTITIES = set(PATHS.values())
NAME_SEQ = {"Customer": "Name", "Vendor": "Name", "Employee": "Name"}
STALE_DETAIL = (
    "Stale Object Error : You and API API were working on this at the same time. "
    "API API finished before you did, so your work was not saved."
)


def strip_nulls(value: Any) -> Any:
    """QBO omits null properties from responses."""
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_nulls(v) for v in value if v is not None]
    return value


class Ctx:
    """One unit of work against one realm; collects change events until commit."""

    def __init__(self, sb: Sandbox, realm: str) -> None:
        self.sb = sb
        self.realm = realm
        self.store = sb.store
        self.events: list[tuple[str, str, str, str, str, str | None]] = []

    # -- reads ---------------------------------------------------------------------------------
    def load(self, entity: str, eid: Any) -> dict[str, Any] | None:
        """A live entity by Id (None when missing, deleted or the Id is not numeric)."""
        try:
            key = int(str(eid))
        except (TypeError, ValueError):
            return None
        row = self.store.get_entity(self.realm, entity, key)
        return row[0] if row and not row[1] else None

    def all(self, entity: str) -> list[dict[str, Any]]:
        return self.store.list_entities(self.realm, entity)

    def ref(
        self,
        ref: Any,
        element: str,
        entities: tuple[str, ...],
        kind: str = "Names",
        allow_inactive: bool = False,
    ) -> dict[str, Any]:
        """Resolve a ``{"value": id}`` reference: 2020 if absent, 2500 if unknown, 610 if inactive.

        Fills in ``name`` the way QBO echoes it back."""
        if not isinstance(ref, dict) or ref.get("value") in (None, ""):
            raise required(element)
        for entity in entities:
            doc = self.load(entity, ref["value"])
            if doc is not None:
                if doc.get("Active") is False and not allow_inactive:
                    raise inactive_ref(element)
                ref["value"] = str(ref["value"])
                ref["name"] = (
                    doc.get("DisplayName") or doc.get("Name") or doc.get("FullyQualifiedName")
                )
                return doc
        raise invalid_ref(element, kind, ref["value"])

    # -- writes --------------------------------------------------------------------------------
    def save(
        self, entity: str, doc: dict[str, Any], operation: str, old: dict[str, Any] | None = None
    ) -> None:
        """Persist with fresh MetaData/SyncToken and queue the change event."""
        now = self.sb.clock.now()
        stamp = self.sb.stamp(self.realm)
        if old is None and "Id" not in doc:
            seq = NAME_SEQ.get(entity, entity)
            doc["Id"] = str(self.store.next_id(self.realm, seq))
        meta = dict(doc.get("MetaData") or {})
        if old is None:
            doc["SyncToken"] = doc.get("SyncToken") or "0"
            meta.setdefault("CreateTime", stamp)
        else:
            doc["SyncToken"] = str(int(old.get("SyncToken", "0")) + 1)
            meta["CreateTime"] = (old.get("MetaData") or {}).get("CreateTime", stamp)
        meta["LastUpdatedTime"] = stamp
        doc["MetaData"] = meta
        doc["domain"] = "QBO"
        doc["sparse"] = False
        clean = strip_nulls(doc)
        doc.clear()
        doc.update(clean)
        self.store.put_entity(self.realm, entity, int(doc["Id"]), doc, now.timestamp())
        if old is None:
            self.sb.counters.bump("created", entity)
        self.event(entity, doc["Id"], operation)

    def tombstone(self, entity: str, doc: dict[str, Any]) -> dict[str, Any]:
        now = self.sb.clock.now()
        stub = {
            "domain": "QBO",
            "status": "Deleted",
            "Id": doc["Id"],
            "MetaData": {"LastUpdatedTime": self.sb.stamp(self.realm)},
        }
        self.store.put_entity(
            self.realm, entity, int(doc["Id"]), stub, now.timestamp(), deleted=True
        )
        self.event(entity, doc["Id"], "Delete")
        return stub

    def event(self, entity: str, eid: str, operation: str, merged_from: str | None = None) -> None:
        when = self.sb.clock.now().astimezone(UTC).isoformat(timespec="milliseconds")
        self.events.append(
            (self.realm, entity, str(eid), operation, when.replace("+00:00", "Z"), merged_from)
        )


def _run(sb: Sandbox, realm: str, fn: Any) -> dict[str, Any]:
    ctx = Ctx(sb, realm)
    with sb.store.transaction():
        body = fn(ctx)
    sb.emit(ctx.events)
    return body


def _envelope(sb: Sandbox, realm: str, entity: str, doc: dict[str, Any]) -> dict[str, Any]:
    return {entity: doc, "time": sb.time_field(realm)}


def _checked(ctx: Ctx, rules: Rules, payload: dict[str, Any]) -> dict[str, Any]:
    """The current object for an update/delete/void after Id + SyncToken checks."""
    if payload.get("Id") in (None, ""):
        raise required("Id")
    if payload.get("SyncToken") in (None, ""):
        raise required("SyncToken")
    old = ctx.load(rules.entity, payload["Id"])
    if old is None:
        raise not_found(rules.entity, str(payload["Id"]))
    if str(payload["SyncToken"]) != old.get("SyncToken"):
        raise fault("5010", "Stale Object Error", STALE_DETAIL, "")
    return old


def read(sb: Sandbox, realm: str, entity: str, eid: str) -> dict[str, Any]:
    ctx = Ctx(sb, realm)
    doc = ctx.load(entity, eid)
    if doc is None:
        raise not_found(entity, eid)
    return _envelope(sb, realm, entity, doc)


def write(
    sb: Sandbox,
    realm: str,
    entity: str,
    payload: Any,
    operation: str | None,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """POST /{entity}[?operation=...]: create, update, delete or void."""
    rules = RULES[entity]
    if not isinstance(payload, dict):
        raise fault(
            "2010",
            "Request has invalid or unsupported property",
            f"Property Name:Can not deserialize instance of {entity} out of non-object token",
            "",
        )
    op = (operation or "").lower()
    if op in ("delete", "void"):
        return _run(sb, realm, lambda ctx: _delete_or_void(ctx, rules, payload, op))
    if op not in ("", "create", "update"):
        raise unsupported(f"Operation {operation} is not supported.")
    schema.check_object(payload, schema.SCHEMAS[entity], entity)
    if isinstance(payload.get("Line"), list) and schema.SCHEMAS[entity].get("Line") == "lines":
        schema.check_lines(payload["Line"])
    schema.blank_dates_to_null(payload, schema.SCHEMAS[entity])
    opts = options or {}
    is_update = payload.get("Id") not in (None, "") or op == "update"
    if is_update:
        return _run(sb, realm, lambda ctx: _update(ctx, rules, payload, opts))
    if not rules.creatable:
        raise unsupported(f"Operation Create is not supported for {entity}.")
    return _run(sb, realm, lambda ctx: _create(ctx, rules, payload, opts))


def _create(
    ctx: Ctx, rules: Rules, payload: dict[str, Any], opts: dict[str, Any]
) -> dict[str, Any]:
    spec = schema.SCHEMAS[rules.entity]
    doc = {
        k: copy.deepcopy(v)
        for k, v in payload.items()
        if spec.get(k) not in ("ro", None) and k != "sparse"
    }
    rules.prepare(ctx, doc, None, opts)
    ctx.save(rules.entity, doc, "Create")
    rules.after_save(ctx, doc, None)
    return _envelope(ctx.sb, ctx.realm, rules.entity, doc)


def _update(
    ctx: Ctx, rules: Rules, payload: dict[str, Any], opts: dict[str, Any]
) -> dict[str, Any]:
    old = _checked(ctx, rules, payload)
    spec = schema.SCHEMAS[rules.entity]
    given = {
        k: copy.deepcopy(v)
        for k, v in payload.items()
        if spec.get(k) not in ("ro", None) and k != "sparse"
    }
    if payload.get("sparse") is True:
        doc = copy.deepcopy(old)
        doc.update(given)
    else:
        doc = {k: v for k, v in copy.deepcopy(old).items() if spec.get(k) == "ro" or k not in spec}
        for key in schema.writable(rules.entity):
            if key in rules.keep_on_full_update and key not in given and key in old:
                doc[key] = copy.deepcopy(old[key])
        doc.update(given)
    rules.prepare(ctx, doc, old, opts)
    ctx.save(rules.entity, doc, "Update", old)
    rules.after_save(ctx, doc, old)
    return _envelope(ctx.sb, ctx.realm, rules.entity, doc)


def _delete_or_void(ctx: Ctx, rules: Rules, payload: dict[str, Any], op: str) -> dict[str, Any]:
    allowed = rules.deletable if op == "delete" else rules.voidable
    if not allowed:
        raise unsupported(f"Operation {op.capitalize()} is not supported for {rules.entity}.")
    old = _checked(ctx, rules, payload)
    if op == "delete":
        rules.before_delete(ctx, old)
        stub = ctx.tombstone(rules.entity, old)
        return _envelope(
            ctx.sb,
            ctx.realm,
            rules.entity,
            {"status": "Deleted", "domain": "QBO", "Id": stub["Id"]},
        )
    doc = copy.deepcopy(old)
    rules.void(ctx, doc)
    ctx.save(rules.entity, doc, "Void", old)
    rules.after_void(ctx, doc, old)
    return _envelope(ctx.sb, ctx.realm, rules.entity, doc)
