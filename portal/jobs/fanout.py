"""The hourly fan-out: one per-firm sync job for every firm whose QBO is connected (DESIGN J1).

Firms that are disconnected or need a reconnect get no job, so a revoked connection cannot
cause an hourly storm of failing runs.
"""

from __future__ import annotations

import logging

from portal.extensions import db
from portal.jobs import job_context, kv
from portal.jobs.queue import enqueue_firm_sync
from portal.models import QboConnection

log = logging.getLogger("portal.jobs")


def connected_firm_ids() -> list[int]:
    return list(
        db.session.execute(
            db.select(QboConnection.firm_id)
            .where(QboConnection.status == "connected")
            .order_by(QboConnection.firm_id)
        ).scalars()
    )


def run_hourly_fanout() -> int:
    """RQ entry point (scheduled): enqueue a sync per connected firm; returns how many."""
    with job_context():
        firm_ids = connected_firm_ids()
        for firm_id in firm_ids:
            enqueue_firm_sync(firm_id, "schedule")
        log.info(kv(job="hourly_fanout", state="done", firms=len(firm_ids)))
        return len(firm_ids)
