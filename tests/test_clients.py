"""Clients list and the create/edit form: what a user sees and what lands in the database."""

from __future__ import annotations

import html
from datetime import datetime

import pytest

from portal.models import Client


def _client_form(**overrides) -> dict:
    data = {
        "kind": "individual",
        "first_name": "Jane",
        "last_name": "Doe",
        "spouse_first_name": "",
        "spouse_last_name": "",
        "company_name": "",
        "email": "jane@doe.example",
        "phone": "(555) 123-4567",
        "address_line1": "1 Main St",
        "address_line2": "",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62701",
        "country": "USA",
        "notes": "",
        "active": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _clients(db, firm) -> list[Client]:
    db.session.expire_all()
    return list(db.session.execute(db.select(Client).where(Client.firm_id == firm.id)).scalars())


# --- list -------------------------------------------------------------------------------------


def test_list_requires_sign_in(browser):
    response = browser.get("/clients/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_list_empty_state_offers_add_client(browser, staff):
    browser.login(staff)
    page = browser.get("/clients/").get_data(as_text=True)
    assert "No clients yet" in page
    assert 'href="/clients/new"' in page


def test_list_shows_active_clients_sorted_by_name(browser, staff, firm, make_client):
    make_client(firm, first_name="zed", last_name="Young")
    make_client(firm, first_name="Amy", last_name="Adams", email="amy@adams.example",
                phone="555-0100")
    make_client(firm, kind="business", company_name="Midway Ltd")
    make_client(firm, first_name="Old", last_name="Gone", active=False)
    browser.login(staff)
    page = browser.get("/clients/").get_data(as_text=True)
    assert page.index("Amy Adams") < page.index("Midway Ltd") < page.index("zed Young")
    assert "amy@adams.example" in page and "555-0100" in page
    assert "Old Gone" not in page
    inactive = browser.get("/clients/?status=inactive").get_data(as_text=True)
    assert "Old Gone" in inactive and "Amy Adams" not in inactive
    everyone = browser.get("/clients/?status=all").get_data(as_text=True)
    assert "Old Gone" in everyone and "Amy Adams" in everyone


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("adams", "Amy Adams"),
        ("AMY", "Amy Adams"),
        ("ams@ex", "Amy Adams"),  # part of the email
        ("mary", "John & Mary Smith"),  # the spouse's first name
        ("widgets", "Acme Widgets"),
    ],
)
def test_list_search_is_case_insensitive_on_names_and_email(
    browser, staff, firm, make_client, query, found
):
    make_client(firm, first_name="Amy", last_name="Adams", email="adams@example.example")
    make_client(firm, kind="joint", first_name="John", last_name="Smith",
                spouse_first_name="Mary")
    make_client(firm, kind="business", company_name="Acme Widgets")
    browser.login(staff)
    page = browser.get(f"/clients/?q={query}").get_data(as_text=True)
    names = {"Amy Adams", "John & Mary Smith", "Acme Widgets"}
    shown = {name for name in names if html.escape(name, quote=False) in page}
    assert shown == {found}


def test_list_search_takes_wildcards_literally(browser, staff, firm, make_client):
    make_client(firm, first_name="Amy", last_name="Adams")
    browser.login(staff)
    page = browser.get("/clients/?q=%25").get_data(as_text=True)
    assert "Amy Adams" not in page
    assert "No clients match" in page


def test_list_filters_by_kind_and_quickbooks_link(browser, staff, firm, make_client):
    make_client(firm, first_name="Ivy", last_name="Solo")
    make_client(firm, kind="joint", first_name="Jo", last_name="Pair", spouse_first_name="Al")
    make_client(firm, kind="business", company_name="Linked Co", qbo_customer_id="58")
    browser.login(staff)
    joint = browser.get("/clients/?kind=joint").get_data(as_text=True)
    assert "Jo &amp; Al Pair" in joint and "Ivy Solo" not in joint and "Linked Co" not in joint
    linked = browser.get("/clients/?qb=linked").get_data(as_text=True)
    assert "Linked Co" in linked and "Ivy Solo" not in linked
    assert 'title="QuickBooks customer Id: 58"' in linked
    assert "/static/img/qb-logo.svg" in linked
    unlinked = browser.get("/clients/?qb=unlinked").get_data(as_text=True)
    assert "Ivy Solo" in unlinked and "Linked Co" not in unlinked


def test_list_ignores_unknown_filter_values(browser, staff, firm, make_client):
    make_client(firm, first_name="Ivy", last_name="Solo")
    browser.login(staff)
    response = browser.get("/clients/?kind=alien&qb=maybe&status=zzz&page=-4")
    assert response.status_code == 200
    assert "Ivy Solo" in response.get_data(as_text=True)


