"""Configuration: production refuses to start without its secrets or with development defaults."""

from __future__ import annotations

import pytest

from portal import create_app
from portal.config import DEV_SECRET_KEY, DEV_TOKEN_KEY

GOOD_KEY = "K" * 43 + "="  # the shape of a Fernet key; never used to encrypt here
PROD_ENV = {
    "PORTAL_ENV": "production",
    "SECRET_KEY": "a-real-random-secret-key-of-at-least-32-chars",
    "DATABASE_URL": "postgresql+psycopg://portal@db.internal/portal",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "TOKEN_ENCRYPTION_KEYS": GOOD_KEY,
}


@pytest.fixture
def prod_env(monkeypatch):
    for name, value in PROD_ENV.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_production_starts_with_every_secret_set(prod_env):
    app = create_app()
    assert app.config["ENV_NAME"] == "production"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == PROD_ENV["DATABASE_URL"]
    assert app.config["REDIS_URL"] == PROD_ENV["REDIS_URL"]
    assert app.config["TOKEN_ENCRYPTION_KEYS"] == [GOOD_KEY]
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["QBO_ENVIRONMENT"] == "production"


@pytest.mark.parametrize("name", ["SECRET_KEY", "DATABASE_URL", "REDIS_URL",
                                  "TOKEN_ENCRYPTION_KEYS"])
@pytest.mark.parametrize("how", ["unset", "empty"])
def test_production_refuses_to_start_without(prod_env, name, how):
    if how == "unset":
        prod_env.delenv(name)
    else:
        prod_env.setenv(name, "")
    with pytest.raises(RuntimeError, match=f"missing: {name}"):
        create_app()


def test_production_names_every_missing_setting(prod_env):
    for name in ("SECRET_KEY", "REDIS_URL"):
        prod_env.delenv(name)
    with pytest.raises(RuntimeError, match="missing: SECRET_KEY, REDIS_URL"):
        create_app()


@pytest.mark.parametrize("secret", [DEV_SECRET_KEY, "short-but-not-default"])
def test_production_refuses_a_development_or_weak_secret_key(prod_env, secret):
    prod_env.setenv("SECRET_KEY", secret)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()


def test_production_refuses_the_development_token_key(prod_env):
    prod_env.setenv("TOKEN_ENCRYPTION_KEYS", f"{GOOD_KEY},{DEV_TOKEN_KEY}")
    with pytest.raises(RuntimeError, match="development key"):
        create_app()


def test_an_unknown_environment_is_refused(monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "staging")
    with pytest.raises(RuntimeError, match="PORTAL_ENV"):
        create_app()


def test_development_defaults_need_no_services(monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "development")
    for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "TOKEN_ENCRYPTION_KEYS",
                 "QBO_ENVIRONMENT", "QBO_LOCAL_URL"):
        monkeypatch.delenv(name, raising=False)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("var/portal.db")
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.config["REDIS_URL"] is None  # -> the embedded Redis
    assert app.config["QBO_ENVIRONMENT"] == "local"
    assert app.config["QBO_LOCAL_URL"] == "http://127.0.0.1:8765"
    assert app.config["TOKEN_ENCRYPTION_KEYS"] == [DEV_TOKEN_KEY]


def test_the_test_config_follows_database_and_redis_urls(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/portal-config-test.db")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/9")
    app = create_app({"TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:////tmp/portal-config-test.db"
    assert app.config["REDIS_URL"] == "redis://127.0.0.1:6379/9"
    assert app.config["SECRET_KEY"] == "test-secret-key"
