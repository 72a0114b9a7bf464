from tests.conftest import PASSWORD


def test_login_page_renders(browser):
    response = browser.get("/login")
    assert response.status_code == 200
    assert b"Sign in" in response.data


def test_login_with_wrong_password_shows_message(browser, admin):
    response = browser.post("/login", {"email": admin.email, "password": "nope-nope-nope"})
    assert response.status_code == 422
    assert b"Email or password is not correct." in response.data


def test_login_and_logout(browser, admin):
    browser.login(admin)
    assert browser.get("/dashboard").status_code == 200
    browser.logout()
    assert browser.get("/dashboard").status_code == 302


def test_login_without_csrf_is_refused(browser, admin):
    response = browser.post("/login", {"email": admin.email, "password": PASSWORD}, csrf=False)
    assert response.status_code == 400


def test_deactivated_user_cannot_sign_in(browser, admin, db):
    admin.active = False
    db.session.commit()
    response = browser.post("/login", {"email": admin.email, "password": PASSWORD})
    assert response.status_code == 422
    assert b"deactivated" in response.data


def test_logout_invalidates_copied_session_cookie(app, browser, admin):
    browser.login(admin)
    stolen = browser.client.get_cookie("portal_session").value
    browser.logout()
    other = app.test_client()
    other.set_cookie("portal_session", stolen)
    assert other.get("/dashboard").status_code == 302


def test_idle_session_ends_after_timeout(app, browser, admin):
    browser.login(admin)
    with browser.client.session_transaction() as sess:
        sess["seen_at"] -= app.config["SESSION_IDLE_TIMEOUT"].total_seconds() + 1
    response = browser.get("/dashboard")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_absolute_session_lifetime(app, browser, admin):
    browser.login(admin)
    with browser.client.session_transaction() as sess:
        sess["login_at"] -= app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() + 1
    assert browser.get("/dashboard").status_code == 302


def test_security_headers_on_pages(browser, admin):
    anonymous = browser.get("/login")
    csp = anonymous.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert anonymous.headers["X-Content-Type-Options"] == "nosniff"
    assert anonymous.headers["Referrer-Policy"] == "same-origin"
    browser.login(admin)
    assert browser.get("/dashboard").headers["Cache-Control"] == "no-store"


def test_trace_is_refused(client):
    assert client.open("/login", method="TRACE").status_code == 405


def test_repeated_failures_throttle_that_account_from_that_address_only(app, browser, admin):
    for _ in range(5):
        browser.post("/login", {"email": admin.email, "password": "wrong-password"})
    blocked = browser.post("/login", {"email": admin.email, "password": PASSWORD})
    assert blocked.status_code == 429
    # The real user, from another address, still gets in.
    elsewhere = app.test_client()
    from tests.conftest import Browser

    other = Browser(elsewhere)
    token = other.csrf_token()
    response = elsewhere.post(
        "/login",
        data={"email": admin.email, "password": PASSWORD, "csrf_token": token},
        environ_base={"REMOTE_ADDR": "10.9.8.7"},
    )
    assert response.status_code == 302


def test_open_redirect_after_login_is_ignored(browser, admin):
    response = browser.post("/login?next=https://evil.example/", {"email": admin.email,
                                                                  "password": PASSWORD})
    assert response.headers["Location"].endswith("/dashboard")
