"""End-to-end fixtures: the whole product on ephemeral ports, driven by a real Chromium.

Per test module (so each module starts from a fresh firm and a fresh QuickBooks company):

- the local QBO sandbox (`qbo_sandbox.testing.run_sandbox`), with the portal's callback URL for
  this run registered on the sandbox's dev app;
- the portal, served over real HTTP by a threaded werkzeug server in a thread, on its own
  SQLite file in a temporary folder (never DATABASE_URL: other tests drop tables there), schema
  from the models and the demo firm seeded by `portal.demo_seed`;
- a real RQ worker process (`python worker.py`) on the same database and Redis (REDIS_URL when
  set, else the embedded Redis of this process).

For the session: one Chromium (Debian's, see README "Tests"). A machine without it fails the
e2e tests with a message that says how to install it; they never skip silently.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.helpers import DESKTOP, Stack

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
TIMEOUT_MS = 15_000



@pytest.fixture(scope="session")
def chromium_browser():
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"Chromium is needed for the e2e tests and was not found at {CHROMIUM}. Install it "
            "(Debian/Ubuntu: `sudo apt-get update && sudo apt-get install -y chromium`) or point "
            "E2E_CHROMIUM at a Chromium binary. `playwright install` is not used.",
            pytrace=False,
        )
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    playwright.stop()


def _redis_url() -> str:
    from redis import Redis

    from portal.redis_conn import embedded_redis_url

    url = os.environ.get("REDIS_URL") or embedded_redis_url()
    connection = Redis.from_url(url)
    connection.flushdb()  # the suite's own db: no jobs or locks left by other tests
    connection.close()
    return url


def _build_app(db_uri: str, redis_url: str, sandbox_url: str):
    from portal import create_app
    from portal.config import DevelopmentConfig

    config = DevelopmentConfig()
    config.SQLALCHEMY_DATABASE_URI = db_uri
    config.REDIS_URL = redis_url
    config.QBO_ENVIRONMENT = "local"
    config.QBO_LOCAL_URL = sandbox_url
    config.QBO_CLIENT_ID = "sandbox-client-id"
    config.QBO_CLIENT_SECRET = "sandbox-client-secret"  # noqa: S105 - the sandbox's dev app
    return create_app(config)


def _seed(app) -> None:
    from portal.demo_seed import seed_demo_firm
    from portal.extensions import db

    with app.app_context():
        db.create_all()
        assert seed_demo_firm(), "the demo firm was already there"
        db.session.remove()


def _start_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    with open(log_path, "wb") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "worker.py"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )


def _stop_worker(proc: subprocess.Popen) -> None:
    """SIGTERM (warm shutdown), again (cold), then SIGKILL: only our own process group."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        if proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    from werkzeug.serving import WSGIRequestHandler, make_server

    from qbo_sandbox.testing import run_sandbox

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args, **kwargs) -> None:  # one line per request is noise here
            pass

    folder = tmp_path_factory.mktemp("e2e")
    db_uri = "sqlite:///" + str(folder / "portal.db")
    redis_url = _redis_url()
    with run_sandbox() as sandbox:
        app = _build_app(db_uri, redis_url, sandbox.base_url)
        _seed(app)
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
        portal_url = f"http://127.0.0.1:{server.port}"
        redirect_uri = portal_url + "/integrations/quickbooks/callback"
        app.config["QBO_REDIRECT_URI"] = redirect_uri
        sandbox.allow_redirect_uri(redirect_uri)
        thread = threading.Thread(target=server.serve_forever, name="e2e-portal", daemon=True)
        thread.start()

        env = dict(os.environ)
        env.update(
            PORTAL_ENV="development", DATABASE_URL=db_uri, REDIS_URL=redis_url,
            QBO_ENVIRONMENT="local", QBO_LOCAL_URL=sandbox.base_url,
            QBO_REDIRECT_URI=redirect_uri, QBO_CLIENT_ID="sandbox-client-id",
            QBO_CLIENT_SECRET="sandbox-client-secret", PYTHONUNBUFFERED="1",
        )
        worker_log = folder / "worker.log"
        worker = _start_worker(env, worker_log)
        try:
            yield Stack(portal_url, sandbox, app, worker_log)
        finally:
            _stop_worker(worker)
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
            with app.app_context():
                from portal.extensions import db

                db.engine.dispose()


@pytest.fixture(scope="module")
def context(chromium_browser, stack):
    ctx = chromium_browser.new_context(viewport=DESKTOP, base_url=stack.portal_url)
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture(scope="module")
def page(context):
    """One tab shared by every test of a module, so the steps follow each other like a user."""
    tab = context.new_page()
    tab.on("dialog", lambda dialog: dialog.accept())  # data-confirm prompts: the user says OK
    # Console errors (CSP violations, failed fetches) are printed with a failing test's output.
    tab.on("console", lambda msg: msg.type == "error" and print(f"[browser] {msg.text}"))
    yield tab
    tab.close()
