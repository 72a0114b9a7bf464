"""Push clients to QBO Customers (K2, K3), exactly once (I4).

Every client created or changed since its last successful push (``version >
qbo_pushed_version``) goes out in chunks of 30:

1. Unlinked clients are looked up first, a few ``IN (...)`` queries per chunk (DisplayName
   variants and family names, see ``portal.qbo.mapping.customers``); answers are compared by
   name key. One match links, several go to the review list, none plans a create.
2. Creates and sparse updates go out as one batch call per chunk, with a requestid derived
   from what is written, so a retried call replays instead of writing twice; and because step
   1 runs before every create, a crash between QBO's answer and our commit ends in a link on
   the next run, never a second customer.
3. Per-item outcomes: 5010 -> re-read, retry once; 6240 -> link to the customer that owns the
   name, or (a vendor/employee owns it) hold with the fix; other validation faults -> hold
   with QBO's message. Held clients cost nothing until they are edited or synced by hand.

Contract for the invoice and time flows: ``ensure_customer(qbo, client, run) -> str | None``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from typing import Any

from portal.extensions import db
from portal.models import Client, ClientReview, SyncRun
from portal.qbo.client import BatchItemResult, QboClient, escape
from portal.qbo.errors import (
    DuplicateName,
    NotFound,
    QboError,
    StaleObject,
    ValidationFault,
)
from portal.qbo.mapping import customers as mapping
from portal.qbo.sync import events
from portal.qbo.sync.events import Tally, record

log = logging.getLogger("portal.sync")

CHUNK = 30
QUERY_BUDGET = 1500  # characters of IN (...) values per query: short URLs, few calls
ENTITY = "client"
Progress = Callable[[int, int], None]

CLASH_FIX = (
    'QuickBooks already has a {what} named "{name}", and a customer cannot share a name with '
    "a vendor or employee. Fix: rename the client or the {what} in QuickBooks, then press Sync "
    "on the client."
)
TAKEN_FIX = (
    'QuickBooks customer "{name}" (Id {qid}) is already linked to the client "{other}". Fix: '
    "merge the two clients, or rename this one, then press Sync on the client."
)
REVIEW_REASON = (
    "{n} QuickBooks customers match this client's name. Fix: pick the right one on the "
    "Integrations tab's review list (Link / Import as new / Ignore)."
)
REJECTED_FIX = "QuickBooks refused the client: {error}. Fix: edit the client, then sync again."


# -- entry points --------------------------------------------------------------------------------
def due_clients(firm_id: int, client_ids: Iterable[int] | None = None) -> list[Client]:
    """Clients that need a push. Explicitly named clients skip their holds (a person asked)."""
    stmt = db.select(Client).where(
        Client.firm_id == firm_id,
        Client.version > Client.qbo_pushed_version,
        db.or_(Client.active.is_(True), Client.qbo_customer_id.is_not(None)),
    ).order_by(Client.id)
    if client_ids is not None:
        ids = list(client_ids)
        stmt = stmt.where(Client.id.in_(ids))
        return list(db.session.execute(stmt).scalars())
    held = events.holds(firm_id, ENTITY)
    return [c for c in db.session.execute(stmt).scalars()
            if c.id not in held or held[c.id].version != c.version]


def push_clients(firm_id: int, run: SyncRun, client_ids: Iterable[int] | None = None,
                 qbo: QboClient | None = None, progress: Progress | None = None
                 ) -> dict[str, int]:
    """Push the firm's due clients (or only ``client_ids``); commit per chunk; return counts.

    Nothing due -> no QboClient and no QBO call at all (the hourly run of a quiet firm).
    """
    clients = due_clients(firm_id, client_ids)
    total = len(clients)
    if progress:
        progress(0, total)
    if not clients:
        return {}
    # Keep ids, not rows, between chunks: every commit expires each object the session still
    # holds, so 10,000 loaded clients made each of the 334 commits walk 10,000 objects.
    ids = [c.id for c in clients]
    del clients
    tally = Tally()
    own = qbo is None
    qbo = qbo or QboClient(firm_id)
    try:
        for start in range(0, total, CHUNK):
            chunk = _load(firm_id, ids[start:start + CHUNK])
            push_chunk(qbo, firm_id, run, chunk, tally)
            db.session.commit()
            if progress:
                progress(start + len(chunk), total)
    finally:
        if own:
            qbo.close()
    return tally.as_dict()


def _load(firm_id: int, ids: list[int]) -> list[Client]:
    """The chunk's clients, fresh from the database, in the planned order."""
    rows = db.session.execute(
        db.select(Client).where(Client.firm_id == firm_id, Client.id.in_(ids))).scalars()
    by_id = {c.id: c for c in rows}
    return [by_id[i] for i in ids if i in by_id]