def test_list_is_paginated_server_side(app, browser, staff, firm, make_client):
    app.config["PAGE_SIZE"] = 3
    for n in range(7):
        make_client(firm, first_name="Client", last_name=f"N{n}")
    browser.login(staff)
    first = browser.get("/clients/").get_data(as_text=True)
    assert "Client N0" in first and "Client N2" in first and "Client N3" not in first
    assert "Page 1 of 3" in first
    third = browser.get("/clients/?page=3").get_data(as_text=True)
    assert "Client N6" in third and "Client N5" not in third
    beyond = browser.get("/clients/?page=9")
    assert beyond.status_code == 200
    assert "Client N0" not in beyond.get_data(as_text=True)


def test_list_shows_only_the_firms_own_clients(browser, make_firm, make_client):
    from tests.conftest import user_of

    firm_a, firm_b = make_firm(), make_firm()
    make_client(firm_a, first_name="Alice", last_name="OfA")
    make_client(firm_b, first_name="Bob", last_name="OfB")
    browser.login(user_of(firm_b, "staff"))
    page = browser.get("/clients/?status=all").get_data(as_text=True)
    assert "Bob OfB" in page and "Alice OfA" not in page


# --- create -----------------------------------------------------------------------------------


def test_new_form_renders_kind_selector_and_preview(browser, staff):
    browser.login(staff)
    page = browser.get("/clients/new").get_data(as_text=True)
    assert "Joint (married couple)" in page
    assert "data-display-name" in page and "js/clients.js" in page
    assert "<script>" not in page


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, ("individual", "Jane Doe")),
        (
            {"kind": "joint", "first_name": "John", "last_name": "Smith",
             "spouse_first_name": "Mary"},
            ("joint", "John & Mary Smith"),
        ),
        (
            {"kind": "joint", "first_name": "John", "last_name": "Smith",
             "spouse_first_name": "Mary", "spouse_last_name": "Jones"},
            ("joint", "John Smith & Mary Jones"),
        ),
        (
            {"kind": "business", "first_name": "", "last_name": "",
             "company_name": "O'Hara & Sons"},
            ("business", "O'Hara & Sons"),
        ),
    ],
)
def test_create_each_kind(browser, db, manager, firm, fields, expected):
    browser.login(manager)
    response = browser.post("/clients/new", _client_form(**fields))
    assert response.status_code == 302
    [client] = _clients(db, firm)
    assert (client.kind, client.display_name) == expected
    assert response.headers["Location"].endswith(f"/clients/{client.id}")
    assert client.email == "jane@doe.example" and client.city == "Springfield"
    assert client.active is True and client.version == 1
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "added" in page


def test_create_clears_names_the_kind_does_not_use(browser, db, staff, firm):
    browser.login(staff)
    browser.post("/clients/new", _client_form(
        kind="business", company_name="Acme", spouse_first_name="Stale", first_name="Old"))
    [client] = _clients(db, firm)
    assert client.first_name is None and client.spouse_first_name is None
    assert client.display_name == "Acme"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"first_name": ""}, "Enter the first name."),
        ({"last_name": "   "}, "Enter the last name."),
        ({"kind": "joint", "spouse_first_name": ""}, "Enter the spouse&#39;s first name."),
        ({"kind": "joint", "last_name": ""}, "Enter the last name."),
        ({"kind": "business", "company_name": ""}, "Enter the company name."),
        ({"kind": "martian"}, "Not a valid choice"),
        ({"email": "not-an-email"}, "Enter a valid email address"),
        ({"phone": "call me maybe"}, "Enter a phone number"),
        ({"first_name": "x" * 101}, "Use at most 100 characters."),
        ({"postal_code": "1" * 21}, "Use at most 20 characters."),
    ],
)
def test_create_refuses_bad_input_next_to_the_field(browser, db, staff, firm, fields, message):
    browser.login(staff)
    response = browser.post("/clients/new", _client_form(**fields))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert 'class="error"' in page
    assert _clients(db, firm) == []


def test_hidden_fields_of_another_kind_do_not_block_saving(browser, db, staff, firm):
    browser.login(staff)
    response = browser.post("/clients/new", _client_form(
        kind="business", company_name="Acme", spouse_first_name="x" * 300))
    assert response.status_code == 302
    assert [c.display_name for c in _clients(db, firm)] == ["Acme"]


def test_create_requires_csrf(browser, db, staff, firm):
    browser.login(staff)
    response = browser.post("/clients/new", _client_form(), csrf=False)
    assert response.status_code == 400
    assert _clients(db, firm) == []


