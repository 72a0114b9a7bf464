"""`python -m portal.demo_runner` (what `make demo` runs): the whole portal on one machine.

It migrates and seeds the SQLite database in var/, starts an embedded Redis when REDIS_URL is
unset, then supervises four children: the local QBO sandbox, the portal (gunicorn, or Flask's
server if gunicorn cannot run), one RQ worker and the scheduler. Every child's output is
prefixed with its name. Ctrl-C (SIGINT) or SIGTERM stops every child it started, then the
embedded Redis; if a child dies on its own, everything is stopped too, so a half-running demo
never lingers.

Children run in their own sessions (process groups): a terminal's Ctrl-C reaches only this
supervisor, which then stops each child in order and waits for it.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PORTAL_PORT = 5000
SANDBOX_PORT = 8765
PORTAL_URL = f"http://{HOST}:{PORTAL_PORT}"
SANDBOX_URL = f"http://{HOST}:{SANDBOX_PORT}"
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - the seeded demo firm's published password
DEMO_LOGINS = (
    ("admin", "admin@demo.example"),
    ("manager", "maria@demo.example"),
    ("staff", "alice@demo.example"),
    ("staff", "bob@demo.example"),
)
STOP_GRACE_SECONDS = 10.0
READY_TIMEOUT_SECONDS = 60.0

_print_lock = threading.Lock()


def say(name: str, line: str) -> None:
    with _print_lock:
        sys.stdout.write(f"{name:>9} | {line}\n")
        sys.stdout.flush()


@dataclass
class Child:
    name: str
    argv: list[str]
    proc: subprocess.Popen
    pump: threading.Thread
    expected_exit: bool = False


@dataclass
class Supervisor:
    env: dict[str, str]
    stop_requested: threading.Event = field(default_factory=threading.Event)
    children: list[Child] = field(default_factory=list)

    def spawn(self, name: str, argv: Sequence[str]) -> Child:
        proc = subprocess.Popen(  # noqa: S603 - fixed argv built by this module
            list(argv),
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            bufsize=1,
            start_new_session=True,
        )
        pump = threading.Thread(target=self._pump, args=(name, proc), daemon=True)
        pump.start()
        child = Child(name, list(argv), proc, pump)
        self.children.append(child)
        return child

    @staticmethod
    def _pump(name: str, proc: subprocess.Popen) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            say(name, line.rstrip("\n"))

    def run_step(self, name: str, argv: Sequence[str]) -> int:
        """Run a setup command to completion (still stoppable with Ctrl-C)."""
        child = self.spawn(name, argv)
        child.expected_exit = True
        while child.proc.poll() is None:
            if self.stop_requested.wait(0.2):
                self.stop(child)
        child.pump.join(timeout=2)
        self.children.remove(child)
        return child.proc.returncode

    def died(self) -> Child | None:
        for child in self.children:
            if not child.expected_exit and child.proc.poll() is not None:
                return child
        return None

    def stop(self, child: Child) -> None:
        """SIGTERM the child's process group, again after a grace period, then SIGKILL.

        A second SIGTERM turns an RQ worker's warm shutdown into a cold one.
        """
        child.expected_exit = True
        for sig, wait in ((signal.SIGTERM, STOP_GRACE_SECONDS), (signal.SIGTERM, 5.0),
                          (signal.SIGKILL, 5.0)):
            if child.proc.poll() is not None:
                break
            try:
                os.killpg(child.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                child.proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                say("demo", f"{child.name} is still running; sending {sig.name} again"
                    if sig != signal.SIGKILL else f"{child.name} killed")
        # Reap anything left in its group (e.g. gunicorn workers) that outlived the leader.
        try:
            os.killpg(child.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        child.pump.join(timeout=2)

    def stop_all(self) -> None:
        for child in reversed(self.children):
            if child.proc.poll() is None:
                say("demo", f"stopping {child.name}")
            self.stop(child)


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return True
    return False


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own URL
            return response.status < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except (urllib.error.URLError, OSError):
        return False


def wait_until(sup: Supervisor, child: Child, url: str) -> bool:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline and not sup.stop_requested.is_set():
        if child.proc.poll() is not None:
            return False
        if answers(url):
            return True
        time.sleep(0.3)
    return False


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PORTAL_ENV="development",
        QBO_ENVIRONMENT="local",
        QBO_LOCAL_URL=SANDBOX_URL,
        FLASK_APP="wsgi",
        PYTHONUNBUFFERED="1",
    )
    env.setdefault("DATABASE_URL", "sqlite:///" + str(ROOT / "var" / "portal.db"))
    return env


def sandbox_available() -> bool:
    try:
        return importlib.util.find_spec("qbo_sandbox.__main__") is not None
    except ImportError:
        return False


def sandbox_login() -> str:
    try:
        from qbo_sandbox.seed import DEMO_USER

        return f"{DEMO_USER['email']} / {DEMO_USER['password']}"
    except Exception:  # noqa: BLE001 - any problem just means "read the README"
        return "see qbo_sandbox/README.md"


def start_portal(sup: Supervisor, python: str) -> Child | None:
    """gunicorn when it runs here; Flask's server otherwise."""
    if importlib.util.find_spec("gunicorn") is not None:
        child = sup.spawn("portal", [python, "-m", "gunicorn", "--no-control-socket", "-w", "2",
                                     "-b", f"{HOST}:{PORTAL_PORT}", "--access-logfile", "-",
                                     "wsgi:app"])
        if wait_until(sup, child, f"{PORTAL_URL}/login"):
            return child
        if sup.stop_requested.is_set():
            return None
        say("demo", "gunicorn did not come up; falling back to the Flask development server")
        sup.stop(child)
        sup.children.remove(child)
    child = sup.spawn("portal", [python, "-m", "flask", "run", "--host", HOST,
                                 "--port", str(PORTAL_PORT), "--no-reload", "--no-debugger"])
    return child if wait_until(sup, child, f"{PORTAL_URL}/login") else None


