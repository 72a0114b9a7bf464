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