def ensure_customer(qbo: QboClient, client: Client, run: SyncRun) -> str | None:
    """The client's QBO customer id, linking or creating the customer first if needed.

    Returns None (with a ``held`` event for the client in ``run``) when the client cannot be
    linked now: several customers match (review list), a name clash, a refused name. Raises
    the typed QboError for transport/auth failures. Flushes, never commits: the caller's
    transaction covers both the link and what it does next.
    """
    if client.qbo_customer_id:
        return client.qbo_customer_id
    held = events.holds(client.firm_id, ENTITY).get(client.id)
    if held is not None and held.version == client.version:
        record(run, ENTITY, client.id, "held", "held", held.reason)
        return None
    push_chunk(qbo, client.firm_id, run, [client], Tally(), updates=False)
    db.session.flush()
    return client.qbo_customer_id or None


# -- one chunk -----------------------------------------------------------------------------------
def push_chunk(qbo: QboClient, firm_id: int, run: SyncRun, chunk: list[Client], tally: Tally,
               updates: bool = True) -> None:
    """Look up, link, review, create and update one chunk (<= 30 clients); no commit."""
    held = set(events.holds(firm_id, ENTITY))
    try:
        _push_chunk(qbo, firm_id, run, chunk, tally, updates)
    finally:
        # Holds of clients that went through are history now (one statement per chunk).
        events.release(firm_id, ENTITY, [c.id for c in chunk if c.id in held
                                         and c.is_linked and not c.needs_push])


def _push_chunk(qbo: QboClient, firm_id: int, run: SyncRun, chunk: list[Client],
                tally: Tally, updates: bool) -> None:
    unlinked = [c for c in chunk if not c.qbo_customer_id]
    linked = [c for c in chunk if c.qbo_customer_id] if updates else []
    found = find_matches(qbo, firm_id, unlinked)
    creates: list[Client] = []
    for client in unlinked:
        matches = found.get(client.id, [])
        if len(matches) == 1:
            link(client, matches[0], run, tally, "Matched the existing QuickBooks customer")
        elif matches:
            send_to_review(client, matches, run, tally)
        else:
            creates.append(client)
    for client in linked:
        if not client.qbo_sync_token:
            client.qbo_sync_token = str(qbo.get("Customer", client.qbo_customer_id)["SyncToken"])
    plans = [(f"c{c.id}", c, "create") for c in creates]
    plans += [(f"u{c.id}", c, "update") for c in linked]
    if not plans:
        return
    versions = {c.id: c.version for _, c, _ in plans}
    results = send(qbo, firm_id, plans)
    for bid, client, operation in plans:
        outcome = results[bid]
        if outcome.ok:
            _accept(client, outcome.data, versions[client.id], operation, run, tally)
        elif operation == "update" and isinstance(outcome.error, StaleObject):
            _retry_stale(qbo, firm_id, client, versions[client.id], run, tally)
        else:
            _failed(qbo, firm_id, client, operation, outcome.error, run, tally)


def _body(client: Client, operation: str) -> dict[str, Any]:
    body = mapping.customer_payload(client)
    if operation == "update":
        body.update({"Id": client.qbo_customer_id, "SyncToken": client.qbo_sync_token,
                     "sparse": True})
    return body


