"""Customizations: admins only; types and categories with QuickBooks codes; the roll-up
setting; names unique per firm; codes QuickBooks would refuse are refused here."""

from __future__ import annotations

import pytest

from portal.models import BillableCategory, BillableType, Firm
from tests.conftest import user_of


def _type(db, firm, name="Tax") -> BillableType:
    db.session.expire_all()
    return db.session.execute(
        db.select(BillableType).where(BillableType.firm_id == firm.id, BillableType.name == name)
    ).scalar_one_or_none()


def _category(db, firm, name="Individual tax return") -> BillableCategory:
    db.session.expire_all()
    return db.session.execute(
        db.select(BillableCategory).where(
            BillableCategory.firm_id == firm.id, BillableCategory.name == name
        )
    ).scalar_one_or_none()


@pytest.mark.parametrize("role", ["staff", "manager"])
def test_non_admins_get_403(browser, firm, role, db):
    tax = _type(db, firm)
    browser.login(user_of(firm, role))
    assert browser.get("/customizations/").status_code == 403
    assert browser.get("/customizations/types/new").status_code == 403
    assert browser.post("/customizations/rollup", {"invoice_rollup": "type"}).status_code == 403
    assert browser.post(f"/customizations/types/{tax.id}/deactivate").status_code == 403
    assert _type(db, firm).active
    assert db.session.get(Firm, firm.id).invoice_rollup == "category"


def test_page_lists_types_categories_codes_and_qbo_column(browser, admin):
    browser.login(admin)
    page = browser.get("/customizations/").get_data(as_text=True)
    for text in ("Tax", "TAX", "Individual tax return", "TAX-IND", "In QuickBooks",
                 "Check after connecting QuickBooks", "Invoices roll up by"):
        assert text in page


def test_page_is_scoped_to_the_firm(browser, admin, make_firm, db):
    other = make_firm("Other Firm")
    db.session.add(BillableType(firm_id=other.id, name="Secret Type", code="SECRET"))
    db.session.commit()
    browser.login(admin)
    assert "Secret Type" not in browser.get("/customizations/").get_data(as_text=True)
    other_type = _type(db, other, "Secret Type")
    assert browser.get(f"/customizations/types/{other_type.id}/edit").status_code == 404
    assert browser.post(f"/customizations/types/{other_type.id}/deactivate").status_code == 404
    assert _type(db, other, "Secret Type").active


def test_add_type_trims_code(browser, admin, firm, db):
    browser.login(admin)
    response = browser.post("/customizations/types/new",
                            {"name": "  Accounting ", "code": "  ACCOUNTING  "})
    assert response.status_code == 302
    btype = _type(db, firm, "Accounting")
    assert btype is not None and btype.code == "ACCOUNTING" and btype.active


def test_add_type_with_blank_code_is_allowed_and_flagged(browser, admin, firm, db):
    browser.login(admin)
    browser.post("/customizations/types/new", {"name": "Advisory", "code": "   "})
    assert _type(db, firm, "Advisory").code is None
    assert "No code" in browser.get("/customizations/").get_data(as_text=True)


