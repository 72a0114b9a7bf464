"""Import Clients against the QBO sandbox over real HTTP: thousands of customers over several
pages, re-import imports nothing, name matches go to the review list, sub-customers are shown
as jobs, and the review decisions (link / import as new / ignore) through the Integrations tab.
"""

from __future__ import annotations

import pytest

from portal.models import Client, ClientReview, SyncEvent
from portal.qbo.client import QboClient
from portal.qbo.sync.pull import import_customers
from tests.conftest import user_of
from tests.qbo_support import _sandbox_server, _sbx, connect_firm  # noqa: F401 - fixtures
from tests.test_client_sync import _realm, new_run, push, requests, seed  # noqa: F401


def run_import(db, firm, page_size: int = 1000) -> dict[str, int]:
    run = new_run(db, firm, "import")
    with QboClient(firm.id) as qbo:
        counts = import_customers(qbo, firm.id, run, page_size=page_size)
    db.session.commit()
    db.session.expire_all()
    return counts


def clients_of(db, firm) -> list[Client]:
    return list(db.session.execute(
        db.select(Client).where(Client.firm_id == firm.id).order_by(Client.id)).scalars())


def reviews_of(db, firm) -> list[ClientReview]:
    return list(db.session.execute(
        db.select(ClientReview).where(ClientReview.firm_id == firm.id)
        .order_by(ClientReview.id)).scalars())


def test_import_of_2500_customers_over_several_pages_then_reimport_imports_nothing(
        db, sbx, realm, firm):
    for n in range(2500):
        seed(sbx, realm, "Customer", {"DisplayName": f"Customer {n:04d}",
                                      "GivenName": "Customer", "FamilyName": f"{n:04d}"})
    sbx.reset_counters()

    counts = run_import(db, firm, page_size=1000)

    assert counts == {"imported": 2500}
    assert requests(sbx) == {"GET query": 4}  # COUNT(*) + 3 pages
    clients = clients_of(db, firm)
    assert len(clients) == 2500
    assert len({c.qbo_customer_id for c in clients}) == 2500
    assert all(c.qbo_pushed_version == c.version for c in clients)  # nothing to push back

    assert run_import(db, firm, page_size=1000) == {"already_linked": 2500}
    assert len(clients_of(db, firm)) == 2500
    sbx.reset_counters()
    assert push(db, firm) == {}
    assert sum(requests(sbx).values()) == 0


def test_import_maps_kinds_and_contact_details(db, sbx, realm, firm):
    seed(sbx, realm, "Customer", {
        "DisplayName": "Smith, John and Jane", "PrimaryEmailAddr": {"Address": "js@x.example"},
        "PrimaryPhone": {"FreeFormNumber": "555-0101"},
        "BillAddr": {"Line1": "1 Elm St", "City": "Oakland", "CountrySubDivisionCode": "CA",
                     "PostalCode": "94601", "Country": "USA"}})
    seed(sbx, realm, "Customer", {"DisplayName": "Acme Inc", "CompanyName": "Acme Inc"})
    seed(sbx, realm, "Customer", {"DisplayName": "Lee, Ann", "GivenName": "Ann",
                                  "FamilyName": "Lee"})

    assert run_import(db, firm, page_size=2) == {"imported": 3}

    by_name = {c.display_name: c for c in clients_of(db, firm)}
    couple = by_name["John & Jane Smith"]
    assert (couple.kind, couple.email, couple.phone) == ("joint", "js@x.example", "555-0101")
    assert couple.address_lines == ["1 Elm St", "Oakland CA 94601", "USA"]
    assert by_name["Acme Inc"].kind == "business"
    assert by_name["Ann Lee"].kind == "individual"


def test_inactive_customers_are_left_out_and_sub_customers_are_shown_as_jobs(
        db, sbx, realm, firm):
    parent = seed(sbx, realm, "Customer", {"DisplayName": "Amy's Bird Sanctuary",
                                           "CompanyName": "Amy's Bird Sanctuary"})
    seed(sbx, realm, "Customer", {"DisplayName": "Kitchen remodel", "Job": True,
                                  "ParentRef": {"value": parent["Id"]}})
    gone = seed(sbx, realm, "Customer", {"DisplayName": "Gone Away"})
    with QboClient(firm.id) as qbo:
        qbo.update("Customer", {"Id": gone["Id"], "SyncToken": gone["SyncToken"],
                                "Active": False}, request_id="deactivate-gone")

    assert run_import(db, firm) == {"imported": 1, "imported_job": 1}

    names = {c.display_name: c for c in clients_of(db, firm)}
    assert set(names) == {"Amy's Bird Sanctuary", "Kitchen remodel"}
    job = names["Kitchen remodel"]
    assert "sub-customer (job) of Amy's Bird Sanctuary" in job.notes
    event = db.session.execute(db.select(SyncEvent).where(
        SyncEvent.entity_id == job.id)).scalar_one()
    assert event.action == "imported_job" and "Amy's Bird Sanctuary" in event.message


