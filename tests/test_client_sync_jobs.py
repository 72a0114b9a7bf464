"""Client sync through real RQ (SimpleWorker, burst) and the buttons: Import Clients with a
progress bar fed by the status endpoint while the job runs, Sync Clients coalescing clicks,
per-client Sync, the hourly job, and an hourly run overlapping a button run.

Jobs open their own DB session (portal.jobs.job_context), so this module uses a database file
(or DATABASE_URL) from tests/rq_support.py, as tests/test_jobs.py does.
"""

from __future__ import annotations

import threading

from portal.jobs import client_jobs, set_job_app
from portal.jobs.firm_sync import SKIPPED_BUSY, run_firm_sync
from portal.jobs.queue import enqueue_firm_sync, get_queue
from portal.models import Client, SyncRun
from tests.conftest import user_of
from tests.qbo_support import _sandbox_server, _sbx, connect_firm  # noqa: F401 - fixtures
from tests.rq_support import _closing_redis, _file_app, work  # noqa: F401 - fixtures
from tests.test_client_sync import _realm, customers_named, requests, seed  # noqa: F401

BASE = "/integrations/quickbooks/clients"


def runs(db, firm, kind: str | None = None) -> list[SyncRun]:
    db.session.expire_all()
    stmt = db.select(SyncRun).where(SyncRun.firm_id == firm.id).order_by(SyncRun.id)
    if kind:
        stmt = stmt.where(SyncRun.kind == kind)
    return list(db.session.execute(stmt).scalars())


def test_import_runs_in_rq_and_the_status_endpoint_shows_progress(
        app, db, redis, sbx, realm, firm, admin, browser, monkeypatch):
    for n in range(25):
        seed(sbx, realm, "Customer", {"DisplayName": f"Paged Customer {n:02d}"})
    app.config["QBO_IMPORT_PAGE_SIZE"] = 10
    browser.login(admin)
    seen: list[dict] = []

    def watch(run_id, done, total):  # called by the job after each committed page
        seen.append(browser.get(f"{BASE}/runs/{run_id}").get_json())

    monkeypatch.setattr(client_jobs, "progress_hook", watch)

    response = browser.post(f"{BASE}/import", follow_redirects=True)
    assert "Import queued" in response.get_data(as_text=True)
    [queued] = runs(db, firm, "import")
    assert queued.status == "queued"
    assert browser.get(f"{BASE}/runs/{queued.id}").get_json()["label"] == "Import queued…"

    work(app, redis)

    assert [(s["status"], s["progress_done"], s["progress_total"]) for s in seen] == [
        ("running", 0, 25), ("running", 10, 25), ("running", 20, 25), ("running", 25, 25)]
    assert seen[1]["percent"] == 40 and seen[1]["label"] == "Import running: 10 of 25"
    [done] = runs(db, firm, "import")
    assert done.status == "succeeded" and done.counts == {"imported": 25}
    final = browser.get(f"{BASE}/runs/{done.id}").get_json()
    assert final["finished"] and final["percent"] == 100
    assert final["label"] == "Import done: 25 imported, 0 already linked, 0 sent to review."
    page = browser.get("/integrations/").get_data(as_text=True)
    assert "Import done: 25 imported" in page and 'value="100"' in page
    assert "js/sync_progress.js" in page


def test_sync_button_coalesces_clicks_into_one_push(app, db, redis, sbx, realm, firm, admin,
                                                    browser, make_client):
    clients = [make_client(firm, first_name="Click", last_name=f"N{n}") for n in range(3)]
    browser.login(admin)
    first = browser.post(f"{BASE}/sync", follow_redirects=True).get_data(as_text=True)
    second = browser.post(f"{BASE}/sync", follow_redirects=True).get_data(as_text=True)
    browser.post(f"{BASE}/sync")
    assert "Sync queued" in first and "already queued" in second
    assert len(runs(db, firm, "clients")) == 1
    assert len(get_queue(app).job_ids) == 1

    work(app, redis)

    [run] = runs(db, firm, "clients")
    assert run.status == "succeeded" and run.counts == {"created": 3}
    assert (run.progress_done, run.progress_total) == (3, 3)
    db.session.expire_all()
    assert all(c.is_linked for c in clients)
    page = browser.get("/integrations/").get_data(as_text=True)
    assert "Client sync done: 3 created." in page


