"""The sync log, shared by every flow: one SyncEvent per record outcome, counts per run, and
holds (records not retried until they change).

Contract (used by the client, invoice and time flows)::

    tally = Tally()
    record(run, "client", client.id, "created", "ok", counts=tally)
    record(run, "invoice", inv.id, "held", "held", "Code TAX-IND has no QBO item. Fix: ...")
    hold(firm_id, "client", client.id, client.version, "reason and fix")

``record`` only adds to the session; the flow commits (per chunk). ``result`` is one of
``ok``, ``held``, ``failed``, ``skipped``: ``held`` and ``failed`` show on the Integrations
tab's "Needs attention" list, so their message must say what happened and what to do.
"""

from __future__ import annotations

import logging
from collections import Counter

from portal.extensions import db
from portal.models import SyncEvent, SyncHold, SyncRun
from portal.models._common import utcnow

log = logging.getLogger("portal.sync")

# flagged: done, but something an admin should look at (e.g. a rate mismatch).
RESULTS = ("ok", "flagged", "held", "failed", "skipped")
MESSAGE_LIMIT = 2000


class Tally(Counter):
    """Counts per action for one run ("created": 3, "updated": 9, ...), JSON-ready."""

    def as_dict(self) -> dict[str, int]:
        return {key: int(value) for key, value in sorted(self.items()) if value}


def record(run: SyncRun, entity: str, entity_id: int | None, action: str, result: str,
           message: str | None = None, counts: Counter | None = None) -> SyncEvent:
    """Add one SyncEvent to ``run`` (and bump ``counts[action]``); the caller commits."""
    if result not in RESULTS:
        raise ValueError(f"result must be one of {RESULTS}, not {result!r}")
    event = SyncEvent(run_id=run.id, firm_id=run.firm_id, entity=entity, entity_id=entity_id,
                      action=action, result=result,
                      message=(message or None) and message[:MESSAGE_LIMIT], created_at=utcnow())
    db.session.add(event)
    if counts is not None:
        counts[action] += 1
    log.debug("sync_event run=%s firm=%s entity=%s id=%s action=%s result=%s", run.id,
             run.firm_id, entity, entity_id, action, result)
    return event


def hold(firm_id: int, entity: str, entity_id: int, version: int, reason: str) -> SyncHold:
    """Stop retrying this record until it is edited past ``version`` (or synced by hand)."""
    row = db.session.execute(
        db.select(SyncHold).where(SyncHold.firm_id == firm_id, SyncHold.entity == entity,
                                  SyncHold.entity_id == entity_id)
    ).scalar_one_or_none()
    if row is None:
        row = SyncHold(firm_id=firm_id, entity=entity, entity_id=entity_id)
        db.session.add(row)
    row.version = version
    row.reason = reason[:MESSAGE_LIMIT]
    row.created_at = utcnow()
    return row


def release(firm_id: int, entity: str, entity_ids: list[int] | set[int]) -> None:
    """Forget holds (the record went through, or someone asked for it explicitly)."""
    if entity_ids:
        db.session.execute(
            db.delete(SyncHold).where(SyncHold.firm_id == firm_id, SyncHold.entity == entity,
                                      SyncHold.entity_id.in_(list(entity_ids)))
        )


def holds(firm_id: int, entity: str) -> dict[int, SyncHold]:
    """entity_id -> its hold, for the firm (small: only records that need attention)."""
    rows = db.session.execute(
        db.select(SyncHold).where(SyncHold.firm_id == firm_id, SyncHold.entity == entity)
    ).scalars()
    return {row.entity_id: row for row in rows}
