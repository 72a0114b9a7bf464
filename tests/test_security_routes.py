"""Access control over the whole URL map, so a new route is covered the day it is added.

Every rule in ``app.url_map`` (except ``static``) must be classified below; an unclassified rule
or an unknown URL argument fails with a message that says what to add. For each rule:

- anonymous -> 302 to /login (pages and actions alike: there are no API endpoints yet);
- admin-only rules -> 403 for staff and manager; approver rules -> 403 for staff;
- rules with an object id -> 404 for an admin of another firm (GET and POST), nothing changed;
- POST rules refuse GET (405) unless they are also a GET page, whose GET changes nothing;
- POST without a CSRF token -> 400, nothing changed;
- every GET page, for every role that may see it: 200, no inline script/style/handlers,
  the security headers, and ``Cache-Control: no-store``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
from werkzeug.routing import Rule

from portal import models
from portal.extensions import db as _db
from portal.models import (
    BillableCategory,
    BillableType,
    Invoice,
    InvoiceLine,
    QboConnection,
    SyncEvent,
    SyncRun,
    TimeEntry,
)
from tests.conftest import Browser, user_of

# Who may use each rule. public: anyone; user: any signed-in user; approver: admin or manager;
# admin: admins only. Add every new rule here (the test fails until you do).
ACCESS: dict[str, str] = {
    "/": "public",  # redirects to /login or /dashboard
    "/login": "public",
    "/logout": "user",
    "/dashboard": "user",
    "/clients/": "user",
    "/clients/new": "user",
    "/clients/<int:client_id>": "user",
    "/clients/<int:client_id>/edit": "user",
    "/clients/<int:client_id>/invoices": "user",
    "/clients/<int:client_id>/time": "user",
    "/clients/<int:client_id>/deactivate": "user",
    "/clients/<int:client_id>/reactivate": "user",
    "/clients/<int:client_id>/delete": "user",
    "/clients/<int:client_id>/sync": "admin",  # a QBO sync action
    "/invoices/": "user",
    "/invoices/<int:invoice_id>": "user",
    "/invoices/new": "approver",
    "/invoices/<int:invoice_id>/edit": "approver",
    "/invoices/<int:invoice_id>/lines": "approver",
    "/invoices/<int:invoice_id>/status": "approver",
    "/invoices/<int:invoice_id>/delete": "approver",
    "/invoices/from-time": "approver",
    "/invoices/<int:invoice_id>/push": "admin",  # a QBO sync action
    "/time/": "user",
    "/time/new": "user",
    "/time/submit": "user",
    "/time/<int:entry_id>/edit": "user",
    "/time/<int:entry_id>/delete": "user",
    "/reports/": "user",
    "/reports/timesheets": "user",
    "/reports/timesheets.csv": "user",
    "/reports/timesheets/approve": "approver",
    "/reports/timesheets/return": "approver",
    "/customizations/": "admin",
    "/customizations/rollup": "admin",
    "/customizations/qbo-check": "admin",
    "/customizations/types/new": "admin",
    "/customizations/types/<int:type_id>/edit": "admin",
    "/customizations/types/<int:type_id>/deactivate": "admin",
    "/customizations/types/<int:type_id>/reactivate": "admin",
    "/customizations/categories/new": "admin",
    "/customizations/categories/<int:category_id>/edit": "admin",
    "/customizations/categories/<int:category_id>/deactivate": "admin",
    "/customizations/categories/<int:category_id>/reactivate": "admin",
    "/users/": "admin",
    "/users/new": "admin",
    "/users/<int:user_id>/edit": "admin",
    "/users/<int:user_id>/deactivate": "admin",
    "/users/<int:user_id>/reactivate": "admin",
    "/integrations/": "admin",
    "/integrations/quickbooks/connect": "admin",
    "/integrations/stripe/connect": "admin",
    "/integrations/stripe/disconnect": "admin",
    "/integrations/quickbooks/callback": "admin",  # OAuth return: GET by necessity, state-checked
    "/integrations/quickbooks/disconnect": "admin",
    "/integrations/quickbooks/reset-links": "admin",
    "/integrations/quickbooks/sync-now": "admin",
    "/integrations/quickbooks/invoices/sync": "admin",
    "/integrations/quickbooks/clients/import": "admin",
    "/integrations/quickbooks/clients/sync": "admin",
    "/integrations/quickbooks/clients/runs/<int:run_id>": "admin",  # JSON progress
    "/integrations/quickbooks/clients/review/<int:review_id>": "admin",
}
ROLES_ALLOWED = {
    "public": ("admin", "manager", "staff"),
    "user": ("admin", "manager", "staff"),
    "approver": ("admin", "manager"),
    "admin": ("admin",),
}
# GET rules that answer a redirect rather than a page, even for a user allowed to use them.
GET_REDIRECTS = {"/", "/login", "/integrations/quickbooks/callback"}
# GET rules that answer JSON to scripts (polled by static/js): 401, not a login page, when
# nobody is signed in.
JSON_RULES = {"/integrations/quickbooks/clients/runs/<int:run_id>", "/customizations/qbo-check"}
# URL argument -> which of firm A's objects fills it. Add new object kinds here.
ARG_OBJECTS = {
    "client_id": "client",
    "invoice_id": "invoice",
    "line_id": "invoice_line",
    "entry_id": "time_entry",
    "user_id": "user",
    "type_id": "billable_type",
    "category_id": "billable_category",
    "run_id": "sync_run",
    "event_id": "sync_event",
    "review_id": "client_review",
}

INLINE_PROBLEMS = (
    (re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script> (no src)"),
    (re.compile(r"<style\b", re.I), "<style> block"),
    (re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I), "style= attribute"),
    (re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I), "on*= handler attribute"),
    (re.compile(r"(?:href|src|action)\s*=\s*[\"']?\s*javascript:", re.I), "javascript: URL"),
)


@dataclass
class World:
    """Firm A's objects (ids only: each request loads its own copies) and firm B's users."""

    ids: dict[str, int]
    users_a: dict[str, Any]
    users_b: dict[str, Any]


@pytest.fixture
def world(db, make_firm, make_client) -> World:
    firm_a, firm_b = make_firm("Firm A CPAs"), make_firm("Firm B CPAs")
    users_a = {role: user_of(firm_a, role) for role in ("admin", "manager", "staff")}
    users_b = {role: user_of(firm_b, role) for role in ("admin", "manager", "staff")}
    btype = db.session.execute(
        db.select(BillableType).where(BillableType.firm_id == firm_a.id)).scalar_one()
    category = db.session.execute(
        db.select(BillableCategory).where(BillableCategory.firm_id == firm_a.id)).scalar_one()
    client = make_client(firm_a, first_name="Ada", last_name="Lovelace", email="ada@a.example")
    invoice = Invoice(firm_id=firm_a.id, client_id=client.id, number="A-1001",
                      issue_date=date(2025, 3, 1), status="draft")
    invoice.lines.append(InvoiceLine(position=0, description="Tax return", quantity=Decimal(2),
                                     rate=Decimal("150.00"), category_id=category.id))
    invoice.recompute_total()
    db.session.add(invoice)
    entry = TimeEntry(firm_id=firm_a.id, user_id=users_a["admin"].id, client_id=client.id,
                      entry_date=date(2025, 3, 3), hours=Decimal("1.50"),
                      category_id=category.id, description="Prepared the return")
    db.session.add(entry)
    db.session.add(QboConnection(firm_id=firm_a.id, realm_id="9130000000000001",
                                 company_name="Firm A Books", status="connected"))
    run = SyncRun(firm_id=firm_a.id, kind="clients", trigger="button", status="succeeded",
                  counts={"created": 1})
    db.session.add(run)
    db.session.flush()
    event = SyncEvent(run_id=run.id, firm_id=firm_a.id, entity="client", entity_id=client.id,
                      action="held", result="held", message="Duplicate name in QuickBooks")
    db.session.add(event)
    review = _client_review(firm_a.id, run.id, client.id)
    db.session.commit()
    ids = {
        "client": client.id,
        "invoice": invoice.id,
        "invoice_line": invoice.lines[0].id,
        "time_entry": entry.id,
        "user": users_a["staff"].id,
        "billable_type": btype.id,
        "billable_category": category.id,
        "sync_run": run.id,
        "sync_event": event.id,
        "client_review": review.id if review is not None else 0,
    }
    return World(ids=ids, users_a=users_a, users_b=users_b)


def _client_review(firm_id: int, run_id: int, client_id: int) -> Any:
    """A pending review row, when the model exists (it lands with the client sync)."""
    model = getattr(models, "ClientReview", None)
    if model is None:
        return None
    review = model(firm_id=firm_id, qbo_customer_id="58", qbo_display_name="Ada Lovelace",
                   qbo_data={"DisplayName": "Ada Lovelace"}, candidate_client_ids=[client_id],
                   source="import", status="pending", run_id=run_id)
    _db.session.add(review)
    _db.session.flush()
    return review


def portal_rules(app) -> list[Rule]:
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint != "static"),
                  key=lambda r: r.rule)


def access_of(rule: Rule) -> str:
    if rule.rule not in ACCESS:
        pytest.fail(
            f"Route {rule.rule} ({rule.endpoint}) is not classified: add it to ACCESS in "
            "tests/test_security_routes.py as public, user, approver or admin."
        )
    return ACCESS[rule.rule]


def url_for_rule(rule: Rule, ids: dict[str, int]) -> str:
    values = {}
    for arg in sorted(rule.arguments):
        if arg not in ARG_OBJECTS:
            pytest.fail(
                f"Route {rule.rule} takes <{arg}>, which the security sweep cannot fill: add "
                f"'{arg}' to ARG_OBJECTS in tests/test_security_routes.py and create a firm-A "
                "object of that kind in the `world` fixture."
            )
        values[arg] = ids[ARG_OBJECTS[arg]]
    return rule.build(values, append_unknown=False)[1]


def methods_of(rule: Rule) -> set[str]:
    return set(rule.methods or ()) - {"HEAD", "OPTIONS"}


def snapshot(db) -> dict[str, list[tuple]]:
    """Every row of every table: compared before/after to prove a request changed nothing."""
    db.session.rollback()
    return {
        table.name: sorted(
            (tuple(map(repr, row)) for row in db.session.execute(table.select())), key=repr
        )
        for table in db.metadata.sorted_tables
    }


def signed_in(app, user) -> Browser:
    browser = Browser(app.test_client())
    browser.login(user)
    return browser


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"


def test_every_rule_is_classified_and_every_argument_known(app, world):
    unclassified = [r.rule for r in portal_rules(app) if r.rule not in ACCESS]
    assert not unclassified, (
        f"Unclassified routes {unclassified}: add them to ACCESS in tests/test_security_routes.py"
    )
    stale = set(ACCESS) - {r.rule for r in portal_rules(app)}
    assert not stale, f"ACCESS lists routes that no longer exist: {sorted(stale)}"
    for rule in portal_rules(app):
        url_for_rule(rule, world.ids)  # fails with a clear message on an unknown argument


def test_the_sweep_fails_loudly_on_an_unknown_argument(app, world):
    rule = Rule("/widgets/<int:widget_id>", endpoint="widgets.detail")
    rule.bind(app.url_map.__class__())
    with pytest.raises(pytest.fail.Exception, match="add 'widget_id' to ARG_OBJECTS"):
        url_for_rule(rule, world.ids)


def test_anonymous_is_sent_to_login_everywhere(app, world):
    anonymous = Browser(app.test_client())
    token = anonymous.csrf_token()
    checked = 0
    for rule in portal_rules(app):
        if access_of(rule) == "public":
            continue
        url = url_for_rule(rule, world.ids)
        for method in sorted(methods_of(rule)):
            if method == "GET":
                response = anonymous.get(url)
            else:
                response = anonymous.client.open(url, method=method, data={"csrf_token": token})
            assert is_login_redirect(response), (
                f"anonymous {method} {url}: {response.status_code} "
                f"{response.headers.get('Location')}"
            )
            checked += 1
    assert checked > 40


def test_json_endpoints_answer_401_to_anonymous_scripts(app, world):
    anonymous = app.test_client()
    for rule in portal_rules(app):
        if rule.rule not in JSON_RULES:
            continue
        response = anonymous.get(url_for_rule(rule, world.ids),
                                 headers={"Accept": "application/json"})
        assert response.status_code == 401, rule.rule
        assert response.is_json and response.json["error"] == "signed_out"
    page = anonymous.get("/clients/", headers={"Accept": "text/html,application/json;q=0.9"})
    assert is_login_redirect(page)
    assert urlsplit(page.headers["Location"]).query == "next=%2Fclients%2F"


def test_lower_roles_get_403_on_admin_and_approver_routes(app, db, world):
    browsers = {role: signed_in(app, world.users_a[role]) for role in ("manager", "staff")}
    before = snapshot(db)
    checked = 0
    for rule in portal_rules(app):
        allowed = ROLES_ALLOWED[access_of(rule)]
        url = url_for_rule(rule, world.ids)
        for role, browser in browsers.items():
            if role in allowed:
                continue
            for method in sorted(methods_of(rule)):
                if method == "GET":
                    response = browser.get(url)
                else:
                    response = browser.post(url, {}) if method == "POST" else \
                        browser.client.open(url, method=method)
                assert response.status_code == 403, f"{role} {method} {url}: {response.status_code}"
                checked += 1
    assert snapshot(db) == before, "a refused request changed the database"
    assert checked > 30


def test_another_firm_gets_404_for_every_object_route(app, db, world):
    outsider = signed_in(app, world.users_b["admin"])  # admin: no role check gets in the way
    before = snapshot(db)
    object_rules = [r for r in portal_rules(app) if r.arguments]
    for rule in object_rules:
        url = url_for_rule(rule, world.ids)
        for method in sorted(methods_of(rule)):
            response = outsider.get(url) if method == "GET" else outsider.post(url, {})
            assert response.status_code == 404, (
                f"firm B admin {method} {url} (firm A's object): {response.status_code}"
            )
    assert snapshot(db) == before, "another firm's request changed firm A's data"
    assert len(object_rules) >= 20


def test_post_routes_refuse_get_and_get_forms_change_nothing(app, db, world):
    admin = signed_in(app, world.users_a["admin"])
    post_rules = [r for r in portal_rules(app) if "POST" in methods_of(r)]
    for rule in post_rules:
        url = url_for_rule(rule, world.ids)
        before = snapshot(db)
        response = admin.get(url)
        if "GET" in methods_of(rule):
            assert response.status_code in (200, 302), f"GET {url}: {response.status_code}"
        else:
            assert response.status_code == 405, f"GET {url} on a POST-only route: " \
                                                f"{response.status_code}"
        assert snapshot(db) == before, f"GET {url} changed the database"
    assert len(post_rules) > 25


def test_no_get_changes_anything(app, db, world):
    """GET is safe everywhere, including the OAuth callback reached without a valid state."""
    admin = signed_in(app, world.users_a["admin"])
    before = snapshot(db)
    for rule in portal_rules(app):
        if "GET" in methods_of(rule):
            admin.get(url_for_rule(rule, world.ids))
    forged = admin.get("/integrations/quickbooks/callback",
                       query_string={"code": "stolen-code", "state": "guessed", "realmId": "1"})
    assert forged.status_code == 302
    assert snapshot(db) == before, "a GET changed the database"


def test_post_without_csrf_token_is_refused(app, db, world):
    admin = signed_in(app, world.users_a["admin"])
    before = snapshot(db)
    for rule in portal_rules(app):
        if "POST" not in methods_of(rule):
            continue
        url = url_for_rule(rule, world.ids)
        response = admin.post(url, {}, csrf=False)
        assert response.status_code == 400, f"POST {url} without CSRF: {response.status_code}"
        forged = admin.post(url, {"csrf_token": "forged-token"}, csrf=False)
        assert forged.status_code == 400, f"POST {url} with a forged CSRF token"
    assert snapshot(db) == before, "a POST without a valid CSRF token changed the database"


def inline_code_problems(html: str) -> list[str]:
    return [f"{what}: {m.group(0)[:120]}" for pattern, what in INLINE_PROBLEMS
            for m in pattern.finditer(html)]


def test_inline_code_detector_catches_each_kind():
    assert not inline_code_problems('<script src="/static/js/portal.js" defer></script>')
    for bad in ("<script>alert(1)</script>", "<style>p{}</style>", '<p style="color:red">',
                '<button onclick="go()">', '<a href="javascript:go()">'):
        assert inline_code_problems(bad), bad


def assert_page_is_hardened(response, where: str, authenticated: bool = True) -> None:
    html = response.get_data(as_text=True)
    problems = inline_code_problems(html)
    assert not problems, f"{where}: {problems}"
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    assert "script-src 'self'" in csp and "style-src 'self'" in csp, where
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp, where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") in ("same-origin", "no-referrer",
                                              "strict-origin-when-cross-origin"), where
    if authenticated:
        assert headers.get("Cache-Control") == "no-store", where


def test_every_page_for_every_role_has_no_inline_code_and_strict_headers(app, world):
    rendered = 0
    browsers = {role: signed_in(app, world.users_a[role]) for role in ("admin", "manager",
                                                                       "staff")}
    for rule in portal_rules(app):
        if "GET" not in methods_of(rule):
            continue
        url = url_for_rule(rule, world.ids)
        for role in ROLES_ALLOWED[access_of(rule)]:
            response = browsers[role].get(url)
            if rule.rule in GET_REDIRECTS:
                assert response.status_code == 302, url
                continue
            if role != "admin" and response.status_code in (403, 404, 409):
                continue  # e.g. staff may not edit an admin's time entry: the area's rule
            assert response.status_code == 200, f"{role} GET {url}: {response.status_code}"
            if response.mimetype == "text/html":
                assert_page_is_hardened(response, f"{role} GET {url}")
                rendered += 1
            else:
                assert response.headers.get("Cache-Control") == "no-store", url
    assert rendered > 40


def test_error_and_login_pages_have_no_inline_code(app, world):
    anonymous = Browser(app.test_client())
    assert_page_is_hardened(anonymous.get("/login"), "login", authenticated=False)
    admin = signed_in(app, world.users_a["admin"])
    assert_page_is_hardened(admin.get("/clients/987654"), "404 page")
    assert_page_is_hardened(admin.get("/logout"), "405 page")
    staff = signed_in(app, world.users_a["staff"])
    assert_page_is_hardened(staff.get("/users/"), "403 page")


def test_trace_and_unknown_methods_are_refused_everywhere(app, world):
    admin = signed_in(app, world.users_a["admin"])
    for rule in portal_rules(app):
        url = url_for_rule(rule, world.ids)
        for method in ("TRACE", "PUT", "DELETE", "PATCH"):
            response = admin.client.open(url, method=method)
            assert response.status_code in (400, 405), f"{method} {url}: {response.status_code}"
            assert b"Traceback" not in response.data
