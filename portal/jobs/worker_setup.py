"""The RQ worker that `python worker.py` runs.

The app is created once, in the worker's parent process, and registered with `set_job_app`;
RQ forks a work horse per job, which inherits it. Right after the fork the horse disposes of the
SQLAlchemy engine's pool with `close=False`: the pooled connections inherited from the parent
are dropped without being closed (closing would break the parent's sockets), so the horse opens
its own connections and no DB connection is ever shared across the fork.
"""

from __future__ import annotations

import logging

from flask import Flask
from rq import Worker

from portal.jobs import job_app, kv, set_job_app

log = logging.getLogger("portal.jobs")


class PortalWorker(Worker):
    """An RQ forking worker whose work horses start with a fresh DB connection pool."""

    def main_work_horse(self, job, queue):  # type: ignore[override]
        from portal.extensions import db

        with job_app().app_context():
            db.engine.dispose(close=False)
        return super().main_work_horse(job, queue)


def run_worker(app: Flask, burst: bool = False) -> bool:
    """Process the portal queue until stopped (or, with burst, until it is empty)."""
    from portal.jobs.queue import get_queue
    from portal.redis_conn import get_redis

    set_job_app(app)
    queue = get_queue(app)
    worker = PortalWorker([queue], connection=get_redis(app))
    log.info(kv(worker=worker.name, queue=queue.name, state="starting"))
    return worker.work(burst=burst, logging_level="INFO")
