"""Background jobs (RQ entry points), the per-firm lock and the periodic schedule.

How a job finds its Flask app (`job_app()`):

1. When an app context is already pushed in this process (tests running jobs in-process with
   `rq.SimpleWorker`, or a view calling a job function directly), that app is used.
2. Otherwise the app registered with `set_job_app()` is used: `worker.py` creates the app once
   in the worker's parent process and registers it, so every forked work horse inherits it.
3. Otherwise (any other process that runs a job) `create_app()` is called once and cached.

Each job then runs inside `job_context()`: a fresh app context (hence its own SQLAlchemy
session, even when an outer context exists) whose session is removed at the end, so a job
never leaks a connection or a half-finished transaction into the next one.
Importing this package does nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, has_app_context

log = logging.getLogger("portal.jobs")

_app_lock = threading.Lock()
_job_app: Flask | None = None


def set_job_app(app: Flask | None) -> None:
    """Register the app that jobs in this process use when no app context is pushed."""
    global _job_app
    with _app_lock:
        _job_app = app


def job_app() -> Flask:
    """The Flask app a job runs with (see the module docstring for the order)."""
    global _job_app
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    with _app_lock:
        if _job_app is None:
            from portal import create_app

            _job_app = create_app()
        return _job_app


@contextmanager
def job_context() -> Iterator[Flask]:
    """Run a job body in its own app context; always release the DB session afterwards."""
    app = job_app()
    with app.app_context():
        from portal.extensions import db

        try:
            yield app
        finally:
            db.session.remove()


def kv(**fields: object) -> str:
    """One `key=value` log line; values with spaces are quoted. Never pass secrets here."""
    parts = []
    for key, value in fields.items():
        text = "-" if value is None else str(value)
        if not text or any(ch.isspace() for ch in text) or '"' in text:
            text = '"' + text.replace('"', "'") + '"'
        parts.append(f"{key}={text}")
    return " ".join(parts)
