"""Users screen: admins only; add/edit with validation; the rules that keep a firm
administrable; deactivation ends the person's sessions server-side."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.models import User
from tests.conftest import PASSWORD, Browser, user_of

NEW_PASSWORD = "a sturdy new passphrase"


def _form(**overrides) -> dict:
    data = {
        "name": "Carla Reyes",
        "email": "Carla.Reyes@Firm.example ",
        "role": "staff",
        "hourly_rate": "110.50",
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
    }
    data.update(overrides)
    return data


def _user_by_email(db, email: str) -> User | None:
    db.session.expire_all()
    return db.session.execute(db.select(User).where(User.email == email)).scalar_one_or_none()


@pytest.mark.parametrize("role", ["staff", "manager"])
@pytest.mark.parametrize(
    "method,url",
    [("get", "/users/"), ("get", "/users/new"), ("post", "/users/new")],
)
def test_non_admins_get_403(browser, firm, role, method, url):
    browser.login(user_of(firm, role))
    response = browser.get(url) if method == "get" else browser.post(url, _form())
    assert response.status_code == 403


def test_non_admin_cannot_deactivate_or_edit(browser, firm, manager, staff, db):
    browser.login(manager)
    assert browser.get(f"/users/{staff.id}/edit").status_code == 403
    assert browser.post(f"/users/{staff.id}/deactivate").status_code == 403
    db.session.expire_all()
    assert db.session.get(User, staff.id).active


def test_list_shows_name_email_role_rate_and_status(browser, admin, staff, db):
    staff.active = False
    db.session.commit()
    browser.login(admin)
    page = browser.get("/users/").get_data(as_text=True)
    assert admin.name in page and admin.email in page
    assert staff.name in page and "100.00" in page
    assert "Inactive" in page and "Reactivate" in page
    assert "Manager" in page


def test_list_search_and_status_filter(browser, admin, manager, staff, db):
    browser.login(admin)
    page = browser.get("/users/?q=manager").get_data(as_text=True)
    assert manager.email in page and staff.email not in page
    staff.active = False
    db.session.commit()
    page = browser.get("/users/?status=inactive").get_data(as_text=True)
    assert staff.email in page and manager.email not in page


def test_list_is_scoped_to_the_firm(browser, admin, make_firm):
    other = make_firm("Other Firm")
    browser.login(admin)
    page = browser.get("/users/").get_data(as_text=True)
    assert user_of(other, "staff").email not in page


def test_other_firms_user_is_404(browser, admin, make_firm, db):
    other_staff = user_of(make_firm("Other Firm"), "staff")
    browser.login(admin)
    assert browser.get(f"/users/{other_staff.id}/edit").status_code == 404
    assert browser.post(f"/users/{other_staff.id}/deactivate").status_code == 404
    db.session.expire_all()
    assert db.session.get(User, other_staff.id).active


def test_admin_adds_a_user_who_can_sign_in(browser, admin, firm, db, app):
    browser.login(admin)
    response = browser.post("/users/new", _form())
    assert response.status_code == 302
    user = _user_by_email(db, "carla.reyes@firm.example")
    assert user is not None
    assert user.firm_id == firm.id and user.role == "staff"
    assert user.hourly_rate == Decimal("110.50")
    assert user.check_password(NEW_PASSWORD)
    page = browser.get("/users/").get_data(as_text=True)
    assert "Carla Reyes was added as staff" in page

    other = app.test_client()

    Browser(other).login(user, NEW_PASSWORD)


@pytest.mark.parametrize(
    "overrides,field_message",
    [
        ({"name": "  "}, "Enter the person&#39;s name."),
        ({"email": "not-an-email"}, "Enter a valid email address"),
        ({"email": ""}, "Enter an email address."),
        ({"hourly_rate": "-5"}, "The amount cannot be negative."),
        ({"hourly_rate": "10.555"}, "Use at most 2 decimals"),
        ({"hourly_rate": "ten"}, "Enter a number"),
        ({"hourly_rate": "NaN"}, "Enter a number"),
        ({"hourly_rate": ""}, "Enter an amount"),
        ({"role": "owner"}, "Not a valid choice"),
        ({"password": "", "confirm": ""}, "Choose a password for the new user."),
        ({"password": "short", "confirm": "short"}, "Use at least 8 characters."),
        ({"password": "password123", "confirm": "password123"}, "too common"),
        ({"password": "carla.reyes@firm.example", "confirm": "carla.reyes@firm.example"},
         "Do not use the email address"),
        ({"confirm": "something else entirely"}, "The two passwords do not match."),
    ],
)
def test_add_user_validation(browser, admin, db, overrides, field_message):
    browser.login(admin)
    response = browser.post("/users/new", _form(**overrides))
    assert response.status_code == 422
    assert field_message in response.get_data(as_text=True)
    assert _user_by_email(db, "carla.reyes@firm.example") is None


def test_email_is_unique_across_the_portal(browser, admin, make_firm, db):
    other_staff = user_of(make_firm("Other Firm"), "staff")
    browser.login(admin)
    response = browser.post("/users/new", _form(email=other_staff.email.upper()))
    assert response.status_code == 422
    assert "A user with this email already exists" in response.get_data(as_text=True)
    count = db.session.execute(
        db.select(db.func.count()).select_from(User).where(User.email == other_staff.email)
    ).scalar_one()
    assert count == 1


def test_edit_user_changes_fields_and_keeps_password(browser, admin, staff, db):
    browser.login(admin)
    response = browser.post(
        f"/users/{staff.id}/edit",
        _form(name="Staff Renamed", email="renamed@firm.example", role="manager",
              hourly_rate="120", password="", confirm=""),
    )
    assert response.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, staff.id)
    assert (user.name, user.email, user.role) == ("Staff Renamed", "renamed@firm.example",
                                                  "manager")
    assert user.hourly_rate == Decimal("120.00")
    assert user.check_password(PASSWORD)


def test_edit_page_shows_current_values(browser, admin, staff):
    browser.login(admin)
    page = browser.get(f"/users/{staff.id}/edit").get_data(as_text=True)
    assert staff.email in page and 'value="100.00"' in page and "Reset password" in page


def test_edit_email_clash_is_refused(browser, admin, staff, manager, db):
    browser.login(admin)
    response = browser.post(f"/users/{staff.id}/edit",
                            _form(email=manager.email, password="", confirm=""))
    assert response.status_code == 422
    assert "A user with this email already exists" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, staff.id).email != manager.email


def test_password_reset_ends_the_users_sessions(browser, admin, staff, app, db):

    theirs = Browser(app.test_client())
    theirs.login(staff)
    browser.login(admin)
    response = browser.post(f"/users/{staff.id}/edit",
                            _form(email=staff.email, name=staff.name,
                                  password=NEW_PASSWORD, confirm=NEW_PASSWORD))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, staff.id).check_password(NEW_PASSWORD)
    assert theirs.get("/dashboard").status_code == 302  # signed out


def test_admin_resetting_own_password_stays_signed_in(browser, admin, db):
    browser.login(admin)
    response = browser.post(f"/users/{admin.id}/edit",
                            _form(email=admin.email, name=admin.name, role="admin",
                                  password=NEW_PASSWORD, confirm=NEW_PASSWORD))
    assert response.status_code == 302
    assert browser.get("/dashboard").status_code == 200


def test_admin_cannot_demote_self(browser, admin, firm, db):
    second = User(firm_id=firm.id, email="second@firm.example", name="Second Admin",
                  role="admin")
    second.set_password(PASSWORD)
    db.session.add(second)
    db.session.commit()
    browser.login(admin)
    response = browser.post(f"/users/{admin.id}/edit",
                            _form(email=admin.email, role="manager", password="", confirm=""))
    assert response.status_code == 422
    assert "You cannot remove your own admin role" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).role == "admin"


def test_admin_can_demote_another_admin(browser, admin, firm, db):
    second = User(firm_id=firm.id, email="second@firm.example", name="Second Admin",
                  role="admin")
    second.set_password(PASSWORD)
    db.session.add(second)
    db.session.commit()
    browser.login(admin)
    response = browser.post(f"/users/{second.id}/edit",
                            _form(email=second.email, name=second.name, role="staff",
                                  password="", confirm=""))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, second.id).role == "staff"


def test_last_admin_cannot_be_demoted(browser, admin, db):
    browser.login(admin)
    response = browser.post(f"/users/{admin.id}/edit",
                            _form(email=admin.email, role="staff", password="", confirm=""))
    assert response.status_code == 422
    assert "last active admin" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).role == "admin"


def test_last_admin_cannot_be_deactivated(browser, admin, db):
    browser.login(admin)
    response = browser.post(f"/users/{admin.id}/deactivate", follow_redirects=True)
    assert "last active admin" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).active


def test_inactive_admin_does_not_count_as_another_admin(browser, admin, firm, db):
    dormant = User(firm_id=firm.id, email="dormant@firm.example", name="Dormant Admin",
                   role="admin", active=False)
    dormant.set_password(PASSWORD)
    db.session.add(dormant)
    db.session.commit()
    browser.login(admin)
    response = browser.post(f"/users/{admin.id}/edit",
                            _form(email=admin.email, role="staff", password="", confirm=""))
    assert "last active admin" in response.get_data(as_text=True)


def test_admin_cannot_deactivate_self(browser, admin, firm, db):
    second = User(firm_id=firm.id, email="second@firm.example", name="Second Admin",
                  role="admin")
    second.set_password(PASSWORD)
    db.session.add(second)
    db.session.commit()
    browser.login(admin)
    response = browser.post(f"/users/{admin.id}/deactivate", follow_redirects=True)
    assert "You cannot deactivate your own account" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).active


def test_deactivation_ends_the_users_session_and_reactivation_does_not_revive_it(
    browser, admin, staff, app, db
):

    theirs = Browser(app.test_client())
    theirs.login(staff)
    assert theirs.get("/dashboard").status_code == 200

    browser.login(admin)
    response = browser.post(f"/users/{staff.id}/deactivate", follow_redirects=True)
    assert "was deactivated" in response.get_data(as_text=True)
    db.session.expire_all()
    assert not db.session.get(User, staff.id).active

    first = theirs.get("/dashboard")
    assert first.status_code == 302 and "/login" in first.headers["Location"]

    browser.post(f"/users/{staff.id}/reactivate")
    db.session.expire_all()
    assert db.session.get(User, staff.id).active
    assert theirs.get("/dashboard").status_code == 302  # the old session stays ended
    theirs.login(staff)  # but they can sign in again
    assert theirs.get("/dashboard").status_code == 200


def test_deactivate_requires_post_and_csrf(browser, admin, staff, db):
    browser.login(admin)
    assert browser.get(f"/users/{staff.id}/deactivate").status_code == 405
    assert browser.post(f"/users/{staff.id}/deactivate", csrf=False).status_code == 400
    db.session.expire_all()
    assert db.session.get(User, staff.id).active
