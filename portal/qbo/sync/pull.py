"""Import Clients (K1): every active QBO Customer becomes a linked client, once.

Pages through Customer (ORDERBY Id), committing per page with progress. Per customer:
already linked to a client of the firm -> skipped (never imported twice); already on the review
list -> left there; its name key matches unlinked clients -> review list ("Link to <client>" /
"Import as new" / "Ignore"); otherwise a new client, linked, with kind, names, email, phone
and address mapped. Sub-customers (jobs) are imported as clients too, and said to be jobs in
their notes and in the sync log, so none is dropped silently.

The review decisions (``decide``) live here as well: they are the rest of the import.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from portal.extensions import db
from portal.models import Client, ClientReview, SyncRun
from portal.models._common import utcnow
from portal.qbo.client import QboClient
from portal.qbo.mapping import customers as mapping
from portal.qbo.sync import events
from portal.qbo.sync.customers import ENTITY, add_review
from portal.qbo.sync.events import Tally, record

log = logging.getLogger("portal.sync")

PAGE_SIZE = 1000
Progress = Callable[[int, int | None], None]
DECISIONS = ("link", "import", "ignore")


class DecisionError(ValueError):
    """A review decision that cannot be applied (message is shown to the admin)."""


def count_customers(qbo: QboClient) -> int | None:
    answer = qbo.query("SELECT COUNT(*) FROM Customer")
    total = answer.get("totalCount")
    return int(total) if total is not None else None


def import_customers(qbo: QboClient, firm_id: int, run: SyncRun, page_size: int = PAGE_SIZE,
                     progress: Progress | None = None) -> dict[str, int]:
    """Import the realm's active customers into the firm; returns counts (imported, linked
    already, sent to review, ...). Commits after every page."""
    total = count_customers(qbo)
    done = 0
    if progress:
        progress(0, total)
    tally = Tally()
    state = _ImportState(firm_id)
    for page in qbo.iter_pages("Customer", page_size=page_size, order_by="Id"):
        for customer in page:
            _import_one(customer, state, run, tally)
        db.session.commit()
        done += len(page)
        if progress:
            progress(done, max(total or 0, done))
    return tally.as_dict()


class _ImportState:
    """What the firm already has, loaded once: linked ids, reviews, unlinked clients by key."""

    def __init__(self, firm_id: int) -> None:
        self.firm_id = firm_id
        clients = db.session.execute(
            db.select(Client.id, Client.display_name, Client.qbo_customer_id)
            .where(Client.firm_id == firm_id)
        ).all()
        self.linked = {qid for _, _, qid in clients if qid}
        self.unlinked: dict[str, list[int]] = {}
        for cid, name, qid in clients:
            if not qid:
                self.unlinked.setdefault(mapping.name_key(name), []).append(cid)
        self.reviewed = set(db.session.execute(
            db.select(ClientReview.qbo_customer_id).where(ClientReview.firm_id == firm_id)
        ).scalars())


def _import_one(customer: dict[str, Any], state: _ImportState, run: SyncRun,
                tally: Tally) -> None:
    qid = str(customer["Id"])
    if qid in state.linked:
        tally["already_linked"] += 1
        return
    if qid in state.reviewed:
        tally["already_in_review"] += 1
        return
    keys = {mapping.name_key(customer.get("DisplayName"))}
    person = f"{customer.get('GivenName') or ''} {customer.get('FamilyName') or ''}".strip()
    if person:
        keys.add(mapping.name_key(person))
    candidates = sorted({cid for key in keys - {""} for cid in state.unlinked.get(key, [])})
    if candidates:
        add_review(state.firm_id, customer, candidates, "import", run,
                   "Its name matches a client that is not linked to QuickBooks yet.")
        state.reviewed.add(qid)
        record(run, "qbo_customer", None, "review", "skipped",
               f'"{customer.get("DisplayName")}" (Id {qid}) matches an existing client: '
               "decide on the review list.", counts=tally)
        return
    client = create_client(state.firm_id, customer)
    state.linked.add(qid)
    action = "imported_job" if mapping.is_sub_customer(customer) else "imported"
    message = f"Imported QuickBooks customer Id {qid}"
    if mapping.is_sub_customer(customer):
        message += f", a sub-customer (job) of {mapping.parent_name(customer)}"
    record(run, ENTITY, client.id, action, "ok", message + ".", counts=tally)


def create_client(firm_id: int, customer: dict[str, Any]) -> Client:
    """A new client from a Customer, linked and already "pushed" (nothing to send back)."""
    client = Client(firm_id=firm_id, **mapping.client_fields(customer))
    if mapping.is_sub_customer(customer):
        client.notes = (f"QuickBooks sub-customer (job) of {mapping.parent_name(customer)}; "
                        f"full name {customer.get('FullyQualifiedName') or ''}.")
    client.refresh_name()
    if not client.display_name:
        client.kind, client.company_name = "business", str(customer.get("DisplayName") or "")
        client.refresh_name()
    client.version = 1
    client.qbo_customer_id = str(customer["Id"])
    client.qbo_sync_token = str(customer.get("SyncToken", "0"))
    client.qbo_pushed_version = 1
    db.session.add(client)
    db.session.flush()
    return client


# -- review decisions ----------------------------------------------------------------------------
def decide(review: ClientReview, decision: str, run: SyncRun, user_id: int | None,
           client_id: int | None = None) -> Client | None:
    """Apply an admin's decision to a pending review row; the caller commits.

    link -> the chosen candidate client is linked to the customer (its later edits push);
    import -> a new linked client is created from the customer; ignore -> nothing changes and
    the pair is not proposed again. Raises DecisionError when the row or choice is not valid.
    """
    if decision not in DECISIONS:
        raise DecisionError("Choose Link, Import as new or Ignore.")
    if review.status != "pending":
        raise DecisionError("This customer was already decided.")
    firm_id = review.firm_id
    taken = db.session.execute(
        db.select(Client).where(Client.firm_id == firm_id,
                                Client.qbo_customer_id == review.qbo_customer_id)
    ).scalars().first()
    client: Client | None = None
    if decision == "link":
        if client_id not in {int(c) for c in review.candidate_client_ids or []}:
            raise DecisionError("Pick one of the matching clients to link.")
        client = db.session.get(Client, client_id)
        if client is None or client.firm_id != firm_id:
            raise DecisionError("That client no longer exists.")
        if client.qbo_customer_id or taken is not None:
            raise DecisionError("The client or the customer is already linked.")
        data = review.qbo_data or {}
        client.qbo_customer_id = review.qbo_customer_id
        client.qbo_sync_token = str(data.get("SyncToken", "0"))
        client.qbo_pushed_version = client.version
        events.release(firm_id, ENTITY, [client.id])
        record(run, ENTITY, client.id, "linked", "ok",
               f'Linked by an admin to QuickBooks customer "{review.qbo_display_name}" '
               f"(Id {review.qbo_customer_id}).")
        review.status, review.client_id = "linked", client.id
    elif decision == "import":
        if taken is not None:
            raise DecisionError("That customer is already linked to a client.")
        client = create_client(firm_id, {**(review.qbo_data or {}),
                                         "Id": review.qbo_customer_id})
        record(run, ENTITY, client.id, "imported", "ok",
               f"Imported QuickBooks customer Id {review.qbo_customer_id} as a new client.")
        review.status, review.client_id = "imported", client.id
    else:
        record(run, "qbo_customer", None, "ignored", "skipped",
               f'Ignored QuickBooks customer "{review.qbo_display_name}" '
               f"(Id {review.qbo_customer_id}).")
        review.status = "ignored"
        events.release(firm_id, ENTITY, [int(c) for c in review.candidate_client_ids or []])
    review.decided_by_id = user_id
    review.decided_at = utcnow()
    return client