def batch_request_id(firm_id: int, plans: list[tuple[str, Client, str]]) -> str:
    """<= 36 chars, no ':'; the same planned writes (ids, versions, tokens) -> the same id."""
    spec = ";".join(f"{bid}.{c.version}.{c.qbo_sync_token or ''}" for bid, c, _ in plans)
    digest = hashlib.sha256(f"{firm_id}|{spec}".encode()).hexdigest()[:32]
    return f"cb{digest}"


def single_request_id(firm_id: int, client: Client, operation: str) -> str:
    """<= 50 chars: firm, client, version (and SyncToken for updates)."""
    if operation == "create":
        return f"cc-{firm_id}-{client.id}-v{client.version}"
    return f"cu-{firm_id}-{client.id}-v{client.version}-t{client.qbo_sync_token}"


def send(qbo: QboClient, firm_id: int, plans: list[tuple[str, Client, str]]
         ) -> dict[str, BatchItemResult]:
    """One write: a plain create/update for a single client, else one batch call."""
    if len(plans) == 1:
        bid, client, operation = plans[0]
        return {bid: _single(qbo, firm_id, client, operation)}
    items = [{"bId": bid, "operation": operation, "Customer": _body(client, operation)}
             for bid, client, operation in plans]
    return qbo.batch(items, batch_request_id(firm_id, plans))


def _single(qbo: QboClient, firm_id: int, client: Client, operation: str) -> BatchItemResult:
    bid = f"{operation[0]}{client.id}"
    request_id = single_request_id(firm_id, client, operation)
    try:
        if operation == "create":
            data = qbo.create("Customer", _body(client, operation), request_id)
        else:
            data = qbo.update("Customer", _body(client, operation), request_id)
    except (DuplicateName, StaleObject, ValidationFault, NotFound) as exc:
        return BatchItemResult(bid, None, None, exc)
    return BatchItemResult(bid, "Customer", data, None)


# -- outcomes ------------------------------------------------------------------------------------
def _accept(client: Client, data: dict[str, Any], version: int, operation: str, run: SyncRun,
            tally: Tally) -> None:
    client.qbo_customer_id = str(data["Id"])
    client.qbo_sync_token = str(data.get("SyncToken", "0"))
    client.qbo_pushed_version = max(client.qbo_pushed_version or 0, version)
    action = "created" if operation == "create" else "updated"
    record(run, ENTITY, client.id, action, "ok",
           f"QuickBooks customer Id {client.qbo_customer_id}", counts=tally)


def link(client: Client, customer: dict[str, Any], run: SyncRun, tally: Tally, why: str) -> None:
    """Link an unlinked client to an existing customer (no write to QBO)."""
    client.qbo_customer_id = str(customer["Id"])
    client.qbo_sync_token = str(customer.get("SyncToken", "0"))
    client.qbo_pushed_version = client.version
    record(run, ENTITY, client.id, "linked", "ok",
           f'{why} "{customer.get("DisplayName", "")}" (Id {customer["Id"]}).', counts=tally)


def _retry_stale(qbo: QboClient, firm_id: int, client: Client, version: int, run: SyncRun,
                 tally: Tally) -> None:
    """5010: someone changed the customer in QBO; re-read its SyncToken and retry once."""
    fresh = qbo.get("Customer", client.qbo_customer_id)
    client.qbo_sync_token = str(fresh["SyncToken"])
    outcome = _single(qbo, firm_id, client, "update")
    if outcome.ok:
        _accept(client, outcome.data, version, "update", run, tally)
    elif isinstance(outcome.error, StaleObject):
        record(run, ENTITY, client.id, "update", "failed",
               "QuickBooks reported the customer changed again while we updated it (5010); "
               "the next sync retries.", counts=tally)
    else:
        _failed(qbo, firm_id, client, "update", outcome.error, run, tally)


