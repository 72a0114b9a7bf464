"""Benchmark: push 10,000 new clients into an empty sandbox realm with QBO's real limits on
(500 requests/min, 40 batch calls/min, 30 items per batch, 10 concurrent), in scaled time.

Prints clients created per sandbox minute, that figure as a fraction of the ceiling the limits
allow (40 batches x 30 items = 1,200 creates/min), API calls per client and 429s received;
then an hourly run with 0 changes and one with 50 changes, with the API calls each made.

    python bench/sync_clients.py [--clients 10000] [--scale 20]

Needs Redis like the tests (REDIS_URL, or the embedded one). Not part of the test run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Client, Firm, SyncRun  # noqa: E402
from portal.qbo import environments, tokens  # noqa: E402
from portal.qbo.oauth import TokenSet  # noqa: E402
from portal.qbo.sync.customers import push_clients  # noqa: E402
from portal.redis_conn import get_redis  # noqa: E402
from qbo_sandbox.testing import run_sandbox  # noqa: E402

BATCH_CEILING_PER_MIN = 40 * 30


def _calls(sbx) -> int:
    return sum(sbx.counters()["requests"].values())


def _run(firm_id: int) -> dict[str, int]:
    run = SyncRun(firm_id=firm_id, kind="clients", trigger="schedule", status="running",
                  counts={})
    db.session.add(run)
    db.session.commit()
    counts = push_clients(firm_id, run)
    db.session.commit()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--scale", type=float, default=20.0, help="sandbox seconds per second")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, run_sandbox({"time_scale": args.scale}) as sbx:
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
            get_redis(app).delete(*[f"qbo:gov:{sbx.REALM_2}:{k}"
                                    for k in ("req", "inflight", "batch")])
            firm = Firm(name="Bench CPAs")
            db.session.add(firm)
            db.session.commit()
            answer = sbx.mint_tokens(sbx.REALM_2)
            tokens.record_connection(firm.id, TokenSet.from_response(answer, sbx.REALM_2),
                                     sbx.REALM_2, "Sandbox Company_US_2", None)
            db.session.commit()
            for n in range(args.clients):
                kind = ("individual", "joint", "business")[n % 3]
                client = Client(firm_id=firm.id, kind=kind, first_name=f"First{n}",
                                last_name=f"Last{n:05d}", spouse_first_name=f"Spouse{n}",
                                company_name=f"Company {n:05d} LLC")
                client.refresh_name()
                db.session.add(client)
            db.session.commit()
            sbx.reset_counters()

            started = time.monotonic()
            counts = _run(firm.id)
            elapsed = time.monotonic() - started
            sandbox_minutes = elapsed * args.scale / 60.0
            created = counts.get("created", 0)
            per_minute = created / sandbox_minutes if sandbox_minutes else 0.0
            calls = _calls(sbx)
            throttled = sbx.counters().get("throttled_total", 0)
            print(f"clients={args.clients} created={created} real_s={elapsed:.1f} "
                  f"sandbox_min={sandbox_minutes:.2f}")
            print(f"created_per_sandbox_minute={per_minute:.0f} "
                  f"ceiling={BATCH_CEILING_PER_MIN} "
                  f"fraction_of_ceiling={per_minute / BATCH_CEILING_PER_MIN:.1%}")
            print(f"api_calls={calls} api_calls_per_client={calls / max(created, 1):.3f} "
                  f"429s={throttled}")

            sbx.reset_counters()
            quiet = _run(firm.id)
            print(f"hourly_no_changes counts={quiet} api_calls={_calls(sbx)}")

            changed = db.session.execute(
                db.select(Client).where(Client.firm_id == firm.id).limit(50)).scalars()
            for client in changed:
                client.email = f"c{client.id}@bench.example"
                client.touch()
            db.session.commit()
            sbx.reset_counters()
            busy = _run(firm.id)
            print(f"hourly_50_changes counts={busy} api_calls={_calls(sbx)}")


if __name__ == "__main__":
    main()
