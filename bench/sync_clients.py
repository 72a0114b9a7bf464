"""Benchmark: push 10,000 new clients into an empty sandbox realm with QBO's real limits on,
in scaled time; then an hourly run with no changes and one with 50 changes.

    python bench/sync_clients.py [--clients 10000] [--scale 4] [--profile DIR]

Setup: the sandbox runs in its OWN process (``python -m qbo_sandbox``, see bench/_common.py)
with ``limits.enabled`` and the default limits, at ``--scale`` sandbox seconds per real second;
the portal's governor gets the same shrunken minute (QBO_RATE_WINDOW_SECONDS = 60 / scale).
Rates are per sandbox minute, read from the sandbox's clock.

The ceiling. QBO allows per realm and sandbox minute: 500 requests, 40 batch calls, 10 in
flight, 30 items per batch. Every create needs a batch item, so creates are bounded by
40 x 30 = 1,200 per minute. Every chunk of 30 also spends L lookup queries (the duplicate
check's ``IN (...)`` queries) plus its batch call, so the 500 requests bound creates at
500 / (L + 1) x 30 per minute; with L = 4 that is 3,000. The effective ceiling is the smaller
of the two, computed here from the calls actually made: 1,200 unless lookups grow past
~11 queries per chunk. The 10-in-flight limit binds only if a request took longer than
10 / 540 of a minute (~1.1 sandbox seconds); they take milliseconds. The portal's governor
keeps a safety margin (38 batch calls and 480 requests per minute by default), so its own
cap, 1,140 creates per minute (95%), is printed too: "fraction_of_ceiling" is against
QBO's 1,200, not against the governor.

Two rates are printed. ``created_per_sandbox_minute`` is created / elapsed, as the issue
asks. Because the limits are sliding windows, a limit-bound sync moves in bursts (38 batch
calls, then a wait for the oldest to leave the window); a run that ends right after a burst
has a last partial minute holding a whole minute's work, so that figure can read above 100%.
``over_first_<k>_whole_sandbox_minutes`` counts only what finished within whole minutes from
the start: that is the sustained pace, and the figure the target (>= 90%) is judged on.

Choosing the scale: at scale s one sandbox minute is 60/s real seconds, and the sync must
finish a chunk (lookups, batch, 30 SyncEvents, commit) within 60 / 38 / s real seconds to keep
up with the batch limit. The CPU line shows each side's use of one core; if either is near
100% the machine, not the limits, is the bottleneck: lower --scale. On a 2-core machine a
chunk takes ~0.12 real seconds of work against a budget of 0.39 s at the default scale 4
(both sides then use ~5% of a core); 10,000 clients take about 2 real minutes. Scales 6 and
10 (0.26 s and 0.16 s budgets) also reached the governor's cap on that machine, with each side
under 20% of a core; a busier machine needs the lower default.

Needs Redis like the tests (REDIS_URL, or the embedded one). Not part of the test run.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    BATCH_ITEMS,
    BATCH_PER_MIN,
    PER_REALM_PER_MIN,
    Meter,
    bench,
    parse_args,
)


def _add_clients(firm_id: int, n: int) -> None:
    from portal.extensions import db
    from portal.models import Client

    for i in range(n):
        kind = ("individual", "joint", "business")[i % 3]
        client = Client(firm_id=firm_id, kind=kind, first_name=f"First{i}",
                        last_name=f"Last{i:05d}", spouse_first_name=f"Spouse{i}",
                        company_name=f"Company {i:05d} LLC")
        client.refresh_name()
        db.session.add(client)
    db.session.commit()


def _ceiling(meter: Meter) -> tuple[float, float]:
    """(effective ceiling in creates per minute, lookup queries per chunk)."""
    batches = meter.count("POST batch")
    lookups = meter.count("GET query") + meter.count("POST query")
    per_chunk = lookups / batches if batches else 0.0
    by_requests = PER_REALM_PER_MIN / (per_chunk + 1) * BATCH_ITEMS
    return min(BATCH_PER_MIN * BATCH_ITEMS, by_requests), per_chunk


def main() -> None:
    args = parse_args(__doc__, clients=10_000)

    from portal.extensions import db
    from portal.models import Client
    from portal.qbo.sync.customers import push_clients

    with bench(args, "clients", push_clients) as b:
        _add_clients(b.firm_id, args.clients)

        counts, meter, progress = b.measure()
        created = counts.get("created", 0)
        b.report(f"clients={args.clients} pushed={sum(counts.values())} created={created} "
                 f"counts={counts}", meter, progress, noun="created", unit="client",
                 done=created, ceiling=_ceiling(meter), other="lookups", per="chunk")

        def change() -> None:
            changed = db.session.execute(
                db.select(Client).where(Client.firm_id == b.firm_id).limit(50)).scalars()
            for client in changed:
                client.email = f"c{client.id}@bench.example"
                client.touch()
            db.session.commit()

        b.hourly_runs(change)


if __name__ == "__main__":
    main()