def _hold(client: Client, run: SyncRun, tally: Tally, action: str, reason: str) -> None:
    events.hold(client.firm_id, ENTITY, client.id, client.version, reason)
    record(run, ENTITY, client.id, action, "held", reason, counts=tally)


def _failed(qbo: QboClient, firm_id: int, client: Client, operation: str,
            error: QboError | None, run: SyncRun, tally: Tally) -> None:
    if isinstance(error, DuplicateName):
        _resolve_duplicate(qbo, firm_id, client, operation, error, run, tally)
    elif isinstance(error, ValidationFault):
        _hold(client, run, tally, "rejected", REJECTED_FIX.format(error=_describe(error)))
    elif isinstance(error, NotFound) and operation == "update":
        _hold(client, run, tally, "missing",
              f"The linked QuickBooks customer (Id {client.qbo_customer_id}) no longer exists "
              f"or is inactive: {_describe(error)}. Fix: reactivate it in QuickBooks, then "
              "press Sync on the client.")
    else:
        record(run, ENTITY, client.id, operation, "failed",
               f"{_describe(error)}. The next sync retries.", counts=tally)


def _describe(error: QboError | None) -> str:
    if error is None:
        return "no answer"
    text = error.detail or error.message or str(error)
    return f"{text} (code {error.code})" if error.code else text


def _resolve_duplicate(qbo: QboClient, firm_id: int, client: Client, operation: str,
                       error: DuplicateName, run: SyncRun, tally: Tally) -> None:
    """6240: the name is taken. By an unlinked customer -> link; else hold with the fix."""
    name = mapping.clean_name(client.display_name)
    owner = _customer_by_id(qbo, error.existing_id) or _customer_by_name(qbo, name)
    if owner is not None:
        other = _linked_client(firm_id, str(owner["Id"]))
        if other is None and operation == "create":
            link(client, owner, run, tally, "QuickBooks already had the customer")
            return
        reason = (TAKEN_FIX.format(name=owner.get("DisplayName", name), qid=owner["Id"],
                                   other=other.display_name) if other is not None else
                  f'Another QuickBooks customer is already named "{name}" (Id {owner["Id"]}). '
                  "Fix: rename the client, or merge the customers in QuickBooks.")
        _hold(client, run, tally, "duplicate", reason)
        return
    what = _name_owner_kind(qbo, name)
    _hold(client, run, tally, "name_clash", CLASH_FIX.format(what=what, name=name))


def _customer_by_id(qbo: QboClient, qbo_id: str | None) -> dict[str, Any] | None:
    if not qbo_id:
        return None
    try:
        return qbo.get("Customer", qbo_id)
    except NotFound:
        return None  # the Id belongs to a vendor or employee (one name list in QBO)


def _customer_by_name(qbo: QboClient, name: str) -> dict[str, Any] | None:
    where = f"DisplayName = {escape(name)} AND Active IN (true, false)"
    rows = qbo.query_all("Customer", where=where)
    return rows[0] if rows else None


def _name_owner_kind(qbo: QboClient, name: str) -> str:
    for entity, label in (("Vendor", "vendor"), ("Employee", "employee")):
        statement = f"SELECT * FROM {entity} WHERE DisplayName = {escape(name)}"  # noqa: S608
        if qbo.query(statement).get(entity):
            return label
    return "vendor or employee"


def _linked_client(firm_id: int, qbo_id: str) -> Client | None:
    return db.session.execute(
        db.select(Client).where(Client.firm_id == firm_id, Client.qbo_customer_id == qbo_id)
    ).scalars().first()


# -- the duplicate check -------------------------------------------------------------------------
def _in_queries(field: str, values: list[str]) -> list[str]:
    """``field IN (...)`` clauses, each under QUERY_BUDGET characters of values."""
    clauses, current, size = [], [], 0
    for value in values:
        literal = escape(value)
        if current and size + len(literal) > QUERY_BUDGET:
            clauses.append(current)
            current, size = [], 0
        current.append(literal)
        size += len(literal) + 2
    if current:
        clauses.append(current)
    return [f"{field} IN ({', '.join(group)})" for group in clauses]