def banner(redis_note: str, sandbox_up: bool) -> None:
    lines = [
        "",
        "Practice Portal demo is running.",
        f"  Portal        {PORTAL_URL}/",
    ]
    lines += [f"    {role:<8} {email:<22} password {DEMO_PASSWORD}" for role, email in DEMO_LOGINS]
    if sandbox_up:
        lines += [
            f"  QBO sandbox   {SANDBOX_URL}/  (Intuit sign-in: {sandbox_login()})",
            "                connect it from Integrations -> Connect QuickBooks (as the admin)",
        ]
    else:
        lines.append("  QBO sandbox   not running (see the warning above)")
    lines += [f"  Redis         {redis_note}", "  Press Ctrl-C to stop everything.", ""]
    for line in lines:
        say("demo", line)


def main(argv: list[str] | None = None) -> int:
    os.chdir(ROOT)
    (ROOT / "var").mkdir(exist_ok=True)
    sup = Supervisor(child_env())
    python = sys.executable

    def request_stop(signum: int, _frame: object) -> None:
        if not sup.stop_requested.is_set():
            say("demo", f"{signal.Signals(signum).name} received; stopping")
        sup.stop_requested.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    from portal.redis_conn import embedded_redis_url, stop_embedded_redis

    try:
        return _run(sup, python, embedded_redis_url)
    finally:
        sup.stop_all()
        stop_embedded_redis()
        say("demo", "stopped")


def _run(sup: Supervisor, python: str, embedded_redis_url) -> int:
    busy = [port for port in (PORTAL_PORT, SANDBOX_PORT) if port_in_use(port)]
    if busy:
        say("demo", f"port(s) {', '.join(map(str, busy))} on {HOST} are in use; stop whatever "
            "listens there (an earlier demo?) and try again")
        return 1

    for name, args in (("migrate", ["db", "upgrade"]), ("seed", ["seed-demo"])):
        if sup.run_step(name, [python, "-m", "flask", *args]) != 0:
            say("demo", f"`flask {' '.join(args)}` failed; see its output above")
            return 1
        if sup.stop_requested.is_set():
            return 0

    if sup.env.get("REDIS_URL"):
        redis_note = "REDIS_URL from your environment"
    else:
        sup.env["REDIS_URL"] = embedded_redis_url()
        redis_note = f"embedded ({sup.env['REDIS_URL']})"

    sandbox_up = False
    if sandbox_available():
        sandbox = sup.spawn("sandbox", [python, "-m", "qbo_sandbox", "--port", str(SANDBOX_PORT),
                                        "--db", "var/sandbox.db"])
        sandbox_up = wait_until(
            sup, sandbox, f"{SANDBOX_URL}/.well-known/openid_sandbox_configuration")
        if not sandbox_up and not sup.stop_requested.is_set():
            say("demo", "warning: the QBO sandbox did not start; the portal runs without it")
            sup.stop(sandbox)
            sup.children.remove(sandbox)
    else:
        say("demo", "warning: qbo_sandbox is not importable yet; starting without a local QBO")

    if sup.stop_requested.is_set():
        return 0
    if start_portal(sup, python) is None:
        if sup.stop_requested.is_set():
            return 0
        say("demo", "the portal did not start; see its output above")
        return 1
    sup.spawn("worker", [python, "worker.py"])
    sup.spawn("scheduler", [python, "worker.py", "scheduler"])
    banner(redis_note, sandbox_up)

    while not sup.stop_requested.wait(0.5):
        dead = sup.died()
        if dead is not None:
            say("demo", f"{dead.name} exited with code {dead.proc.returncode}; stopping the demo")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