def test_client_sync_button_pushes_only_that_client(app, db, redis, sbx, realm, firm, admin,
                                                    browser, make_client):
    one, other = (make_client(firm, first_name="Solo", last_name=n) for n in ("One", "Two"))
    browser.login(admin)
    page = browser.post(f"/clients/{one.id}/sync", follow_redirects=True).get_data(as_text=True)
    assert "Sync queued for Solo One" in page
    assert "Sync queued." in page  # the Main tab shows the queued run
    [run] = runs(db, firm, "clients")
    assert run.trigger == "client" and f"-c{one.id}-" in run.job_id

    work(app, redis)

    db.session.expire_all()
    assert one.is_linked and not other.is_linked
    assert customers_named(sbx, realm, "Solo Two") == []
    detail = browser.get(f"/clients/{one.id}").get_data(as_text=True)
    assert f'title="QuickBooks customer Id: {one.qbo_customer_id}"' in detail
    assert "Last sync: created (ok)" in detail
    listing = browser.get("/clients/").get_data(as_text=True)
    assert listing.count(">Pending<") == 1  # Solo Two


def test_hourly_job_pushes_clients_and_a_quiet_hour_costs_nothing(app, db, redis, sbx, realm,
                                                                  firm, make_client):
    make_client(firm, first_name="Hourly", last_name="Client")
    enqueue_firm_sync(firm.id, "schedule")
    work(app, redis)
    [run] = runs(db, firm, "firm_sync")
    assert run.status == "succeeded" and run.counts["clients"] == {"created": 1}

    sbx.reset_counters()
    enqueue_firm_sync(firm.id, "schedule")
    work(app, redis)
    assert runs(db, firm, "firm_sync")[-1].counts["clients"] == {}
    assert sum(requests(sbx).values()) == 0


def test_hourly_run_and_button_clicks_at_once_push_once(app, db, redis, sbx, realm, firm, admin,
                                                        browser, make_client, monkeypatch):
    """Three clicks coalesce into one queued push; it overlaps the hourly run, which finds the
    firm locked and is skipped with the reason logged. Every client reaches QBO once."""
    clients = [make_client(firm, first_name="Overlap", last_name=f"N{n}") for n in range(4)]
    browser.login(admin)
    for _ in range(3):
        browser.post(f"{BASE}/sync")
    [button] = runs(db, firm, "clients")
    hourly = enqueue_firm_sync(firm.id, "schedule")
    firm_id, button_id, hourly_id = firm.id, button.id, hourly.id
    started, release = threading.Event(), threading.Event()

    def hold_open(run_id, done, total):
        if done == 0:
            started.set()
            release.wait(10)

    monkeypatch.setattr(client_jobs, "progress_hook", hold_open)
    set_job_app(app)
    errors: list[BaseException] = []

    def button_job():
        try:
            client_jobs.push_clients(firm_id, button_id)
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    try:
        thread = threading.Thread(target=button_job)
        thread.start()
        assert started.wait(10), errors
        assert run_firm_sync(firm_id, hourly_id, "schedule") == "skipped"
        release.set()
        thread.join(20)
    finally:
        release.set()
        set_job_app(None)
    assert not errors
    by_id = {r.id: r for r in runs(db, firm)}
    assert by_id[button.id].status == "succeeded"
    assert by_id[button.id].counts == {"created": 4}
    assert (by_id[hourly.id].status, by_id[hourly.id].message) == ("skipped", SKIPPED_BUSY)
    for client in clients:
        assert len(customers_named(sbx, realm, client.display_name)) == 1
    page = browser.get("/integrations/").get_data(as_text=True)
    assert SKIPPED_BUSY in page


def test_buttons_and_status_are_admin_only_and_firm_scoped(app, db, redis, sbx, realm, firm,
                                                           make_firm, browser):
    browser.login(user_of(firm, "manager"))
    assert browser.post(f"{BASE}/sync").status_code == 403
    assert browser.post(f"{BASE}/import").status_code == 403
    browser.logout()
    browser.login(user_of(firm, "admin"))
    browser.post(f"{BASE}/sync")
    [run] = runs(db, firm, "clients")
    assert browser.get(f"{BASE}/runs/{run.id}").status_code == 200
    assert browser.post(f"{BASE}/sync", csrf=False).status_code == 400
    browser.logout()
    other = make_firm("Elsewhere CPAs")
    browser.login(user_of(other, "admin"))
    assert browser.get(f"{BASE}/runs/{run.id}").status_code == 404
    page = browser.post(f"{BASE}/import", follow_redirects=True).get_data(as_text=True)
    assert "QuickBooks is not connected" in page
    assert runs(db, other) == []
    assert "Import Clients" not in browser.get("/integrations/").get_data(as_text=True)


def test_a_failing_job_marks_the_run_failed_and_raises(app, db, redis, sbx, realm, firm,
                                                       make_client):
    make_client(firm, first_name="Fail", last_name="Run")
    run, _ = client_jobs.enqueue_push(firm.id)
    app.config["QBO_MAX_ATTEMPTS"] = 1
    sbx.inject_fault("503", count=5, path="/v3/company/")
    work(app, redis)
    [failed] = runs(db, firm, "clients")
    assert failed.status == "failed" and "ServerError" in failed.message
    job = get_queue(app).fetch_job(run.job_id)
    assert job.is_failed
    assert db.session.execute(db.select(Client)).scalar_one().is_linked is False
