"""Shared benchmark plumbing: a sandbox in its own process, a portal app pointed at it, and
the figures every sync benchmark prints (sandbox minutes, API calls, 429s, CPU use).

Why a separate process: the portal and the sandbox in one interpreter share one GIL, so the
sandbox's work slows the sync down and the benchmark measures Python, not QBO's limits. Here
the sandbox runs as ``python -m qbo_sandbox --port <free> --config <tmp json>`` and is driven
only over HTTP (API + control API), as a real QBO would be.

Sandbox minutes are read from the sandbox's own clock (control API), so the rate is measured
in the time the limits are defined in. CPU use of each side is reported so a reader can tell
whether the machine, rather than the limits, set the pace (near 100% of a core = bottleneck).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from qbo_sandbox.testing import SandboxHandle  # noqa: E402

# QBO's published limits (DESIGN §6), the same numbers the sandbox enforces by default.
PER_REALM_PER_MIN = 500
BATCH_PER_MIN = 40
BATCH_ITEMS = 30
CONCURRENT = 10
CONTROL_SECRET = "bench-secret"  # noqa: S105 (a local throwaway sandbox)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RemoteSandbox(SandboxHandle):
    """Control-API helpers for a sandbox in another process (no in-process ``sandbox``)."""

    def __init__(self, base_url: str, proc: subprocess.Popen[bytes]) -> None:
        super().__init__(base_url, CONTROL_SECRET, None)  # type: ignore[arg-type]
        self.proc = proc

    def clock_minutes(self) -> float:
        """The sandbox clock, in sandbox minutes since the epoch."""
        return float(self.control("GET", "clock")["timestamp"]) / 60.0

    def calls(self) -> int:
        return int(self.counters()["requests_total"])

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.proc.pid)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc; 0.0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def sandbox_process(scale: float, profile: str | None = None,
                    extra: dict[str, Any] | None = None) -> Iterator[RemoteSandbox]:
    """Start a fresh in-memory sandbox with QBO's real limits at ``scale``; stop it after.

    ``profile``: a path; the sandbox then runs single-threaded under cProfile (one request at
    a time, which is all a sequential sync sends) and writes its stats there on exit.
    """
    port = free_port()
    config = {"time_scale": scale, "control_secret": CONTROL_SECRET,
              "limits": {"enabled": True}, **(extra or {})}
    with tempfile.TemporaryDirectory(prefix="bench-sbx-") as tmp:
        cfg_path = Path(tmp) / "sandbox.json"
        cfg_path.write_text(json.dumps(config))
        log = (Path(tmp) / "sandbox.log").open("wb")
        if profile:
            cmd = [sys.executable, str(Path(__file__).resolve()), "serve-profiled",
                   str(port), str(cfg_path), profile]
        else:
            cmd = [sys.executable, "-m", "qbo_sandbox", "--port", str(port),
                   "--config", str(cfg_path)]
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        handle = RemoteSandbox(f"http://127.0.0.1:{port}", proc)
        try:
            _wait_until_up(handle, proc, Path(tmp) / "sandbox.log")
            yield handle
        finally:
            handle.close()
            proc.send_signal(2)  # SIGINT: werkzeug stops cleanly (and cProfile writes)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()


def _wait_until_up(handle: RemoteSandbox, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sandbox exited early:\n{log.read_text()}")
        try:
            requests.get(handle.discovery_url, timeout=1).raise_for_status()
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError("sandbox did not start within 30 s")


def portal_app(db_path: Path, sbx: RemoteSandbox, scale: float) -> Any:
    """A portal app on its own SQLite file, talking to ``sbx``, with the governor's minute
    shrunk to the sandbox's (QBO_RATE_WINDOW_SECONDS = 60 / scale) and its Redis keys clean."""
    from portal import create_app
    from portal.qbo import environments
    from portal.redis_conn import get_redis

    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
        "QBO_ENVIRONMENT": "local", "QBO_LOCAL_URL": sbx.base_url,
        "QBO_CLIENT_ID": sbx.CLIENT_ID, "QBO_CLIENT_SECRET": sbx.CLIENT_SECRET,
        "QBO_RATE_WINDOW_SECONDS": 60.0 / scale,
        "QBO_THROTTLE_WAIT_SECONDS": 60.0 / scale,
    })
    environments.clear_cache()
    with app.app_context():
        redis = get_redis(app)
        for realm in (sbx.REALM_1, sbx.REALM_2):
            redis.delete(*[f"qbo:gov:{realm}:{k}" for k in ("req", "inflight", "batch")])
    return app


def connect_firm(sbx: RemoteSandbox, realm: str, name: str = "Bench CPAs") -> int:
    """A firm connected to ``realm`` with freshly minted tokens (inside an app context)."""
    from portal.extensions import db
    from portal.models import Firm
    from portal.qbo import tokens
    from portal.qbo.oauth import TokenSet

    firm = Firm(name=name)
    db.session.add(firm)
    db.session.commit()
    answer = sbx.mint_tokens(realm)
    tokens.record_connection(firm.id, TokenSet.from_response(answer, realm), realm,
                             "Sandbox Company", None)
    db.session.commit()
    return int(firm.id)


def governor_limits(app: Any) -> tuple[int, int]:
    """(requests, batch calls) per window the portal's governor allows (its safety margin)."""
    from portal.qbo.governor import Limits

    limits = Limits.from_config(app.config)
    return limits.per_window, limits.batch_per_window


class Meter:
    """Sandbox minutes, API calls, 429s and CPU seconds over one measured block."""

    def __init__(self, sbx: RemoteSandbox) -> None:
        self.sbx = sbx

    def __enter__(self) -> Meter:
        self.sbx.reset_counters()
        self._start = (self.sbx.clock_minutes(), time.monotonic(), self.sbx.cpu_seconds(),
                       time.process_time())
        return self

    def __exit__(self, *exc: object) -> None:
        minutes, real, sbx_cpu, own_cpu = self._start
        self.sandbox_minutes = self.sbx.clock_minutes() - minutes
        self.real_seconds = time.monotonic() - real
        self.sandbox_cpu = self.sbx.cpu_seconds() - sbx_cpu
        self.portal_cpu = time.process_time() - own_cpu
        snap = self.sbx.counters()
        self.counters = snap
        self.calls = int(snap["requests_total"])
        self.throttled = int(snap["throttled_total"])

    def count(self, endpoint: str) -> int:
        return int(self.counters["requests"].get(endpoint, 0))

    def cpu_line(self) -> str:
        real = max(self.real_seconds, 1e-9)
        return (f"real_s={self.real_seconds:.1f} sandbox_min={self.sandbox_minutes:.2f} "
                f"sandbox_cpu={self.sandbox_cpu / real:.0%} portal_cpu={self.portal_cpu / real:.0%}"
                " (of one core)")


def _serve_profiled(port: str, config: str, out: str) -> None:
    """Serve the sandbox single-threaded under cProfile until SIGINT; dump stats to ``out``."""
    import cProfile

    from werkzeug.serving import make_server

    from qbo_sandbox.app import create_app
    from qbo_sandbox.testing import _QuietHandler

    app = create_app(None, config_file=config)
    server = make_server("127.0.0.1", int(port), app, threaded=False,
                         request_handler=_QuietHandler)
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        profiler.disable()
        profiler.dump_stats(out)
        server.server_close()


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "serve-profiled":
        _serve_profiled(*sys.argv[2:])
    else:
        sys.exit("usage: python bench/_common.py serve-profiled PORT CONFIG OUT")
