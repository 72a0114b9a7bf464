"""Fixtures for tests that run real RQ jobs (rq.SimpleWorker in this process, or a forking
worker).

A job opens its own app context and DB session (portal.jobs.job_context), so these tests need a
database two connections share: a file, or DATABASE_URL (PostgreSQL in CI), instead of
conftest's in-memory SQLite. The job's session and the test's are then two real connections,
as in production.

Import the fixtures by their private names (`from tests.rq_support import _file_app  # noqa`);
pytest registers them as `app` and `redis`, overriding conftest's for that module.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from redis import Redis
from rq import SimpleWorker

from portal.jobs.queue import get_queue
from portal.redis_conn import get_redis
from tests.conftest import fresh_app


@pytest.fixture(name="app")
def _file_app(tmp_path: Path) -> Iterator[Flask]:
    """conftest's `app`, on a database file (or DATABASE_URL) a worker's session also sees."""
    overrides: dict = {"TESTING": True}
    if not os.environ.get("DATABASE_URL"):
        overrides["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'portal.db'}"
    with fresh_app(overrides) as app:
        yield app


@pytest.fixture(name="redis")
def _closing_redis(app: Flask) -> Iterator[Redis]:
    """The app's Redis, flushed before and after (only this logical db), then disconnected."""
    client = get_redis(app)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def work(app: Flask, redis: Redis | None = None) -> None:
    """Run every job waiting in the portal's queue, in this process, until it is empty."""
    connection = redis if redis is not None else get_redis(app)
    SimpleWorker([get_queue(app)], connection=connection).work(burst=True)