def find_matches(qbo: QboClient, firm_id: int, clients: list[Client]
                 ) -> dict[int, list[dict[str, Any]]]:
    """client id -> the active, unlinked top-level customers whose name key equals its own."""
    if not clients:
        return {}
    names: dict[str, str] = {}
    families: dict[str, str] = {}
    for client in clients:
        for name in mapping.lookup_names(client):
            names.setdefault(name.casefold(), name)
        for family in mapping.family_names(client):
            families.setdefault(family.casefold(), family)
    customers: dict[str, dict[str, Any]] = {}
    wheres = _in_queries("DisplayName", list(names.values()))
    wheres += _in_queries("FamilyName", list(families.values()))
    for where in wheres:
        for row in qbo.query_all("Customer", where=where):
            if not mapping.is_sub_customer(row):
                customers[str(row["Id"])] = row
    if not customers:
        return {}
    taken = set(db.session.execute(
        db.select(Client.qbo_customer_id).where(Client.firm_id == firm_id,
                                                Client.qbo_customer_id.in_(list(customers)))
    ).scalars())
    ignored = _ignored_pairs(firm_id, list(customers))
    by_key: dict[str, list[dict[str, Any]]] = {}
    for qid, row in customers.items():
        if qid in taken:
            continue
        keys = {mapping.name_key(row.get("DisplayName"))}
        person = f"{row.get('GivenName') or ''} {row.get('FamilyName') or ''}".strip()
        if person:
            keys.add(mapping.name_key(person))
        for key in keys - {""}:
            by_key.setdefault(key, []).append(row)
    out: dict[int, list[dict[str, Any]]] = {}
    for client in clients:
        rows = [r for r in by_key.get(mapping.client_key(client), [])
                if (str(r["Id"]), client.id) not in ignored]
        unique = {str(r["Id"]): r for r in rows}
        if unique:
            out[client.id] = list(unique.values())
    return out


def _ignored_pairs(firm_id: int, qbo_ids: list[str]) -> set[tuple[str, int]]:
    rows = db.session.execute(
        db.select(ClientReview).where(ClientReview.firm_id == firm_id,
                                      ClientReview.status == "ignored",
                                      ClientReview.qbo_customer_id.in_(qbo_ids))
    ).scalars()
    return {(r.qbo_customer_id, int(cid)) for r in rows for cid in r.candidate_client_ids or []}


def send_to_review(client: Client, matches: list[dict[str, Any]], run: SyncRun,
                   tally: Tally) -> None:
    """Several customers match: one review row per customer, the client held meanwhile."""
    for customer in matches:
        add_review(client.firm_id, customer, [client.id], "push", run,
                   f'Matches the client "{client.display_name}" (one of {len(matches)}).')
    _hold(client, run, tally, "review", REVIEW_REASON.format(n=len(matches)))


def add_review(firm_id: int, customer: dict[str, Any], client_ids: list[int], source: str,
               run: SyncRun, reason: str) -> ClientReview:
    """Create (or widen) the pending review row for a customer."""
    qid = str(customer["Id"])
    row = db.session.execute(
        db.select(ClientReview).where(ClientReview.firm_id == firm_id,
                                      ClientReview.qbo_customer_id == qid)
    ).scalar_one_or_none()
    if row is None:
        row = ClientReview(firm_id=firm_id, qbo_customer_id=qid, candidate_client_ids=[],
                           source=source, status="pending")
        db.session.add(row)
    row.qbo_display_name = str(customer.get("DisplayName") or "")[:500]
    row.qbo_data = dict(customer)
    row.candidate_client_ids = sorted({*map(int, row.candidate_client_ids or []), *client_ids})
    row.run_id = run.id
    row.reason = reason
    if row.status != "ignored":
        row.status = "pending"
    return row
