"""Secrets: QBO tokens never stored in clear (database and Redis) and never logged; production
refuses weak or default secrets (beyond what tests/test_config.py covers).

The tokens are real ones: the in-process QBO sandbox issues them through the same OAuth code
exchange and refresh the portal uses in production.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from cryptography.fernet import Fernet

from portal import create_app
from portal.config import DEV_TOKEN_KEY
from portal.extensions import db as _db
from portal.jobs.firm_sync import run_firm_sync
from portal.qbo import crypto, oauth, tokens
from portal.qbo.client import QboClient
from portal.qbo.errors import QboError
from tests.conftest import PASSWORD, Browser
from tests.qbo_support import (  # noqa: F401 - fixtures
    REDIRECT_URI,
    _sandbox_server,
    _sbx,
    reload_connection,
)


class Secrets:
    """Every secret value seen during a flow; `plain` ones must never be found anywhere."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def add(self, name: str, value: str | None) -> None:
        if value:
            assert len(value) >= 8, f"{name} is too short to search for meaningfully"
            self.values[f"{name}#{len(self.values)}"] = value

    def found_in(self, text: str) -> list[str]:
        return [name for name, value in self.values.items() if value in text]


def connect_like_a_callback(app, sbx, firm, secrets: Secrets):
    """Consent, code exchange, CompanyInfo and storage: what the OAuth callback will do."""
    back = sbx.authorize(REDIRECT_URI, state=oauth.generate_state(), realm_id=sbx.REALM_1)
    secrets.add("authorization code", back["code"])
    token_set = oauth.exchange_code(back["code"], back["realmId"])
    secrets.add("access token", token_set.access_token)
    secrets.add("refresh token", token_set.refresh_token)
    name = oauth.fetch_company_name(back["realmId"], token_set.access_token)
    tokens.record_connection(firm.id, token_set, back["realmId"], name, None)
    _db.session.commit()


def remember_stored_tokens(firm_id: int, secrets: Secrets) -> None:
    conn = reload_connection(firm_id)
    secrets.add("access token", crypto.decrypt(conn.access_token_enc))
    secrets.add("refresh token", crypto.decrypt(conn.refresh_token_enc))


def full_flow(app, sbx, firm, admin, secrets: Secrets) -> None:
    """Sign-in, connect, a forced refresh, API calls (ok, fault, 401 + refresh), a sync run."""
    secrets.add("client secret", app.config["QBO_CLIENT_SECRET"])
    secrets.add("user password", PASSWORD)
    secrets.add("secret key", app.config["SECRET_KEY"])
    browser = Browser(app.test_client())
    browser.login(admin)
    browser.post("/login", {"email": admin.email, "password": PASSWORD + "-wrong"})
    connect_like_a_callback(app, sbx, firm, secrets)
    secrets.add("access token", tokens.get_access_token(firm.id, force=True))
    remember_stored_tokens(firm.id, secrets)
    with QboClient(firm.id) as qbo:
        qbo.company_info()
        qbo.get("Customer", "1")
        qbo.query("select * from Customer maxresults 2")
        with pytest.raises(QboError):
            qbo.get("Customer", "98765432")
    sbx.advance_clock(3601)  # QBO now refuses the access token: 401, refresh, retry
    with QboClient(firm.id) as qbo:
        qbo.get("Customer", "2")
    remember_stored_tokens(firm.id, secrets)
    run_firm_sync(firm.id, trigger="button")


def record_texts(record: logging.LogRecord) -> list[str]:
    texts = [record.getMessage(), repr(record.args), str(record.msg)]
    if record.exc_info:
        texts.append(logging.Formatter().formatException(record.exc_info))
    if record.exc_text:
        texts.append(record.exc_text)
    if record.stack_info:
        texts.append(record.stack_info)
    return texts


def leaks_in(records: list[logging.LogRecord], secrets: Secrets) -> list[tuple]:
    leaks = []
    for record in records:
        names = {name for text in record_texts(record) for name in secrets.found_in(text)}
        if names:
            leaks.append((record.name, record.levelname, sorted(names)))
    return leaks


def test_the_log_leak_detector_finds_a_leak_in_args_and_exceptions(caplog):
    caplog.set_level(logging.DEBUG)
    secrets = Secrets()
    secrets.add("access token", "eyJ-pretend-access-token")
    log = logging.getLogger("portal.qbo.leaky")
    log.debug("calling with %s", {"Authorization": "Bearer eyJ-pretend-access-token"})
    try:
        raise ValueError("token eyJ-pretend-access-token refused")
    except ValueError:
        log.exception("failed")
    assert len(leaks_in(caplog.records, secrets)) == 2


def test_no_token_password_or_secret_is_ever_logged(app, db, sbx, firm, admin, caplog):
    caplog.set_level(logging.DEBUG)  # the root logger: every library's records included
    secrets = Secrets()
    full_flow(app, sbx, firm, admin, secrets)
    assert caplog.records, "nothing was logged: the capture is not working"
    assert any(r.name.startswith("portal.qbo") for r in caplog.records)
    assert any(r.name == "urllib3.connectionpool" for r in caplog.records)  # DEBUG reached
    leaks = leaks_in(caplog.records, secrets)
    assert not leaks, f"secrets in log records: {leaks}"
    assert len(secrets.values) >= 8  # codes, several access and refresh tokens, secrets


