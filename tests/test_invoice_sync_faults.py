"""Exactly once (I4) under injected faults: "commit then drop" on create and on batch, a crash
between QBO's answer and our commit, 5xx and 429 bursts. Counted in the sandbox by DocNumber."""

from __future__ import annotations

import pytest

from portal.extensions import db as _db
from portal.models import SyncEvent
from portal.qbo.errors import TransportError
from portal.qbo.sync import invoices as flow
from tests.qbo_support import _connected, _sandbox_server, _sbx  # noqa: F401 - fixtures
from tests.test_invoice_sync import (  # noqa: F401 - fixture _realm
    _realm,
    events_of,
    linked_client,
    make_invoice,
    new_run,
    push,
    qbo_invoices,
    requests,
)


@pytest.mark.parametrize("drop", ["reset", "502"])
def test_commit_then_drop_on_create_yields_one_invoice(sbx, realm, firm, make_client, drop):
    client = linked_client(sbx, realm, firm, make_client)
    invoice = make_invoice(firm, client, "4001")
    sbx.inject_fault("commit_then_drop", count=1, path="/invoice", method="POST", drop=drop)

    assert push(firm) == {"pushed": 1}

    [qbo] = qbo_invoices(sbx, realm, "4001")
    assert invoice.qbo_invoice_id == qbo["Id"] and invoice.status == "processed_externally"
    assert sbx.counters()["entities_created"]["Invoice"] == 1


def test_drops_beyond_the_retries_fail_the_run_then_the_next_run_links(sbx, realm, firm,
                                                                     make_client):
    client = linked_client(sbx, realm, firm, make_client)
    invoice = make_invoice(firm, client, "4002")
    # The first attempt is applied, then every answer is lost until the client gives up.
    sbx.inject_fault("commit_then_drop", count=10, path="/invoice", method="POST")

    with pytest.raises(TransportError):
        push(firm)

    _db.session.expire_all()
    assert invoice.status == "new" and invoice.qbo_invoice_id is None
    [failed] = events_of(invoice)
    assert failed.result == "failed" and "nothing is created twice" in failed.message
    assert len(qbo_invoices(sbx, realm, "4002")) == 1  # QBO did create it
    sbx.clear_faults()
    sbx.reset_counters()

    assert push(firm) == {"linked": 1}

    [qbo] = qbo_invoices(sbx, realm, "4002")
    assert invoice.qbo_invoice_id == qbo["Id"] and invoice.status == "processed_externally"
    assert "POST invoice" not in requests(sbx)
    assert "earlier push whose answer was lost" in events_of(invoice)[-1].message


def test_crash_before_our_commit_never_creates_a_second_invoice(sbx, realm, firm, make_client,
                                                               monkeypatch):
    client = linked_client(sbx, realm, firm, make_client)
    invoice = make_invoice(firm, client, "4003")

    def die(*args, **kwargs):
        raise SystemExit("worker killed between QBO's answer and our commit")

    monkeypatch.setattr(flow, "_accept", die)
    with pytest.raises(SystemExit):
        flow.push_invoices(firm.id, new_run(firm))
    _db.session.rollback()
    monkeypatch.undo()
    _db.session.expire_all()
    assert invoice.status == "new" and len(qbo_invoices(sbx, realm, "4003")) == 1

    assert push(firm) == {"linked": 1}

    assert len(qbo_invoices(sbx, realm, "4003")) == 1
    assert invoice.status == "processed_externally"


def test_commit_then_drop_on_batch_yields_one_invoice_each(sbx, realm, firm, make_client):
    client = linked_client(sbx, realm, firm, make_client)
    invoices = [make_invoice(firm, client, f"41{n:02d}") for n in range(12)]
    sbx.inject_fault("commit_then_drop", count=1, path="/batch", method="POST")

    assert push(firm) == {"pushed": 12}

    for invoice in invoices:
        assert len(qbo_invoices(sbx, realm, invoice.number)) == 1
        assert invoice.status == "processed_externally"
    assert sbx.counters()["entities_created"]["Invoice"] == 12


@pytest.mark.parametrize("kind", ["500", "503", "429"])
def test_server_errors_and_throttles_are_retried_once_each(sbx, realm, firm, make_client, kind):
    client = linked_client(sbx, realm, firm, make_client)
    invoice = make_invoice(firm, client, "4200")
    sbx.inject_fault(kind, count=2, path="/invoice", method="POST")

    assert push(firm) == {"pushed": 1}

    assert len(qbo_invoices(sbx, realm, "4200")) == 1
    assert invoice.status == "processed_externally"
    assert not _db.session.execute(
        _db.select(SyncEvent).where(SyncEvent.result == "failed")).first()