# --- duplicate names --------------------------------------------------------------------------


def test_duplicate_name_warns_and_needs_confirmation(browser, db, staff, firm, make_client):
    existing = make_client(firm, first_name="Jane", last_name="Doe")
    browser.login(staff)
    response = browser.post("/clients/new", _client_form(first_name="JANE"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "A client named" in page and "Jane Doe" in page and "already exists" in page
    assert f'href="/clients/{existing.id}"' in page
    assert 'name="confirm_duplicate"' in page
    assert len(_clients(db, firm)) == 1

    response = browser.post("/clients/new", _client_form(first_name="JANE", confirm_duplicate="y"))
    assert response.status_code == 302
    assert sorted(c.display_name for c in _clients(db, firm)) == ["JANE Doe", "Jane Doe"]


def test_duplicate_check_ignores_inactive_clients_and_other_firms(
    browser, db, staff, firm, make_firm, make_client
):
    make_client(firm, first_name="Jane", last_name="Doe", active=False)
    make_client(make_firm(), first_name="Jane", last_name="Doe")
    browser.login(staff)
    response = browser.post("/clients/new", _client_form())
    assert response.status_code == 302


def test_renaming_onto_an_existing_name_warns(browser, db, staff, firm, make_client):
    make_client(firm, first_name="Jane", last_name="Doe")
    other = make_client(firm, first_name="Janet", last_name="Doe")
    browser.login(staff)
    response = browser.post(f"/clients/{other.id}/edit", _client_form(first_name="Jane"))
    assert response.status_code == 422
    assert "already exists" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Client, other.id).display_name == "Janet Doe"


# --- edit -------------------------------------------------------------------------------------


def test_edit_bumps_version_updated_at_and_display_name(browser, db, staff, firm, make_client):
    client = make_client(firm, kind="joint", first_name="John", last_name="Smith",
                         spouse_first_name="Mary")
    client.updated_at = datetime(2020, 1, 1)
    db.session.commit()
    version = client.version
    browser.login(staff)
    page = browser.get(f"/clients/{client.id}/edit").get_data(as_text=True)
    assert 'value="John"' in page and "John &amp; Mary Smith" in page
    response = browser.post(f"/clients/{client.id}/edit", _client_form(
        kind="joint", first_name="John", last_name="Smith", spouse_first_name="Mary",
        spouse_last_name="Jones"))
    assert response.status_code == 302
    db.session.expire_all()
    client = db.session.get(Client, client.id)
    assert client.display_name == "John Smith & Mary Jones"
    assert client.version == version + 1
    assert client.updated_at > datetime(2020, 1, 1)
    assert "saved" in browser.get(f"/clients/{client.id}").get_data(as_text=True)


def test_edit_without_changes_keeps_the_version(browser, db, staff, firm, make_client):
    client = make_client(firm, first_name="Jane", last_name="Doe", email="jane@doe.example",
                         phone="(555) 123-4567", address_line1="1 Main St", city="Springfield",
                         state="IL", postal_code="62701", country="USA")
    browser.login(staff)
    response = browser.post(f"/clients/{client.id}/edit", _client_form())
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Client, client.id).version == 1
    assert "Nothing changed" in browser.get(f"/clients/{client.id}").get_data(as_text=True)


def test_edit_switching_kind_drops_the_spouse(browser, db, staff, firm, make_client):
    client = make_client(firm, kind="joint", first_name="John", last_name="Smith",
                         spouse_first_name="Mary")
    browser.login(staff)
    browser.post(f"/clients/{client.id}/edit", _client_form(
        kind="individual", first_name="John", last_name="Smith", spouse_first_name="Mary"))
    db.session.expire_all()
    client = db.session.get(Client, client.id)
    assert (client.kind, client.display_name, client.spouse_first_name) == (
        "individual", "John Smith", None)


def test_edit_with_errors_saves_nothing(browser, db, staff, firm, make_client):
    client = make_client(firm, first_name="Jane", last_name="Doe")
    browser.login(staff)
    response = browser.post(f"/clients/{client.id}/edit",
                            _client_form(first_name="Janet", email="bad@"))
    assert response.status_code == 422
    db.session.expire_all()
    client = db.session.get(Client, client.id)
    assert (client.first_name, client.version) == ("Jane", 1)


def test_edit_requires_csrf(browser, db, staff, firm, make_client):
    client = make_client(firm, first_name="Jane", last_name="Doe")
    browser.login(staff)
    response = browser.post(f"/clients/{client.id}/edit", _client_form(first_name="Janet"),
                            csrf=False)
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Client, client.id).first_name == "Jane"
