"""Benchmark: push 20,000 approved time entries of 25 staff into a sandbox realm with QBO's
real limits on, in scaled time; then an hourly run with 0 changes and one with 50 changed
entries.

    python bench/sync_time.py [--entries 20000] [--staff 25] [--scale 4] [--profile DIR]

Setup: the sandbox runs in its OWN process (``python -m qbo_sandbox``, see bench/_common.py)
with the default limits, at ``--scale`` sandbox seconds per real second; the portal's governor
gets the same shrunken minute (QBO_RATE_WINDOW_SECONDS = 60 / scale). Employees and customers
are seeded over the sandbox's API with the limits off, before anything is measured; minutes
are read from the sandbox's clock and 429s from its counters.

The ceiling. QBO allows per realm and sandbox minute: 500 requests, 40 batch calls, 10 in
flight, 30 items per batch. Every TimeActivity write is a batch item, so writes are bounded by
40 x 30 = 1,200 per minute. The run's other requests (the Employee list and the Item query,
once per run; no per-chunk lookup for first creates) are spread over its batch calls, so the
500 requests bound writes at 500 / (other + 1) x 30 per minute, far above 1,200 here: the
batch limit binds. The effective ceiling printed is the smaller bound computed from the calls
actually made; the governor's own cap (38 batches, 95%) is printed beside it.
``over_first_<k>_whole_sandbox_minutes`` is the sustained pace (see ``_common.Progress`` for
why a last partial minute can read above 100%), the figure the target (>= 90% of the effective
ceiling, no 429s) is judged on.

Measured on a 2-core machine at scale 4: 1,140 entries per sandbox minute sustained over 17
whole minutes (95.0% of 1,200: the governor's cap), 0.0334 calls per entry, 0 429s, portal at
14% of a core. Before portal/qbo/sync/time.py kept ids between chunks, the 20,000 loaded
entries were expired by every commit and the portal used 84% of a core for the same pace, so
a busier machine or a larger firm fell behind the limits.

Needs Redis like the tests (REDIS_URL, or the embedded one). Not part of the test run.
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RemoteSandbox, bench, parse_args, seed_entities  # noqa: E402

CLIENTS = 50


def _seed(sbx: RemoteSandbox, realm: str, firm_id: int, staff: int, entries: int) -> None:
    """Employees named like the portal's staff, customers for the clients, approved time."""
    from portal.extensions import db
    from portal.models import Client, TimeEntry, User

    seed_entities(sbx, realm, "Employee", [
        {"GivenName": "Staff", "FamilyName": f"Member{n:02d}",
         "PrimaryEmailAddr": {"Address": f"staff{n}@bench.example"}} for n in range(staff)])
    customers = seed_entities(sbx, realm, "Customer", [
        {"DisplayName": f"Client {n:03d}"} for n in range(CLIENTS)])
    users = [User(firm_id=firm_id, name=f"Staff Member{n:02d}",
                  email=f"staff{n}@bench.example", password_hash="!",  # noqa: S106 - no sign-in
                  role="staff", hourly_rate=Decimal("120")) for n in range(staff)]
    clients = [Client(firm_id=firm_id, kind="business", company_name=c["DisplayName"],
                      qbo_customer_id=c["Id"], qbo_sync_token=c["SyncToken"],
                      qbo_pushed_version=1)
               for c in customers]
    for client in clients:
        client.refresh_name()
    db.session.add_all(users + clients)
    db.session.commit()
    start = date(2024, 1, 1)
    db.session.add_all([
        TimeEntry(firm_id=firm_id, user_id=users[n % staff].id,
                  client_id=clients[n % CLIENTS].id,
                  entry_date=start + timedelta(days=n % 250),
                  hours=Decimal("1.5"), description=f"Work item {n}", billable=True,
                  status="approved")
        for n in range(entries)])
    db.session.commit()


def main() -> None:
    args = parse_args(__doc__, entries=20_000, staff=25)

    from portal.extensions import db
    from portal.models import TimeEntry
    from portal.qbo.sync.time import push_time

    with bench(args, "time", push_time) as b:
        _seed(b.sbx, b.realm, b.firm_id, args.staff, args.entries)
        db.session.expunge_all()

        counts, meter, progress = b.measure()
        pushed = counts.get("pushed", 0)
        b.report(f"entries={args.entries} staff={args.staff} pushed={pushed} counts={counts}",
                 meter, progress, noun="entries", unit="entry", done=pushed, digits=4)

        def change() -> None:
            changed = db.session.execute(
                db.select(TimeEntry).where(TimeEntry.firm_id == b.firm_id).limit(50)).scalars()
            for entry in changed:
                entry.hours = Decimal("2.25")
                entry.version += 1
            db.session.commit()

        b.hourly_runs(change)


if __name__ == "__main__":
    main()
