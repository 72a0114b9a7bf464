"""Sessions and passwords: cookie flags (dev and a real production app), rotation at sign-in,
server-side end of sessions, configurable idle/absolute timeouts, password rules, scrypt.

tests/test_auth.py already covers: logout invalidating a copied cookie, the default idle and
absolute timeouts, throttling, and the basic open-redirect case; this module extends them.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from werkzeug.security import check_password_hash, generate_password_hash

from portal import config as portal_config
from portal import create_app
from portal.extensions import db as _db
from portal.models import Firm, User
from tests.conftest import PASSWORD, Browser

SANDBOX_COOKIE = "qbo_sandbox_session"  # qbo_sandbox.app.SESSION_COOKIE
HTTPS = "https://portal.example"
PROD_PASSWORD = "a long and unusual pass phrase"


def set_cookie_headers(response) -> list[str]:
    return response.headers.getlist("Set-Cookie")


def session_cookie_header(response, name: str = "portal_session") -> str:
    matches = [h for h in set_cookie_headers(response) if h.startswith(f"{name}=")]
    assert matches, f"no {name} cookie in {set_cookie_headers(response)}"
    return matches[-1]


def cookie_value(browser: Browser) -> str | None:
    cookie = browser.client.get_cookie("portal_session")
    return cookie.value if cookie else None


def decode_session(app, value: str) -> dict:
    serializer = app.session_interface.get_signing_serializer(app)
    return dict(serializer.loads(value))


# -- cookie flags --------------------------------------------------------------------------------
def test_cookie_flags_in_every_config():
    for config in (portal_config.DevelopmentConfig, portal_config.TestConfig,
                   portal_config.ProductionConfig):
        assert config.SESSION_COOKIE_HTTPONLY is True
        assert config.SESSION_COOKIE_SAMESITE == "Lax"
        assert config.REMEMBER_COOKIE_HTTPONLY is True
        assert config.SESSION_COOKIE_NAME not in ("session", SANDBOX_COOKIE)
        assert config.SESSION_IDLE_TIMEOUT == timedelta(minutes=30)
        assert config.PERMANENT_SESSION_LIFETIME == timedelta(hours=12)
    assert portal_config.ProductionConfig.SESSION_COOKIE_SECURE is True
    assert portal_config.ProductionConfig.REMEMBER_COOKIE_SECURE is True


def test_session_cookie_name_differs_from_the_sandboxs():
    from qbo_sandbox.app import SESSION_COOKIE

    assert SESSION_COOKIE == SANDBOX_COOKIE
    assert portal_config.TestConfig.SESSION_COOKIE_NAME != SESSION_COOKIE


def test_cookie_sent_in_test_config_is_httponly_and_lax(browser):
    header = session_cookie_header(browser.get("/login"))
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header


@pytest.fixture
def prod_app(monkeypatch, tmp_path):
    """A production app exactly as a deployment would build it from its environment."""
    env = {
        "PORTAL_ENV": "production",
        "SECRET_KEY": "s3cr3t-" + "x7Kq9" * 7,  # 42 characters
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}",
        "REDIS_URL": "redis://127.0.0.1:1/0",  # unreachable: sign-in throttling fails open
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = create_app()
    with app.app_context():
        _db.create_all()
        firm = Firm(name="Prod Firm")
        _db.session.add(firm)
        _db.session.flush()
        user = User(firm_id=firm.id, email="owner@prod.example", name="Owner", role="admin")
        user.set_password(PROD_PASSWORD)
        _db.session.add(user)
        _db.session.commit()
        _db.session.remove()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


def prod_login(app):
    client = app.test_client()
    page = client.get("/login", base_url=HTTPS).get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    response = client.post(
        "/login",
        base_url=HTTPS,
        data={"email": "owner@prod.example", "password": PROD_PASSWORD, "csrf_token": token},
        headers={"Referer": f"{HTTPS}/login"},  # Flask-WTF checks it over HTTPS
    )
    return client, response


def test_production_config_and_cookies_actually_sent(prod_app):
    assert prod_app.config["SESSION_COOKIE_SECURE"] is True
    assert prod_app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert prod_app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert prod_app.config["PASSWORD_HASH_METHOD"] == "scrypt"
    client, response = prod_login(prod_app)
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard")
    header = session_cookie_header(response)
    for attribute in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert attribute in header, f"{attribute} missing from {header}"
    assert "Domain=" not in header  # host-only: never shared with sibling hosts
    page = client.get("/dashboard", base_url=HTTPS)
    assert page.status_code == 200
    assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert page.headers["Cache-Control"] == "no-store"


def test_production_hashes_with_full_strength_scrypt(prod_app):
    with prod_app.app_context():
        stored = _db.session.execute(_db.select(User.password_hash)).scalar_one()
    assert stored.startswith("scrypt:32768:8:1$")
    assert check_password_hash(stored, PROD_PASSWORD)


def test_no_hsts_outside_production(browser):
    assert "Strict-Transport-Security" not in browser.get("/login").headers


# -- the session's content and rotation ----------------------------------------------------------
def test_session_cookie_holds_no_credentials(app, browser, admin):
    browser.login(admin)
    data = decode_session(app, cookie_value(browser))
    text = repr(data)
    assert PASSWORD not in text and admin.password_hash not in text
    assert admin.email not in text
    assert data["_user_id"] == f"{admin.id}:{admin.session_version}"


def test_session_is_rotated_at_sign_in(app, browser, admin):
    browser.get("/login")
    with browser.client.session_transaction() as sess:
        sess["planted_before_login"] = "attacker-chosen"
    before = cookie_value(browser)
    pre_login_token = browser.csrf_token()
    browser.login(admin)
    after = cookie_value(browser)
    assert after and after != before
    data = decode_session(app, after)
    assert "planted_before_login" not in data
    assert "csrf_token" not in data  # the pre-login CSRF secret is gone too
    # A CSRF token learned before sign-in does not work after it.
    response = browser.post("/clients/new", {"csrf_token": pre_login_token}, csrf=False)
    assert response.status_code == 400


def test_a_fixed_pre_login_cookie_does_not_become_signed_in(app, browser, admin):
    browser.get("/login")
    fixed = cookie_value(browser)  # what an attacker could have planted in the victim's browser
    browser.login(admin)
    attacker = app.test_client()
    attacker.set_cookie("portal_session", fixed)
    response = attacker.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# -- sessions end server-side --------------------------------------------------------------------
def copy_of_session(app, browser: Browser):
    copy = app.test_client()
    copy.set_cookie("portal_session", cookie_value(browser))
    assert copy.get("/dashboard").status_code == 200
    return copy


def test_deactivation_ends_sessions_even_after_reactivation(app, db, browser, admin, staff):
    staff_browser = Browser(app.test_client())
    staff_browser.login(staff)
    stolen = copy_of_session(app, staff_browser)
    browser.login(admin)
    assert browser.post(f"/users/{staff.id}/deactivate").status_code == 302
    assert staff_browser.get("/dashboard").status_code == 302
    assert stolen.get("/dashboard").status_code == 302
    assert browser.post(f"/users/{staff.id}/reactivate").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, staff.id).active
    assert stolen.get("/dashboard").status_code == 302  # the old cookie stays dead


def test_password_reset_by_admin_ends_the_users_sessions(app, browser, admin, staff):
    staff_browser = Browser(app.test_client())
    staff_browser.login(staff)
    stolen = copy_of_session(app, staff_browser)
    browser.login(admin)
    response = browser.post(f"/users/{staff.id}/edit", {
        "name": staff.name, "email": staff.email, "role": "staff", "hourly_rate": "100.00",
        "password": "an entirely new pass phrase", "confirm": "an entirely new pass phrase",
    })
    assert response.status_code == 302
    assert stolen.get("/dashboard").status_code == 302
    assert browser.get("/dashboard").status_code == 200  # the admin is unaffected


def test_logout_ends_every_copy_not_only_this_browsers(app, browser, admin):
    browser.login(admin)
    copy = copy_of_session(app, browser)
    browser.logout()
    assert copy.get("/dashboard").status_code == 302
    assert copy.post("/logout", data={}).status_code in (302, 400)


# -- timeouts are configuration, not constants ----------------------------------------------------
def age_session(browser: Browser, idle: timedelta = timedelta(0),
                since_login: timedelta = timedelta(0)) -> None:
    with browser.client.session_transaction() as sess:
        sess["seen_at"] -= idle.total_seconds()
        sess["login_at"] -= since_login.total_seconds()


def test_idle_timeout_follows_configuration(app, browser, admin):
    app.config["SESSION_IDLE_TIMEOUT"] = timedelta(minutes=5)
    browser.login(admin)
    age_session(browser, idle=timedelta(minutes=4))
    assert browser.get("/dashboard").status_code == 200  # and the idle clock restarts
    age_session(browser, idle=timedelta(minutes=4))
    assert browser.get("/dashboard").status_code == 200
    age_session(browser, idle=timedelta(minutes=6))
    response = browser.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert browser.get("/clients/").status_code == 302  # really signed out, not just once


def test_activity_never_extends_past_the_absolute_lifetime(app, browser, admin):
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=2)
    browser.login(admin)
    age_session(browser, since_login=timedelta(hours=1, minutes=59))
    assert browser.get("/dashboard").status_code == 200
    age_session(browser, since_login=timedelta(minutes=2))  # active all along, 2h01 in total
    assert browser.get("/dashboard").status_code == 302


def test_an_expired_session_answers_json_callers_with_401(app, browser, admin):
    browser.login(admin)
    age_session(browser, idle=timedelta(hours=1))
    response = browser.get("/dashboard", headers={"Accept": "application/json"})
    assert response.status_code == 401 and response.json["error"] == "signed_out"
    assert browser.get("/dashboard").status_code == 302  # and the session is gone


def test_a_session_without_login_time_is_refused(app, browser, admin):
    browser.login(admin)
    with browser.client.session_transaction() as sess:
        del sess["login_at"]
    assert browser.get("/dashboard").status_code == 302


# -- passwords ------------------------------------------------------------------------------------
def add_user(browser: Browser, email: str, password: str, confirm: str | None = None):
    return browser.post("/users/new", {
        "name": "New Person", "email": email, "role": "staff", "hourly_rate": "90.00",
        "password": password, "confirm": password if confirm is None else confirm,
    })


def stored_user(db, email: str) -> User | None:
    db.session.expire_all()
    return db.session.execute(db.select(User).where(User.email == email)).scalar_one_or_none()


@pytest.mark.parametrize(("password", "message"), [
    ("short7!", "at least 8 characters"),
    ("password123", "too common"),
    ("Password123", "too common"),
    ("qwerty123", "too common"),
    ("x" * 129, "at most"),
])
def test_users_screen_refuses_weak_passwords(browser, db, admin, password, message):
    browser.login(admin)
    response = add_user(browser, "weak@firm.example", password)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert stored_user(db, "weak@firm.example") is None


@pytest.mark.parametrize("password", ["eightch!", "p" * 30 + " long phrase " + "q" * 21,
                                      "Ω unicode pässwörd ✓", "z" * 128])
def test_users_screen_accepts_good_passwords_up_to_at_least_64(browser, db, admin, password):
    browser.login(admin)
    assert add_user(browser, "good@firm.example", password).status_code == 302
    user = stored_user(db, "good@firm.example")
    assert user.password_hash.startswith("scrypt:")
    assert password not in user.password_hash
    assert user.check_password(password)
    fresh = Browser(browser.client.application.test_client())
    assert fresh.post("/login", {"email": user.email, "password": password}).status_code == 302


def test_a_64_character_password_works_end_to_end(browser, db, admin):
    password = "correct horse battery staple " * 2 + "zebras"
    assert len(password) == 64
    browser.login(admin)
    assert add_user(browser, "long@firm.example", password).status_code == 302
    fresh = Browser(browser.client.application.test_client())
    assert fresh.post("/login", {"email": "long@firm.example",
                                 "password": password}).status_code == 302


def test_reset_password_on_edit_follows_the_same_rules(browser, db, admin, staff):
    browser.login(admin)
    before = staff.password_hash
    response = browser.post(f"/users/{staff.id}/edit", {
        "name": staff.name, "email": staff.email, "role": "staff", "hourly_rate": "100.00",
        "password": "letmein1", "confirm": "letmein1",
    })
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(User, staff.id).password_hash == before


@pytest.mark.parametrize(("password", "ok"), [
    ("short", False), ("password123", False), ("a sound pass phrase", True), ("k" * 64, True),
])
def test_create_user_cli_applies_the_password_rules(app, db, runner, firm, password, ok):
    result = runner.invoke(args=["create-user", "--firm", str(firm.id), "--email",
                                 "cli@firm.example", "--name", "Cli Person", "--role", "staff",
                                 "--password", password])
    user = stored_user(db, "cli@firm.example")
    if ok:
        assert result.exit_code == 0, result.output
        assert user.password_hash.startswith("scrypt:") and user.check_password(password)
    else:
        assert result.exit_code != 0
        assert user is None
    assert password not in result.output  # never echoed


def test_test_config_still_uses_scrypt(app, admin):
    assert admin.password_hash.startswith("scrypt:")
    assert generate_password_hash("x", method=app.config["PASSWORD_HASH_METHOD"]).startswith(
        "scrypt:")
