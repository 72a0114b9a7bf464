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

import argparse
import cProfile
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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


def seed_entities(sbx: RemoteSandbox, realm: str, entity: str,
                  docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Create ``docs`` in the sandbox over its own batch API (30 per call) with the limits
    switched off for the duration, and return the created entities in order.

    Why: the sandbox runs in another process, so a benchmark cannot write into its store
    directly; setup must not spend the measured run's rate budget either (the Meter resets
    the counters afterwards, and the limits go back on before anything is measured).
    """
    token = sbx.mint_tokens(realm)["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    created: list[dict[str, Any]] = []
    sbx.configure(limits={"enabled": False})
    try:
        for start in range(0, len(docs), BATCH_ITEMS):
            items = [{"bId": f"s{n}", "operation": "create", entity: doc}
                     for n, doc in enumerate(docs[start:start + BATCH_ITEMS])]
            resp = sbx.http.post(sbx.api_url(realm, "batch"), json={"BatchItemRequest": items},
                                 headers=headers, timeout=60)
            resp.raise_for_status()
            for answer in resp.json()["BatchItemResponse"]:
                if entity not in answer:
                    raise RuntimeError(f"seeding {entity} failed: {answer}")
                created.append(answer[entity])
    finally:
        sbx.configure(limits={"enabled": True})
    return created


class Progress:
    """Chunk completions against real time (converted to sandbox time with the scale).

    Why: QBO's limits are sliding windows, so a sync that waits for them moves in bursts
    (38 batches, then a wait until the oldest leaves the window). A run that ends just after a
    burst has a last partial minute holding a full minute's work, and done / elapsed then
    overstates the pace (it can exceed the ceiling). Counting only what was done within whole
    sandbox minutes from the start removes that end effect.
    """

    def __init__(self, scale: float) -> None:
        self.scale = scale
        self.marks: list[tuple[float, int]] = []

    def __call__(self, done: int, total: int) -> None:
        self.marks.append((time.monotonic(), done))

    def whole_minutes_rate(self) -> tuple[int, float] | None:
        """(k, items per sandbox minute over the first k whole sandbox minutes), or None."""
        if len(self.marks) < 2:
            return None
        start = self.marks[0][0]
        minutes = [((t - start) * self.scale / 60.0, n) for t, n in self.marks]
        whole = int(minutes[-1][0])
        if whole < 1:
            return None
        done = max(n for m, n in minutes if m <= whole)
        return whole, done / whole


def write_ceiling(meter: Meter, writes: int) -> tuple[float, float]:
    """(effective ceiling in writes per sandbox minute, other requests per batch call).

    Every write is a batch item, so writes are bounded by 40 x 30 = 1,200 per minute. Each
    batch call also costs the other requests the run made per batch (lookups, reads, the odd
    single create), so the 500 requests bound writes at 500 / (other + 1) x (writes per batch).
    The smaller bound is the effective ceiling.
    """
    batches = meter.count("POST batch")
    if not batches:
        return float(BATCH_PER_MIN * BATCH_ITEMS), 0.0
    other = (meter.calls - batches) / batches
    per_batch = min(writes / batches, BATCH_ITEMS) if writes else BATCH_ITEMS
    by_requests = PER_REALM_PER_MIN / (other + 1) * per_batch
    return min(BATCH_PER_MIN * BATCH_ITEMS, by_requests), other


def print_rates(noun: str, done: int, meter: Meter, progress: Progress, app: Any, *,
                ceiling: tuple[float, float] | None = None, other: str = "other calls",
                per: str = "batch") -> None:
    """The ceiling line, the rate over the whole run and the sustained rate with a verdict.

    ``ceiling``: (effective ceiling, other requests per batch) when a benchmark computes its
    own (default: ``write_ceiling``); ``other`` and ``per`` name those requests and the unit.
    """
    ceiling, others = ceiling if ceiling is not None else write_ceiling(meter, done)
    gov_requests, gov_batches = governor_limits(app)
    gov_cap = min(gov_batches * BATCH_ITEMS, gov_requests / (others + 1) * BATCH_ITEMS)
    print(f"ceiling: batch {BATCH_PER_MIN}x{BATCH_ITEMS}={BATCH_PER_MIN * BATCH_ITEMS}/min; "
          f"requests {PER_REALM_PER_MIN}/min / ({others:.2f} {other} + 1 batch) per {per} "
          f"x {BATCH_ITEMS} = {PER_REALM_PER_MIN / (others + 1) * BATCH_ITEMS:.0f}/min; "
          f"effective={ceiling:.0f}/min; governor cap {gov_cap:.0f}/min "
          f"({gov_batches} batches, {gov_requests} requests)")
    per_minute = done / meter.sandbox_minutes if meter.sandbox_minutes else 0.0
    print(f"{noun}_per_sandbox_minute={per_minute:.0f} ceiling={ceiling:.0f} "
          f"fraction_of_ceiling={per_minute / ceiling:.1%}")
    steady = progress.whole_minutes_rate()
    if steady is not None:
        whole, rate = steady
        verdict = "PASS" if rate >= 0.9 * ceiling and meter.throttled == 0 else "FAIL"
        print(f"over_first_{whole}_whole_sandbox_minutes={rate:.0f}/min "
              f"fraction_of_ceiling={rate / ceiling:.1%} "
              f"(target >= 90% and no 429s: {verdict})")


def parse_args(doc: str | None, **sizes: int) -> argparse.Namespace:
    """``--<size> N`` for each of ``sizes`` (name=default), then --scale and --profile; the
    profile folder (``args.profile_dir``, or None) is created."""
    parser = argparse.ArgumentParser(description=(doc or "benchmark").splitlines()[0])
    for name, default in sizes.items():
        parser.add_argument(f"--{name}", type=int, default=default)
    parser.add_argument("--scale", type=float, default=4.0, help="sandbox seconds per second")
    parser.add_argument("--profile", help="folder for cProfile stats of both sides")
    args = parser.parse_args()
    args.profile_dir = Path(args.profile) if args.profile else None
    if args.profile_dir:
        args.profile_dir.mkdir(parents=True, exist_ok=True)
    return args


Push = Callable[..., dict[str, int]]


@dataclass
class Bench:
    """One benchmark's sandbox, portal app and firm connected to ``sbx.REALM_2``, and the push
    under test (``push(firm_id, run, progress=...)``, run as a scheduled SyncRun of ``kind``)."""

    args: argparse.Namespace
    sbx: RemoteSandbox
    app: Any
    firm_id: int
    kind: str
    push: Push

    @property
    def realm(self) -> str:
        return str(self.sbx.REALM_2)

    def run(self, progress: Any = None) -> dict[str, int]:
        """One scheduled push, as the hourly job runs it."""
        from portal.extensions import db
        from portal.models import SyncRun

        run = SyncRun(firm_id=self.firm_id, kind=self.kind, trigger="schedule",
                      status="running", counts={})
        db.session.add(run)
        db.session.commit()
        counts = self.push(self.firm_id, run, progress=progress)
        db.session.commit()
        return counts

    def measure(self) -> tuple[dict[str, int], Meter, Progress]:
        """The measured push (under cProfile with --profile): its counts, Meter and Progress."""
        profile_dir = self.args.profile_dir
        profiler = cProfile.Profile() if profile_dir else None
        progress = Progress(self.args.scale)
        with Meter(self.sbx) as meter:
            if profiler:
                profiler.enable()
            counts = self.run(progress)
            if profiler:
                profiler.disable()
                profiler.dump_stats(str(profile_dir / "portal.prof"))
        return counts, meter, progress

    def report(self, summary: str, meter: Meter, progress: Progress, *, noun: str, unit: str,
               done: int, digits: int = 3, **rates: Any) -> None:
        """The measured push's lines: scale, ``summary``, CPU, ceiling and rates, API calls
        (``api_calls_per_<unit>`` to ``digits`` places; ``rates`` go to ``print_rates``)."""
        print(f"time_scale={self.args.scale:g} (sandbox seconds per real second; sandbox in "
              "its own process)")
        print(summary)
        print(meter.cpu_line())
        print_rates(noun, done, meter, progress, self.app, **rates)
        print(f"api_calls={meter.calls} api_calls_per_{unit}="
              f"{meter.calls / max(done, 1):.{digits}f} 429s={meter.throttled} "
              f"by_endpoint={meter.counters['requests']}")

    def hourly_runs(self, change: Callable[[], None], label: str = "hourly_50_changes") -> None:
        """An hourly run with no changes, then ``change()`` and an hourly run after it."""
        with Meter(self.sbx) as quiet_meter:
            quiet = self.run()
        print(f"hourly_no_changes counts={quiet} api_calls={quiet_meter.calls}")
        change()
        with Meter(self.sbx) as busy_meter:
            busy = self.run()
        print(f"{label} counts={busy} api_calls={busy_meter.calls} "
              f"429s={busy_meter.throttled}")


@contextmanager
def bench(args: argparse.Namespace, kind: str, push: Push) -> Iterator[Bench]:
    """A sandbox process, a portal app on a temporary SQLite file with its tables, and a firm
    connected to ``REALM_2``; runs inside the app context."""
    from portal.extensions import db

    profile_dir = args.profile_dir
    sbx_profile = str(profile_dir / "sandbox.prof") if profile_dir else None
    with tempfile.TemporaryDirectory() as tmp, \
            sandbox_process(args.scale, profile=sbx_profile) as sbx:
        app = portal_app(Path(tmp) / "bench.db", sbx, args.scale)
        with app.app_context():
            db.create_all()
            firm_id = connect_firm(sbx, sbx.REALM_2)
            yield Bench(args, sbx, app, firm_id, kind, push)


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
