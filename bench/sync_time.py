"""Benchmark: push 20,000 approved time entries of 25 staff into a sandbox realm with QBO's
real limits on (500 requests/min, 40 batch calls/min, 30 items per batch, 10 concurrent), in
scaled time.

Prints entries pushed per sandbox minute, that figure as a fraction of the ceiling the limits
allow (40 batches x 30 items = 1,200 writes/min), API calls per entry and 429s received; then
an hourly run with 0 changes and one with 50 changed entries, with the API calls each made.

    python bench/sync_time.py [--entries 20000] [--staff 25] [--scale 20]

Needs Redis like the tests (REDIS_URL, or the embedded one). Not part of the test run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Client, Firm, SyncRun, TimeEntry, User  # noqa: E402
from portal.qbo import environments, tokens  # noqa: E402
from portal.qbo.oauth import TokenSet  # noqa: E402
from portal.qbo.sync.time import push_time  # noqa: E402
from portal.redis_conn import get_redis  # noqa: E402
from qbo_sandbox import service as sandbox_service  # noqa: E402
from qbo_sandbox.testing import run_sandbox  # noqa: E402

BATCH_CEILING_PER_MIN = 40 * 30
CLIENTS = 50


def _calls(sbx) -> int:
    return sum(sbx.counters()["requests"].values())


def _run(firm_id: int) -> dict[str, int]:
    run = SyncRun(firm_id=firm_id, kind="time", trigger="schedule", status="running", counts={})
    db.session.add(run)
    db.session.commit()
    counts = push_time(firm_id, run)
    db.session.commit()
    return counts


def _seed_qbo(sbx, realm: str, staff: int) -> list[str]:
    """Employees named like the portal's staff, and customers for the clients (not counted)."""
    for n in range(staff):
        sandbox_service.write(sbx.sandbox, realm, "Employee", {
            "GivenName": "Staff", "FamilyName": f"Member{n:02d}",
            "PrimaryEmailAddr": {"Address": f"staff{n}@bench.example"}}, None)
    return [sandbox_service.write(sbx.sandbox, realm, "Customer",
                                  {"DisplayName": f"Client {n:03d}"}, None)["Customer"]["Id"]
            for n in range(CLIENTS)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--staff", type=int, default=25)
    parser.add_argument("--scale", type=float, default=20.0, help="sandbox seconds per second")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, run_sandbox({"time_scale": args.scale}) as sbx:
        realm = sbx.REALM_2
        app = create_app({
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'bench.db'}",
            "QBO_ENVIRONMENT": "local", "QBO_LOCAL_URL": sbx.base_url,
            "QBO_CLIENT_ID": sbx.CLIENT_ID, "QBO_CLIENT_SECRET": sbx.CLIENT_SECRET,
            "QBO_RATE_WINDOW_SECONDS": 60.0 / args.scale,
            "QBO_THROTTLE_WAIT_SECONDS": 60.0 / args.scale,
        })
        environments.clear_cache()
        with app.app_context():
            db.create_all()
            get_redis(app).delete(*[f"qbo:gov:{realm}:{k}" for k in ("req", "inflight", "batch")])
            firm = Firm(name="Bench CPAs")
            db.session.add(firm)
            db.session.commit()
            answer = sbx.mint_tokens(realm)
            tokens.record_connection(firm.id, TokenSet.from_response(answer, realm), realm,
                                     "Sandbox Company_US_2", None)
            customer_ids = _seed_qbo(sbx, realm, args.staff)
            users = [User(firm_id=firm.id, name=f"Staff Member{n:02d}",
                          email=f"staff{n}@bench.example", password_hash="!",  # noqa: S106 - cannot sign in
                          role="staff",
                          hourly_rate=Decimal("120")) for n in range(args.staff)]
            clients = [Client(firm_id=firm.id, kind="business", company_name=f"Client {n:03d}",
                              qbo_customer_id=cid, qbo_sync_token="0",  # noqa: S106
                              qbo_pushed_version=1)
                       for n, cid in enumerate(customer_ids)]
            for client in clients:
                client.refresh_name()
            db.session.add_all(users + clients)
            db.session.commit()
            start = date(2024, 1, 1)
            db.session.add_all([
                TimeEntry(firm_id=firm.id, user_id=users[n % args.staff].id,
                          client_id=clients[n % CLIENTS].id,
                          entry_date=start + timedelta(days=n % 250),
                          hours=Decimal("1.5"), description=f"Work item {n}", billable=True,
                          status="approved")
                for n in range(args.entries)])
            db.session.commit()
            sbx.reset_counters()

            started = time.monotonic()
            counts = _run(firm.id)
            elapsed = time.monotonic() - started
            sandbox_minutes = elapsed * args.scale / 60.0
            pushed = counts.get("pushed", 0)
            per_minute = pushed / sandbox_minutes if sandbox_minutes else 0.0
            calls = _calls(sbx)
            throttled = sbx.counters().get("throttled_total", 0)
            print(f"entries={args.entries} staff={args.staff} pushed={pushed} "
                  f"real_s={elapsed:.1f} sandbox_min={sandbox_minutes:.2f} counts={counts}")
            print(f"entries_per_sandbox_minute={per_minute:.0f} "
                  f"ceiling={BATCH_CEILING_PER_MIN} "
                  f"fraction_of_ceiling={per_minute / BATCH_CEILING_PER_MIN:.1%}")
            print(f"api_calls={calls} api_calls_per_entry={calls / max(pushed, 1):.4f} "
                  f"429s={throttled}")

            sbx.reset_counters()
            quiet = _run(firm.id)
            print(f"hourly_no_changes counts={quiet} api_calls={_calls(sbx)}")

            changed = db.session.execute(
                db.select(TimeEntry).where(TimeEntry.firm_id == firm.id).limit(50)).scalars()
            for entry in changed:
                entry.hours = Decimal("2.25")
                entry.version += 1
            db.session.commit()
            sbx.reset_counters()
            busy = _run(firm.id)
            print(f"hourly_50_changes counts={busy} api_calls={_calls(sbx)}")


if __name__ == "__main__":
    main()
