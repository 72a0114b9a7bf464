"""The client's page (Main, Invoices, Time), deactivate/reactivate/delete, the Sync button,
firm isolation and CSRF on every client POST."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portal.models import BillableCategory, Client, Invoice, QboConnection, TimeEntry
from tests.conftest import user_of

NOT_CONNECTED = "QuickBooks is not connected. Connect it on the Integrations page."


def _invoice(db, client, number="INV-1001", status="new", total="250.00") -> Invoice:
    invoice = Invoice(firm_id=client.firm_id, client_id=client.id, number=number,
                      issue_date=date(2026, 3, 14), status=status, total=Decimal(total))
    db.session.add(invoice)
    db.session.commit()
    return invoice


def _time_entry(db, client, user, hours="1.50", status="submitted") -> TimeEntry:
    category = db.session.execute(
        db.select(BillableCategory).where(BillableCategory.firm_id == client.firm_id)
    ).scalars().first()
    entry = TimeEntry(firm_id=client.firm_id, user_id=user.id, client_id=client.id,
                      entry_date=date(2026, 3, 10), hours=Decimal(hours),
                      category_id=category.id, status=status, description="Return prep")
    db.session.add(entry)
    db.session.commit()
    return entry


def _reload(db, client) -> Client | None:
    db.session.expire_all()
    return db.session.get(Client, client.id)


# --- Main tab ---------------------------------------------------------------------------------


def test_main_tab_shows_details_and_unlinked_qb_slot(browser, staff, firm, make_client):
    client = make_client(firm, kind="joint", first_name="John", last_name="Smith",
                         spouse_first_name="Mary", email="js@smith.example", phone="555-0101",
                         address_line1="9 Elm St", city="Austin", state="TX", postal_code="73301")
    browser.login(staff)
    page = browser.get(f"/clients/{client.id}").get_data(as_text=True)
    assert '<dl class="details">' in page
    assert "John &amp; Mary Smith" in page and "Joint (married couple)" in page
    assert "js@smith.example" in page and "Austin TX 73301" in page
    assert 'class="qb-slot"' in page and "Not yet in QuickBooks" in page
    assert f'href="/clients/{client.id}/edit"' in page
    assert "qb-logo.svg" not in page


def test_main_tab_shows_qb_logo_with_customer_id_when_linked(browser, staff, firm, make_client):
    client = make_client(firm, first_name="Lin", last_name="Ked", qbo_customer_id="431")
    browser.login(staff)
    page = browser.get(f"/clients/{client.id}").get_data(as_text=True)
    assert "Linked to QuickBooks" in page and "Not yet in QuickBooks" not in page
    assert 'src="/static/img/qb-logo.svg"' in page
    assert 'title="QuickBooks customer Id: 431"' in page
    assert 'alt="QuickBooks logo"' in page


# --- Invoices and Time tabs -------------------------------------------------------------------


def test_invoices_tab_lists_only_this_clients_invoices(browser, db, staff, firm, make_client):
    client = make_client(firm, first_name="Ann", last_name="Lee")
    other = make_client(firm, first_name="Bob", last_name="Ray")
    invoice = _invoice(db, client, status="processed_externally", total="1234.50")
    _invoice(db, other, number="INV-2002")
    browser.login(staff)
    page = browser.get(f"/clients/{client.id}/invoices").get_data(as_text=True)
    assert f'href="/invoices/{invoice.id}"' in page and "INV-1001" in page
    assert "Processed Externally" in page and "1,234.50" in page and "Mar 14, 2026" in page
    assert "INV-2002" not in page
    empty = browser.get(f"/clients/{other.id}/time").get_data(as_text=True)
    assert "No time recorded" in empty


def test_time_tab_lists_entries_with_staff_hours_category_status(
    browser, db, staff, manager, firm, make_client
):
    client = make_client(firm, first_name="Ann", last_name="Lee")
    _time_entry(db, client, staff, hours="1.50", status="approved")
    _time_entry(db, client, manager, hours="2.25", status="draft")
    browser.login(staff)
    page = browser.get(f"/clients/{client.id}/time").get_data(as_text=True)
    assert staff.name in page and manager.name in page
    assert "1.50" in page and "2.25" in page and "3.75" in page
    assert "Individual tax return" in page and "Approved" in page and "Draft" in page
    assert "Mar 10, 2026" in page


# --- deactivate / reactivate / delete ---------------------------------------------------------


def test_deactivate_and_reactivate(browser, db, staff, firm, make_client):
    client = make_client(firm, first_name="Ann", last_name="Lee")
    browser.login(staff)
    page = browser.get(f"/clients/{client.id}").get_data(as_text=True)
    assert "data-confirm=" in page
    response = browser.post(f"/clients/{client.id}/deactivate")
    assert response.status_code == 302
    client = _reload(db, client)
    assert client.active is False and client.version == 2
    assert "now inactive" in browser.get(f"/clients/{client.id}").get_data(as_text=True)
    assert "Ann Lee" not in browser.get("/clients/").get_data(as_text=True)

    browser.post(f"/clients/{client.id}/reactivate")
    client = _reload(db, client)
    assert client.active is True and client.version == 3


def test_deactivate_is_not_a_get(browser, db, staff, firm, make_client):
    client = make_client(firm, first_name="Ann", last_name="Lee")
    browser.login(staff)
    assert browser.get(f"/clients/{client.id}/deactivate").status_code == 405
    assert _reload(db, client).active is True


def test_client_without_invoices_or_time_can_be_deleted(browser, db, staff, firm, make_client):
    client = make_client(firm, first_name="Ann", last_name="Lee")
    browser.login(staff)
    assert "Delete" in browser.get(f"/clients/{client.id}").get_data(as_text=True)
    client_id = client.id
    response = browser.post(f"/clients/{client_id}/delete")
    assert response.status_code == 302 and response.headers["Location"].endswith("/clients/")
    assert "deleted" in browser.get("/clients/").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Client, client_id) is None
    assert browser.get(f"/clients/{client_id}").status_code == 404


@pytest.mark.parametrize("history", ["invoice", "time"])
def test_client_with_invoices_or_time_cannot_be_deleted(
    browser, db, staff, firm, make_client, history
):
    client = make_client(firm, first_name="Ann", last_name="Lee")
    if history == "invoice":
        _invoice(db, client, status="draft")
    else:
        _time_entry(db, client, staff)
    browser.login(staff)
    page = browser.get(f"/clients/{client.id}").get_data(as_text=True)
    assert f"/clients/{client.id}/delete" not in page
    response = browser.post(f"/clients/{client.id}/delete")
    assert response.status_code == 302
    assert _reload(db, client) is not None
    assert "cannot be deleted" in browser.get(f"/clients/{client.id}").get_data(as_text=True)


# --- Sync button (admins only) ----------------------------------------------------------------


@pytest.mark.parametrize("role", ["manager", "staff"])
def test_only_admins_see_and_post_sync(browser, firm, make_client, role):
    client = make_client(firm, first_name="Ann", last_name="Lee")
    browser.login(user_of(firm, role))
    page = browser.get(f"/clients/{client.id}").get_data(as_text=True)
    assert f"/clients/{client.id}/sync" not in page
    assert browser.post(f"/clients/{client.id}/sync").status_code == 403


def test_admin_sync_without_connection_says_connect_first(browser, admin, firm, make_client):
    client = make_client(firm, first_name="Ann", last_name="Lee")
    browser.login(admin)
    page = browser.get(f"/clients/{client.id}").get_data(as_text=True)
    assert f'action="/clients/{client.id}/sync"' in page
    response = browser.post(f"/clients/{client.id}/sync")
    assert response.status_code == 302
    assert NOT_CONNECTED in browser.get(f"/clients/{client.id}").get_data(as_text=True)


def test_admin_sync_with_connection_does_not_claim_it_is_disconnected(
    browser, db, admin, firm, make_client
):
    client = make_client(firm, first_name="Ann", last_name="Lee")
    db.session.add(QboConnection(firm_id=firm.id, realm_id="123", status="connected"))
    db.session.commit()
    browser.login(admin)
    browser.post(f"/clients/{client.id}/sync")
    page = browser.get(f"/clients/{client.id}").get_data(as_text=True)
    assert NOT_CONNECTED not in page
    assert "next scheduled sync" in page


# --- firm isolation and CSRF ------------------------------------------------------------------

GETS = ["", "/edit", "/invoices", "/time"]
POSTS = ["/edit", "/deactivate", "/reactivate", "/delete", "/sync"]


@pytest.mark.parametrize("suffix", GETS)
def test_other_firms_client_pages_are_404(browser, make_firm, make_client, suffix):
    firm_a, firm_b = make_firm(), make_firm()
    client = make_client(firm_a, first_name="Ann", last_name="Lee")
    browser.login(user_of(firm_b, "admin"))
    assert browser.get(f"/clients/{client.id}{suffix}").status_code == 404


@pytest.mark.parametrize("suffix", POSTS)
def test_other_firms_client_posts_are_404_and_change_nothing(
    browser, db, make_firm, make_client, suffix
):
    firm_a, firm_b = make_firm(), make_firm()
    client = make_client(firm_a, first_name="Ann", last_name="Lee")
    browser.login(user_of(firm_b, "admin"))
    response = browser.post(f"/clients/{client.id}{suffix}",
                            {"kind": "individual", "first_name": "Hacked", "last_name": "X"})
    assert response.status_code == 404
    client = _reload(db, client)
    assert (client.first_name, client.active, client.version) == ("Ann", True, 1)


@pytest.mark.parametrize("suffix", POSTS)
def test_client_posts_require_csrf(browser, db, admin, firm, make_client, suffix):
    client = make_client(firm, first_name="Ann", last_name="Lee")
    browser.login(admin)
    response = browser.post(f"/clients/{client.id}{suffix}",
                            {"kind": "individual", "first_name": "Changed", "last_name": "X"},
                            csrf=False)
    assert response.status_code == 400
    client = _reload(db, client)
    assert client is not None
    assert (client.first_name, client.active, client.version) == ("Ann", True, 1)


def test_no_pending_sync_badges_while_quickbooks_is_not_connected(browser, admin, firm,
                                                                  make_client):
    client = make_client(firm, first_name="Never", last_name="Synced")
    browser.login(admin)
    listing = browser.get("/clients/").get_data(as_text=True)
    assert ">Pending<" not in listing
    detail = browser.get(f"/clients/{client.id}").get_data(as_text=True)
    assert "QuickBooks is not connected" in detail
    assert "added to QuickBooks by the next sync" not in detail