@pytest.mark.parametrize(
    "data,message",
    [
        ({"name": "", "code": "X"}, "Enter a name for the billable type."),
        ({"name": "tax", "code": "X"}, "A billable type named “tax” already exists."),
        ({"name": "Payroll", "code": "Payroll:Monthly"}, "does not allow a colon"),
        ({"name": "Payroll", "code": "Pay\troll"}, "does not allow a tab"),
        ({"name": "Payroll", "code": "Pay\nroll"}, "does not allow a line break"),
        ({"name": "Payroll", "code": "P" * 101}, "Use at most 100 characters"),
        ({"name": "P" * 101, "code": "P"}, "Field cannot be longer than 100 characters."),
    ],
)
def test_add_type_validation(browser, admin, firm, db, data, message):
    browser.login(admin)
    response = browser.post("/customizations/types/new", data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    count = db.session.execute(
        db.select(db.func.count()).select_from(BillableType).where(BillableType.firm_id == firm.id)
    ).scalar_one()
    assert count == 1


def test_type_name_may_repeat_in_another_firm(browser, admin, make_firm, firm, db):
    make_firm("Other Firm")  # also has a type "Tax"
    browser.login(admin)
    response = browser.post(f"/customizations/types/{_type(db, firm).id}/edit",
                            {"name": "Tax", "code": "TAX-2"})
    assert response.status_code == 302
    assert _type(db, firm).code == "TAX-2"


def test_code_at_exactly_100_chars_is_accepted(browser, admin, firm, db):
    browser.login(admin)
    browser.post("/customizations/types/new", {"name": "Long", "code": "L" * 100})
    assert _type(db, firm, "Long").code == "L" * 100


def test_edit_category_and_move_to_another_type(browser, admin, firm, db):
    db.session.add(BillableType(firm_id=firm.id, name="Accounting", code="ACCOUNTING"))
    db.session.commit()
    accounting = _type(db, firm, "Accounting")
    category = _category(db, firm)
    browser.login(admin)
    assert "Individual tax return" in browser.get(
        f"/customizations/categories/{category.id}/edit").get_data(as_text=True)
    response = browser.post(f"/customizations/categories/{category.id}/edit",
                            {"type_id": accounting.id, "name": "Individual return",
                             "code": " IND "})
    assert response.status_code == 302
    moved = _category(db, firm, "Individual return")
    assert (moved.type_id, moved.code) == (accounting.id, "IND")


def test_add_category_under_type(browser, admin, firm, db):
    db.session.add(BillableType(firm_id=firm.id, name="Accounting", code="ACCOUNTING"))
    db.session.commit()
    tax = _type(db, firm)
    accounting = _type(db, firm, "Accounting")
    browser.login(admin)
    page = browser.get(f"/customizations/categories/new?type_id={tax.id}").get_data(as_text=True)
    assert f'<option selected value="{tax.id}">Tax' in page
    assert f'<option value="{accounting.id}">Accounting' in page
    response = browser.post("/customizations/categories/new",
                            {"type_id": tax.id, "name": "Business tax return", "code": "TAX-BUS"})
    assert response.status_code == 302
    category = _category(db, firm, "Business tax return")
    assert category.type_id == tax.id and category.code == "TAX-BUS"
    assert "Saved the category Business tax return." in browser.get(
        "/customizations/").get_data(as_text=True)


@pytest.mark.parametrize(
    "data,message",
    [
        ({"name": "individual TAX return", "code": "X"}, "A category named"),
        ({"name": "", "code": "X"}, "Enter a name for the category."),
        ({"name": "Estates", "code": "EST:ATE"}, "does not allow a colon"),
        ({"name": "Estates", "code": "E" * 101}, "Use at most 100 characters"),
        ({"name": "Estates", "code": "E", "type_id": "999999"}, "Choose one of your firm"),
    ],
)
def test_add_category_validation(browser, admin, firm, db, data, message):
    data.setdefault("type_id", _type(db, firm).id)
    browser.login(admin)
    response = browser.post("/customizations/categories/new", data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _category(db, firm, "Estates") is None


def test_category_cannot_use_another_firms_type(browser, admin, firm, make_firm, db):
    other_type = _type(db, make_firm("Other Firm"))
    browser.login(admin)
    response = browser.post("/customizations/categories/new",
                            {"type_id": other_type.id, "name": "Sneaky", "code": "S"})
    assert response.status_code == 422
    assert _category(db, firm, "Sneaky") is None


def test_deactivating_a_type_deactivates_its_categories(browser, admin, firm, db):
    tax = _type(db, firm)
    browser.login(admin)
    response = browser.post(f"/customizations/types/{tax.id}/deactivate", follow_redirects=True)
    assert "Deactivated Tax and its 1 active categories" in response.get_data(as_text=True)
    assert not _type(db, firm).active
    assert not _category(db, firm).active

    # A category cannot come back while its type is inactive.
    category = _category(db, firm)
    response = browser.post(f"/customizations/categories/{category.id}/reactivate",
                            follow_redirects=True)
    assert "Reactivate the type Tax first" in response.get_data(as_text=True)
    assert not _category(db, firm).active

    browser.post(f"/customizations/types/{tax.id}/reactivate")
    browser.post(f"/customizations/categories/{category.id}/reactivate")
    assert _type(db, firm).active and _category(db, firm).active


def test_deactivate_category(browser, admin, firm, db):
    category = _category(db, firm)
    browser.login(admin)
    assert browser.get(f"/customizations/categories/{category.id}/deactivate").status_code == 405
    response = browser.post(f"/customizations/categories/{category.id}/deactivate",
                            follow_redirects=True)
    assert "Deactivated Individual tax return" in response.get_data(as_text=True)
    assert not _category(db, firm).active
    assert _type(db, firm).active


def test_rollup_setting(browser, admin, firm, db):
    browser.login(admin)
    response = browser.post("/customizations/rollup", {"invoice_rollup": "type"},
                            follow_redirects=True)
    assert "Invoice lines now use the code of their type." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Firm, firm.id).invoice_rollup == "type"
    category = _category(db, firm)
    assert category.code_for(db.session.get(Firm, firm.id).invoice_rollup) == "TAX"

    response = browser.post("/customizations/rollup", {"invoice_rollup": "client"},
                            follow_redirects=True)
    assert "Choose whether invoices roll up by category or by type." in response.get_data(
        as_text=True)
    db.session.expire_all()
    assert db.session.get(Firm, firm.id).invoice_rollup == "type"


def test_rollup_needs_csrf(browser, admin, firm, db):
    browser.login(admin)
    assert browser.post("/customizations/rollup", {"invoice_rollup": "type"},
                        csrf=False).status_code == 400
    db.session.expire_all()
    assert db.session.get(Firm, firm.id).invoice_rollup == "category"


def test_new_category_without_any_active_type_redirects_to_add_type(browser, admin, firm, db):
    _type(db, firm).active = False
    db.session.commit()
    browser.login(admin)
    response = browser.get("/customizations/categories/new")
    assert response.status_code == 302 and "/customizations/types/new" in response.headers[
        "Location"]


def test_empty_state(browser, admin, firm, db):
    db.session.execute(db.delete(BillableCategory))
    db.session.execute(db.delete(BillableType))
    db.session.commit()
    browser.login(admin)
    assert "No billable types yet" in browser.get("/customizations/").get_data(as_text=True)
