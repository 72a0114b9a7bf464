"""Portal fixtures in the flaskr style: app, db, client, users of each role, a firm factory.

Without DATABASE_URL the suite runs on in-memory SQLite; with it (CI) on PostgreSQL. Tables are
created for each test from the models and dropped after, so every test starts empty.

The test body runs inside an app context (so fixtures can hand out ORM objects), but every
request made through `client`/`browser` runs in a context of its own, exactly as in production:
its own `g`, its own login state, its own database session. After a request changed something,
call `db.session.expire_all()` (or `db.session.refresh(obj)`) before asserting on objects.
"""

from __future__ import annotations

import contextvars
import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal import create_app
from portal.extensions import db as _db
from portal.models import BillableCategory, BillableType, Client, Firm, User

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


class IsolatedClient(FlaskClient):
    """Runs each request in an empty contextvars context, so it pushes its own app context
    instead of reusing the test's (which would share `g`, the CSRF token and the logged-in
    user between requests and hide real bugs)."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@contextmanager
def fresh_app(overrides: dict) -> Iterator[Flask]:
    """An app whose tables are created empty and dropped afterwards, its context pushed, and
    whose test clients are IsolatedClients. `app` here and `tests.rq_support` build on it."""
    app = create_app(overrides)
    app.test_client_class = IsolatedClient
    with app.app_context():
        _db.drop_all()
        _db.create_all()
        yield app
        _db.session.remove()
        _db.drop_all()
        _db.engine.dispose()


@pytest.fixture
def app() -> Iterator[Flask]:
    with fresh_app({"TESTING": True}) as app:
        yield app


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def redis(app):
    """The app's Redis (REDIS_URL in CI, else an embedded real Redis), emptied around the test."""
    from portal.redis_conn import get_redis

    connection = get_redis(app)
    connection.flushdb()
    yield connection
    connection.flushdb()


@pytest.fixture(autouse=True)
def _clean_redis(request):
    """Every portal test starts with an empty Redis, so counters such as sign-in throttles never
    leak between tests. Tests that do not use the portal app (the sandbox's) are left alone."""
    if "app" in request.fixturenames:
        request.getfixturevalue("redis")
    yield


class Browser:
    """A test client that signs in and sends CSRF tokens like a real browser form would."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self._token: str | None = None

    def get(self, url: str, **kwargs):
        return self.client.get(url, **kwargs)

    def csrf_token(self) -> str:
        page = self.client.get("/login").get_data(as_text=True)
        match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
        if not match:
            page = self.client.get("/dashboard").get_data(as_text=True)
            match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
        assert match, "no CSRF token found on the page"
        return match.group(1)

    def post(self, url: str, data: dict | None = None, csrf: bool = True, **kwargs):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf_token())
        return self.client.post(url, data=data, **kwargs)

    def login(self, user: User, password: str = PASSWORD):
        response = self.post("/login", {"email": user.email, "password": password})
        assert response.status_code == 302, "login failed"
        return response

    def logout(self):
        return self.post("/logout")


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def browser(app) -> Browser:
    return Browser(app.test_client())


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_firm(db):
    """Factory: a firm with one user of each role and a billable type/category."""

    def make(name: str | None = None) -> Firm:
        n = next(_seq)
        firm = Firm(name=name or f"Firm {n}")
        db.session.add(firm)
        db.session.flush()
        for role, rate in (("admin", "200"), ("manager", "150"), ("staff", "100")):
            user = User(
                firm_id=firm.id,
                email=f"{role}{n}@firm{n}.example",
                name=f"{role.capitalize()} Person{n}",
                role=role,
                hourly_rate=Decimal(rate),
            )
            user.set_password(PASSWORD)
            db.session.add(user)
        tax = BillableType(firm_id=firm.id, name="Tax", code="TAX")
        db.session.add(tax)
        db.session.flush()
        db.session.add(
            BillableCategory(firm_id=firm.id, type_id=tax.id, name="Individual tax return",
                             code="TAX-IND")
        )
        db.session.commit()
        return firm

    return make


def user_of(firm: Firm, role: str) -> User:
    return _db.session.execute(
        _db.select(User).where(User.firm_id == firm.id, User.role == role)
    ).scalars().first()


@pytest.fixture
def firm(make_firm) -> Firm:
    return make_firm("Smith & Co CPAs")


@pytest.fixture
def admin(firm) -> User:
    return user_of(firm, "admin")


@pytest.fixture
def manager(firm) -> User:
    return user_of(firm, "manager")


@pytest.fixture
def staff(firm) -> User:
    return user_of(firm, "staff")


@pytest.fixture
def make_client(db):
    def make(firm: Firm, **fields) -> Client:
        fields.setdefault("kind", "individual")
        if fields["kind"] == "business":
            fields.setdefault("company_name", f"Company {next(_seq)}")
        else:
            fields.setdefault("first_name", "Pat")
            fields.setdefault("last_name", f"Client{next(_seq)}")
        client = Client(firm_id=firm.id, **fields)
        client.refresh_name()
        db.session.add(client)
        db.session.commit()
        return client

    return make
