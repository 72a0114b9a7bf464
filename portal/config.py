"""Configuration classes. Every setting is named once here; the environment is read when a
config object is instantiated (by the factory), never at import.

Secrets have defaults only in development and test; `ProductionConfig.validate()` refuses to
start when one is missing or still a development default.
"""

from __future__ import annotations

import os
from datetime import timedelta

DEV_SECRET_KEY = "dev-not-secret"  # noqa: S105 - development only, refused in production
# A fixed Fernet key for development/test only (refused in production).
DEV_TOKEN_KEY = "u7x0yF3m6f0nWm1mQm1pYl8x8Jm3qk3v0WmA0s2V7bQ="  # noqa: S105


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _csv(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    REDIS_URL: str | None = None  # None -> an embedded Redis is started (dev/test only)
    TOKEN_ENCRYPTION_KEYS: list[str] = []  # newest first; older keys still decrypt

    # Sessions (DESIGN §4: the sandbox shares the host, so the cookie name is our own).
    SESSION_COOKIE_NAME = "portal_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    WTF_CSRF_TIME_LIMIT = None  # token lives as long as the session

    # QuickBooks Online.
    QBO_ENVIRONMENT = "local"  # local | sandbox | production
    QBO_CLIENT_ID: str | None = None
    QBO_CLIENT_SECRET: str | None = None
    QBO_REDIRECT_URI: str | None = None
    QBO_LOCAL_URL = "http://127.0.0.1:8765"  # the qbo_sandbox base URL when QBO_ENVIRONMENT=local
    QBO_MINOR_VERSION = 75
    QBO_HTTP_TIMEOUT = 30.0
    QBO_CONNECT_TIMEOUT = 5.0
    # Retries (only 429, 5xx, timeouts and dropped connections; same requestid every time).
    QBO_MAX_ATTEMPTS = 5
    QBO_RETRY_BASE_SECONDS = 0.5
    QBO_RETRY_MAX_SECONDS = 30.0
    QBO_THROTTLE_WAIT_SECONDS = 60.0  # when a 429 carries no Retry-After
    QBO_BATCH_MAX_ITEMS = 30
    # Our own governor, just under QBO's per-realm limits (reference §5).
    QBO_GOVERNOR_ENABLED = True
    QBO_RATE_LIMIT_PER_MINUTE = 480
    QBO_BATCH_LIMIT_PER_MINUTE = 38
    QBO_MAX_CONCURRENT = 10
    QBO_RATE_WINDOW_SECONDS = 60.0  # shrink with the sandbox's time scale in benchmarks
    QBO_GOVERNOR_MAX_WAIT = 300.0

    # Jobs.
    RQ_QUEUE = "portal"
    SYNC_JOB_TIMEOUT = 1800  # seconds
    SYNC_LOCK_TTL = 2400  # longer than the job timeout, so a dead worker's lock expires
    SYNC_INTERVAL_CRON = "0 * * * *"  # hourly

    PAGE_SIZE = 25
    # Largest request body accepted (413 above it): forms only, no uploads; a 300-line invoice
    # with long descriptions fits. Without it multipart bodies of any size spool to disk.
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 - werkzeug scrypt, n=2**15 r=8 p=1

    def validate(self) -> None:
        """Raise RuntimeError when the configuration cannot run safely."""


class DevelopmentConfig(Config):
    ENV_NAME = "development"

    def __init__(self) -> None:
        self.SECRET_KEY = _env("SECRET_KEY", DEV_SECRET_KEY)
        self.SQLALCHEMY_DATABASE_URI = _env(
            "DATABASE_URL", "sqlite:///" + os.path.abspath("var/portal.db")
        )
        self.REDIS_URL = _env("REDIS_URL")
        self.TOKEN_ENCRYPTION_KEYS = _csv(_env("TOKEN_ENCRYPTION_KEYS", DEV_TOKEN_KEY))
        self.QBO_ENVIRONMENT = _env("QBO_ENVIRONMENT", "local")
        self.QBO_CLIENT_ID = _env("QBO_CLIENT_ID", "sandbox-client-id")
        self.QBO_CLIENT_SECRET = _env("QBO_CLIENT_SECRET", "sandbox-client-secret")
        self.QBO_REDIRECT_URI = _env(
            "QBO_REDIRECT_URI", "http://127.0.0.1:5000/integrations/quickbooks/callback"
        )
        self.QBO_LOCAL_URL = _env("QBO_LOCAL_URL", Config.QBO_LOCAL_URL)


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key"  # noqa: S105
    TOKEN_ENCRYPTION_KEYS = [DEV_TOKEN_KEY]
    QBO_CLIENT_ID = "sandbox-client-id"
    QBO_CLIENT_SECRET = "sandbox-client-secret"  # noqa: S105
    QBO_REDIRECT_URI = "http://localhost/integrations/quickbooks/callback"
    # Still scrypt, with a work factor cheap enough for hundreds of tests.
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"  # noqa: S105

    def __init__(self) -> None:
        # CI points the suite at PostgreSQL and Redis; bare machines use SQLite + embedded Redis.
        self.SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", "sqlite://")
        self.REDIS_URL = _env("REDIS_URL")


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True

    def __init__(self) -> None:
        self.SECRET_KEY = _env("SECRET_KEY")
        self.SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL")
        self.REDIS_URL = _env("REDIS_URL")
        self.TOKEN_ENCRYPTION_KEYS = _csv(_env("TOKEN_ENCRYPTION_KEYS"))
        self.QBO_ENVIRONMENT = _env("QBO_ENVIRONMENT", "production")
        self.QBO_CLIENT_ID = _env("QBO_CLIENT_ID")
        self.QBO_CLIENT_SECRET = _env("QBO_CLIENT_SECRET")
        self.QBO_REDIRECT_URI = _env("QBO_REDIRECT_URI")
        self.QBO_LOCAL_URL = _env("QBO_LOCAL_URL", Config.QBO_LOCAL_URL)

    def validate(self) -> None:
        required = {
            "SECRET_KEY": self.SECRET_KEY,
            "DATABASE_URL": self.SQLALCHEMY_DATABASE_URI,
            "REDIS_URL": self.REDIS_URL,
            "TOKEN_ENCRYPTION_KEYS": self.TOKEN_ENCRYPTION_KEYS,
        }
        missing = [name for name, value in required.items() if not value]
        if missing:
            raise RuntimeError("Production configuration is missing: " + ", ".join(missing))
        if self.SECRET_KEY == DEV_SECRET_KEY or len(self.SECRET_KEY or "") < 32:
            raise RuntimeError("SECRET_KEY must be a random value of at least 32 characters")
        if DEV_TOKEN_KEY in self.TOKEN_ENCRYPTION_KEYS:
            raise RuntimeError("TOKEN_ENCRYPTION_KEYS still holds the development key")


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


def config_from_env() -> Config:
    """An instance of the config class named by PORTAL_ENV (default development)."""
    name = os.environ.get("PORTAL_ENV", "development")
    if name not in CONFIGS:
        raise RuntimeError(f"PORTAL_ENV must be one of {', '.join(CONFIGS)}; got {name!r}")
    return CONFIGS[name]()