def test_a_name_match_goes_to_review_instead_of_a_duplicate(db, sbx, realm, firm, make_client):
    mine = make_client(firm, kind="joint", first_name="John", last_name="Smith",
                       spouse_first_name="Jane")
    theirs = seed(sbx, realm, "Customer", {"DisplayName": "Smith, John and Jane"})
    seed(sbx, realm, "Customer", {"DisplayName": "Other Person"})

    assert run_import(db, firm) == {"imported": 1, "review": 1}

    assert len(clients_of(db, firm)) == 2  # mine + Other Person, no duplicate couple
    [review] = reviews_of(db, firm)
    assert (review.qbo_customer_id, review.status) == (theirs["Id"], "pending")
    assert review.candidate_client_ids == [mine.id]
    assert run_import(db, firm) == {"already_linked": 1, "already_in_review": 1}


# -- the review list on the Integrations tab ------------------------------------------------------
@pytest.fixture
def pending(db, sbx, realm, firm, make_client):
    """Two unlinked clients, each with a matching QBO customer, both on the review list."""
    couple = make_client(firm, kind="joint", first_name="John", last_name="Smith",
                         spouse_first_name="Jane")
    ann = make_client(firm, first_name="Ann", last_name="Lee")
    seed(sbx, realm, "Customer", {"DisplayName": "Jane & John Smith"})
    seed(sbx, realm, "Customer", {"DisplayName": "Lee, Ann", "GivenName": "Ann",
                                  "FamilyName": "Lee"})
    run_import(db, firm)
    reviews = {r.qbo_display_name: r for r in reviews_of(db, firm)}
    return couple, ann, reviews["Jane & John Smith"], reviews["Lee, Ann"]


def test_review_list_shows_the_three_actions(browser, admin, pending):
    couple, ann, _, _ = pending
    browser.login(admin)
    page = browser.get("/integrations/").get_data(as_text=True)
    assert "Jane &amp; John Smith" in page
    assert f"Link to {couple.display_name}".replace("&", "&amp;") in page
    assert "Link to Ann Lee" in page
    assert page.count("Import as new") == 2 and page.count(">Ignore<") == 2


def test_link_decision_links_the_client(browser, db, admin, pending):
    couple, _, review, _ = pending
    browser.login(admin)
    response = browser.post(f"/integrations/quickbooks/clients/review/{review.id}",
                            {"decision": "link", "client_id": couple.id})
    assert response.status_code == 302
    db.session.expire_all()
    assert couple.qbo_customer_id == review.qbo_customer_id
    assert review.status == "linked" and review.client_id == couple.id
    page = browser.get("/integrations/").get_data(as_text=True)
    assert "Linked John &amp; Jane Smith to QuickBooks customer" in page


def test_import_as_new_and_ignore(browser, db, admin, firm, sbx, pending):
    couple, ann, couple_review, ann_review = pending
    browser.login(admin)
    browser.post(f"/integrations/quickbooks/clients/review/{ann_review.id}",
                 {"decision": "import"})
    browser.post(f"/integrations/quickbooks/clients/review/{couple_review.id}",
                 {"decision": "ignore"})
    db.session.expire_all()
    assert ann_review.status == "imported" and couple_review.status == "ignored"
    imported = db.session.get(Client, ann_review.client_id)
    assert imported.id != ann.id and imported.qbo_customer_id == ann_review.qbo_customer_id
    assert not ann.is_linked
    # Ignored stays ignored: the next import does not propose it again.
    assert run_import(db, firm) == {"already_linked": 1, "already_in_review": 1}
    again = browser.post(f"/integrations/quickbooks/clients/review/{couple_review.id}",
                         {"decision": "link", "client_id": couple.id}, follow_redirects=True)
    assert "already decided" in again.get_data(as_text=True)


def test_link_to_a_client_that_is_not_a_candidate_is_refused(browser, db, admin, firm,
                                                             make_client, pending):
    _, _, review, _ = pending
    stranger = make_client(firm, first_name="Not", last_name="Candidate")
    browser.login(admin)
    page = browser.post(f"/integrations/quickbooks/clients/review/{review.id}",
                        {"decision": "link", "client_id": stranger.id}, follow_redirects=True)
    assert "Pick one of the matching clients" in page.get_data(as_text=True)
    db.session.expire_all()
    assert not stranger.is_linked and review.status == "pending"


def test_review_is_admin_only_firm_scoped_and_csrf_protected(browser, db, firm, make_firm,
                                                             pending):
    _, _, review, _ = pending
    url = f"/integrations/quickbooks/clients/review/{review.id}"
    browser.login(user_of(firm, "manager"))
    assert browser.post(url, {"decision": "ignore"}).status_code == 403
    browser.logout()
    other = make_firm("Other CPAs")
    browser.login(user_of(other, "admin"))
    assert browser.post(url, {"decision": "ignore"}).status_code == 404
    browser.logout()
    browser.login(user_of(firm, "admin"))
    assert browser.post(url, {"decision": "ignore"}, csrf=False).status_code == 400
    db.session.expire_all()
    assert review.status == "pending"
