"""Benchmark: push 2,000 NEW invoices (1-10 lines each) into a sandbox realm with QBO's real
limits on (500 requests/min, 40 batch calls/min, 30 items per batch, 10 concurrent), in scaled
time.

Prints invoices pushed per sandbox minute, that figure as a fraction of the ceiling the limits
allow (40 batches x 30 items = 1,200 creates/min), API calls per invoice and 429s received;
then an hourly run with nothing new, with the API calls it made.

    python bench/sync_invoices.py [--invoices 2000] [--scale 20]

Needs Redis like the tests (REDIS_URL, or the embedded one). Not part of the test run.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import (  # noqa: E402
    BillableCategory,
    BillableType,
    Client,
    Firm,
    Invoice,
    InvoiceLine,
    SyncRun,
)
from portal.qbo import environments, tokens  # noqa: E402
from portal.qbo.oauth import TokenSet  # noqa: E402
from portal.qbo.sync.invoices import push_invoices  # noqa: E402
from portal.redis_conn import get_redis  # noqa: E402
from qbo_sandbox import service  # noqa: E402
from qbo_sandbox.testing import run_sandbox  # noqa: E402

BATCH_CEILING_PER_MIN = 40 * 30
CUSTOMERS = 200
QTYS = ("0.25", "0.33", "1", "1.5", "2", "7.75")
RATES = ("133.33", "150.00", "95.50", "99.99", "220.00")


def _calls(sbx) -> int:
    return sum(sbx.counters()["requests"].values())


def _run(firm_id: int) -> dict[str, int]:
    run = SyncRun(firm_id=firm_id, kind="invoices", trigger="schedule", status="running",
                  counts={})
    db.session.add(run)
    db.session.commit()
    counts = push_invoices(firm_id, run)
    db.session.commit()
    return counts


def _seed(sbx, realm: str, firm: Firm, invoices: int) -> None:
    """Items and customers straight into the sandbox (no API calls), clients linked to them,
    and the NEW invoices."""
    for name in ("TAX", "TAX-IND"):
        service.write(sbx.sandbox, realm, "Item", {"Name": name, "Type": "Service",
                                                   "IncomeAccountRef": {"value": "1"}}, None)
    tax = BillableType(firm_id=firm.id, name="Tax", code="TAX")
    db.session.add(tax)
    db.session.flush()
    category = BillableCategory(firm_id=firm.id, type_id=tax.id, name="Individual",
                                code="TAX-IND")
    db.session.add(category)
    clients = []
    for n in range(CUSTOMERS):
        customer = service.write(sbx.sandbox, realm, "Customer",
                                 {"DisplayName": f"Bench Customer {n:04d}"}, None)["Customer"]
        client = Client(firm_id=firm.id, kind="business", company_name=customer["DisplayName"],
                        qbo_customer_id=customer["Id"], qbo_sync_token=customer["SyncToken"])
        client.refresh_name()
        client.qbo_pushed_version = client.version or 1
        db.session.add(client)
        clients.append(client)
    db.session.flush()
    rng = random.Random(6)
    for n in range(invoices):
        invoice = Invoice(firm_id=firm.id, client_id=clients[n % CUSTOMERS].id,
                          number=f"B{n:05d}", issue_date=date(2024, 5, 1),
                          due_date=date(2024, 5, 31), status="new")
        for pos in range(rng.randint(1, 10)):
            invoice.lines.append(InvoiceLine(
                position=pos, description=f"Work item {pos}", category_id=category.id,
                quantity=Decimal(rng.choice(QTYS)), rate=Decimal(rng.choice(RATES))))
        invoice.recompute_total()
        db.session.add(invoice)
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=2_000)
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
        realm = sbx.REALM_2
        with app.app_context():
            db.create_all()
            get_redis(app).delete(*[f"qbo:gov:{realm}:{k}" for k in ("req", "inflight", "batch")])
            firm = Firm(name="Bench CPAs")
            db.session.add(firm)
            db.session.commit()
            answer = sbx.mint_tokens(realm)
            tokens.record_connection(firm.id, TokenSet.from_response(answer, realm), realm,
                                     "Sandbox Company_US_2", None)
            db.session.commit()
            _seed(sbx, realm, firm, args.invoices)
            portal_total = sum(db.session.execute(db.select(Invoice.total)).scalars())
            sbx.reset_counters()

            started = time.monotonic()
            counts = _run(firm.id)
            elapsed = time.monotonic() - started
            sandbox_minutes = elapsed * args.scale / 60.0
            pushed = counts.get("pushed", 0)
            per_minute = pushed / sandbox_minutes if sandbox_minutes else 0.0
            calls = _calls(sbx)
            throttled = sbx.counters().get("throttled_total", 0)
            qbo_total = sum(Decimal(str(i["TotalAmt"])) for i in sbx.entities(realm, "Invoice"))
            print(f"invoices={args.invoices} pushed={pushed} counts={counts} "
                  f"real_s={elapsed:.1f} sandbox_min={sandbox_minutes:.2f}")
            print(f"invoices_per_sandbox_minute={per_minute:.0f} "
                  f"ceiling={BATCH_CEILING_PER_MIN} "
                  f"fraction_of_ceiling={per_minute / BATCH_CEILING_PER_MIN:.1%}")
            print(f"api_calls={calls} api_calls_per_invoice={calls / max(pushed, 1):.3f} "
                  f"429s={throttled}")
            print(f"portal_total={portal_total:.2f} qbo_total={qbo_total:.2f} "
                  f"equal={portal_total == qbo_total}")

            sbx.reset_counters()
            quiet = _run(firm.id)
            print(f"hourly_no_changes counts={quiet} api_calls={_calls(sbx)}")


if __name__ == "__main__":
    main()
