"""Client rules that are more than view glue: list query, saving a form, duplicates, deletion.

Every function works inside the current firm (portal.auth.access.scoped) and never commits:
the view owns the transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Select, func, or_

from portal.auth.access import firm_id, scoped
from portal.clients.forms import FIELDS_BY_KIND, NAME_FIELDS, ClientForm
from portal.extensions import db
from portal.models import Client, Invoice, QboConnection, TimeEntry

log = logging.getLogger(__name__)

# Fields copied from the form as one trimmed line (inner runs of spaces collapsed).
LINE_FIELDS = (
    "phone", "address_line1", "address_line2", "city", "state", "postal_code", "country",
)
NOT_CONNECTED = "QuickBooks is not connected. Connect it on the Integrations page."


def _like(term: str) -> str:
    """A LIKE pattern matching `term` anywhere, with the user's % and _ taken literally."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_query(q: str = "", kind: str = "", qb: str = "", status: str = "active") -> Select:
    """The firm's clients matching the list filters, sorted by display name."""
    stmt = scoped(Client)
    if q:
        pattern = _like(q)
        stmt = stmt.where(
            or_(
                *(
                    column.ilike(pattern, escape="\\")
                    for column in (
                        Client.display_name,
                        Client.first_name,
                        Client.last_name,
                        Client.spouse_first_name,
                        Client.spouse_last_name,
                        Client.company_name,
                        Client.email,
                    )
                )
            )
        )
    if kind:
        stmt = stmt.where(Client.kind == kind)
    if qb == "linked":
        stmt = stmt.where(Client.qbo_customer_id.is_not(None), Client.qbo_customer_id != "")
    elif qb == "unlinked":
        stmt = stmt.where(or_(Client.qbo_customer_id.is_(None), Client.qbo_customer_id == ""))
    if status == "active":
        stmt = stmt.where(Client.active.is_(True))
    elif status == "inactive":
        stmt = stmt.where(Client.active.is_(False))
    return stmt.order_by(func.lower(Client.display_name), Client.id)


def _line(value: str | None) -> str | None:
    cleaned = " ".join((value or "").split())
    return cleaned or None


def apply_form(client: Client, form: ClientForm) -> bool:
    """Copy the form onto `client`; True when anything changed (then the caller touches it).

    Names a kind does not use are cleared, so the stored record matches what the form showed.
    """
    kind = form.kind.data
    values: dict[str, object] = {"kind": kind}
    for name in NAME_FIELDS:
        values[name] = _line(form[name].data) if name in FIELDS_BY_KIND[kind] else None
    for name in LINE_FIELDS:
        values[name] = _line(form[name].data)
    values["email"] = _line(form.email.data)
    values["notes"] = (form.notes.data or "").strip() or None
    values["active"] = bool(form.active.data)
    changed = False
    for name, value in values.items():
        if getattr(client, name) != value:
            setattr(client, name, value)
            changed = True
    return changed


def find_duplicate(display_name: str, exclude_id: int | None = None) -> Client | None:
    """Another active client of the firm with the same display name, ignoring case."""
    if not display_name:
        return None
    stmt = scoped(Client).where(
        Client.active.is_(True), func.lower(Client.display_name) == display_name.lower()
    )
    if exclude_id is not None:
        stmt = stmt.where(Client.id != exclude_id)
    return db.session.execute(stmt.order_by(Client.id).limit(1)).scalar_one_or_none()


@dataclass(frozen=True)
class History:
    """What hangs off a client; anything here forbids a hard delete."""

    invoices: int
    time_entries: int

    @property
    def deletable(self) -> bool:
        return not self.invoices and not self.time_entries


def history_of(client: Client) -> History:
    def count(model: type[Invoice] | type[TimeEntry]) -> int:
        stmt = scoped(model).where(model.client_id == client.id)
        return db.session.execute(stmt.with_only_columns(func.count())).scalar_one()

    return History(invoices=count(Invoice), time_entries=count(TimeEntry))


def request_sync(client: Client, requested_by_id: int | None = None) -> tuple[str, str]:
    """Ask for `client` to be pushed to QBO now (K3); returns the flash (category, message).

    Enqueues a push of this one client (coalesced with a queued run that covers it); never
    calls QBO inside the request. Commits (the queued run must exist before the job runs).
    """
    from portal.jobs.client_jobs import enqueue_push

    connection = db.session.execute(scoped(QboConnection)).scalar_one_or_none()
    if connection is None or not connection.is_connected:
        return "warning", NOT_CONNECTED
    try:
        run, queued = enqueue_push(firm_id(), "client", [client.id], requested_by_id)
    except Exception:  # noqa: BLE001 - Redis unreachable: tell the user, never a 500
        log.exception("client=%s firm=%s action=sync_requested state=enqueue_failed",
                      client.id, firm_id())
        return "danger", "The job queue is not reachable right now; try again in a minute."
    log.info("client=%s firm=%s action=sync_requested run=%s queued=%s", client.id, firm_id(),
             run.id, queued)
    already = " (it was already waiting in the queue)" if not queued else ""
    return "info", (
        f"Sync queued for {client.display_name}{already}; the result shows here and on the "
        "Integrations tab. If another sync is running, this one is skipped and the client "
        "goes with the next scheduled sync."
    )