def dump_database(db) -> list[tuple[str, str, Any]]:
    """(table, column, value) for every column of every row of every table, any database."""
    db.session.rollback()
    cells = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(table.select()).mappings():
            for column, value in row.items():
                cells.append((table.name, column, value))
    return cells


def as_texts(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        return [raw.decode("latin-1")]
    return [str(value), repr(value)]


def test_no_token_is_stored_in_clear_anywhere_in_the_database(app, db, sbx, firm, admin):
    secrets = Secrets()
    full_flow(app, sbx, firm, admin, secrets)
    cells = dump_database(db)
    assert any(t == "qbo_connections" and c == "refresh_token_enc" and v for t, c, v in cells)
    leaks = [(table, column, secrets.found_in(text))
             for table, column, value in cells for text in as_texts(value)
             if secrets.found_in(text)]
    assert not leaks, f"secrets stored in clear: {leaks}"


def test_no_token_is_stored_in_clear_in_redis(app, db, redis, sbx, firm, admin):
    secrets = Secrets()
    full_flow(app, sbx, firm, admin, secrets)
    texts = []
    for key in redis.scan_iter(count=1000):
        texts.append(key.decode("latin-1"))
        kind = redis.type(key).decode()
        if kind == "string":
            texts.append((redis.get(key) or b"").decode("latin-1"))
        elif kind == "hash":
            texts.extend(f"{k!r}{v!r}" for k, v in redis.hgetall(key).items())
        elif kind == "list":
            texts.extend(repr(v) for v in redis.lrange(key, 0, -1))
        elif kind in ("set", "zset"):
            members = redis.smembers(key) if kind == "set" else redis.zrange(key, 0, -1)
            texts.extend(repr(v) for v in members)
    leaks = [secrets.found_in(text) for text in texts if secrets.found_in(text)]
    assert not leaks, f"secrets stored in clear in Redis: {leaks}"


def test_token_ciphertext_is_useless_without_the_key(app, db, sbx, firm):
    from tests.qbo_support import connect_firm

    conn = connect_firm(firm, sbx)
    with pytest.raises(Exception):  # noqa: B017 - any failure is the point: no key, no token
        crypto.decrypt(conn.refresh_token_enc, [Fernet.generate_key().decode()])


# -- production refuses unsafe secrets (tests/test_config.py covers missing ones) ----------------
GOOD = {
    "PORTAL_ENV": "production",
    "SECRET_KEY": "Vq3-8sPz_t1mR9wLx2Ke7NbH4cYj6FdGa0Uo",
    "DATABASE_URL": "sqlite:////tmp/portal-security-prod.db",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


@pytest.fixture
def prod_env(monkeypatch):
    for name, value in GOOD.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEYS", Fernet.generate_key().decode())
    for name in ("QBO_ENVIRONMENT", "QBO_CLIENT_ID", "QBO_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_a_well_configured_production_app_starts(prod_env):
    assert create_app().config["ENV_NAME"] == "production"


@pytest.mark.parametrize("secret", ["", " " * 40, "x" * 40, "test-secret-key", "dev-not-secret",
                                    "abababababababababababababababababab"])
def test_production_refuses_a_missing_default_or_trivial_secret_key(prod_env, secret):
    prod_env.setenv("SECRET_KEY", secret)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()


@pytest.mark.parametrize("keys", ["not-a-fernet-key", DEV_TOKEN_KEY])
def test_production_refuses_unusable_or_development_token_keys(prod_env, keys):
    prod_env.setenv("TOKEN_ENCRYPTION_KEYS", keys)
    with pytest.raises(RuntimeError, match="TOKEN_ENCRYPTION_KEYS"):
        create_app()


@pytest.mark.parametrize("name", ["DATABASE_URL", "REDIS_URL"])
def test_production_refuses_to_start_without_its_services(prod_env, name):
    prod_env.delenv(name)
    with pytest.raises(RuntimeError, match=name):
        create_app()


@pytest.mark.parametrize(("name", "value"), [("QBO_CLIENT_ID", "sandbox-client-id"),
                                           ("QBO_CLIENT_SECRET", "sandbox-client-secret")])
def test_production_refuses_the_sandbox_qbo_credentials(prod_env, name, value):
    prod_env.setenv("QBO_ENVIRONMENT", "production")
    prod_env.setenv("QBO_CLIENT_ID", "ABcdRealIntuitClientId0123456789")
    prod_env.setenv("QBO_CLIENT_SECRET", "RealIntuitSecret0123456789abcdef")
    assert create_app().config["QBO_CLIENT_SECRET"].startswith("RealIntuit")
    prod_env.setenv(name, value)
    with pytest.raises(RuntimeError, match=name):
        create_app()
