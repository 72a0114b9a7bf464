"""Customizations (admins only): billable types and categories with their QuickBooks codes,
and the firm setting that decides which code an invoice line uses.

Nothing here is ever deleted: invoices and time entries keep pointing at their category, so
types and categories are deactivated (hidden from new work) instead.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from portal.auth.access import admin_required, db_id, firm_id, get_for_firm, scoped
from portal.customizations.forms import CategoryForm, RollupForm, TypeForm
from portal.customizations.qbo_check import QboCheck, live_check, status
from portal.extensions import db
from portal.models import BillableCategory, BillableType, Firm

bp = Blueprint("customizations", __name__)


def _types() -> list[BillableType]:
    return list(
        db.session.execute(
            scoped(BillableType).order_by(BillableType.active.desc(), BillableType.name)
        ).scalars()
    )


def _name_taken(model: type, name: str, exclude_id: int | None) -> bool:
    """Names are unique per firm and per kind, compared without regard to case."""
    stmt = scoped(model).where(db.func.lower(model.name) == name.lower())
    if exclude_id is not None:
        stmt = stmt.where(model.id != exclude_id)
    return db.session.execute(stmt.limit(1)).first() is not None


def _commit_or_name_clash(form, message: str) -> bool:
    """Commit; a concurrent save of the same name (unique constraint) becomes a field error."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        form.name.errors.append(message)
        return False
    return True


def _status() -> int:
    return 422 if request.method == "POST" else 200


@bp.route("/")
@admin_required
def index():
    firm = db.session.get(Firm, firm_id())
    rollup_form = RollupForm(invoice_rollup=firm.invoice_rollup)
    types = _types()
    qbo_check: QboCheck = live_check(firm, types)
    return render_template(
        "customizations/index.html", types=types, firm=firm, rollup_form=rollup_form,
        qbo_check=qbo_check,
    )


@bp.route("/qbo-check")
@admin_required
def qbo_check_status():
    """JSON for static/js/customizations_check.js: are the QuickBooks answers cached yet, or
    did the check fail? Reads Redis only: no QBO call, nothing queued."""
    firm = db.session.get(Firm, firm_id())
    return jsonify(status(firm, _types()))


@bp.route("/rollup", methods=["POST"])
@admin_required
def rollup():
    firm = db.session.get(Firm, firm_id())
    form = RollupForm()
    if not form.validate_on_submit():
        flash("Choose whether invoices roll up by category or by type.", "danger")
        return redirect(url_for("customizations.index"))
    if firm.invoice_rollup != form.invoice_rollup.data:
        firm.invoice_rollup = form.invoice_rollup.data
        db.session.commit()
        current_app.logger.info("event=rollup_changed firm=%s rollup=%s by=%s", firm.id,
                                firm.invoice_rollup, current_user.id)
    flash(f"Invoice lines now use the code of their {firm.invoice_rollup}.", "success")
    return redirect(url_for("customizations.index"))


# --- Billable types ---------------------------------------------------------------------------


@bp.route("/types/new", methods=["GET", "POST"])
@bp.route("/types/<int:type_id>/edit", methods=["GET", "POST"])
@admin_required
def edit_type(type_id: int | None = None):
    btype = get_for_firm(BillableType, type_id) if type_id else None
    form = TypeForm(obj=btype)
    if form.validate_on_submit():
        clash = f"A billable type named “{form.name.data}” already exists."
        if _name_taken(BillableType, form.name.data, btype.id if btype else None):
            form.name.errors.append(clash)
        else:
            if btype is None:
                btype = BillableType(firm_id=firm_id())
                db.session.add(btype)
            btype.name = form.name.data
            btype.code = form.code.data or None
            if _commit_or_name_clash(form, clash):
                flash(f"Saved the billable type {btype.name}.", "success")
                return redirect(url_for("customizations.index"))
    return render_template("customizations/type_form.html", form=form, btype=btype), _status()


@bp.route("/types/<int:type_id>/deactivate", methods=["POST"])
@admin_required
def deactivate_type(type_id: int):
    btype = get_for_firm(BillableType, type_id)
    active = [c for c in btype.categories if c.active]
    btype.active = False
    for category in active:
        category.active = False  # a category of a hidden type cannot be chosen either
    db.session.commit()
    note = f" and its {len(active)} active categories" if active else ""
    flash(f"Deactivated {btype.name}{note}. Existing invoices and time keep them.", "success")
    return redirect(url_for("customizations.index"))


@bp.route("/types/<int:type_id>/reactivate", methods=["POST"])
@admin_required
def reactivate_type(type_id: int):
    btype = get_for_firm(BillableType, type_id)
    btype.active = True
    db.session.commit()
    flash(f"Reactivated {btype.name}. Reactivate the categories you need under it.", "success")
    return redirect(url_for("customizations.index"))


# --- Billable categories ----------------------------------------------------------------------


@bp.route("/categories/new", methods=["GET", "POST"])
@bp.route("/categories/<int:category_id>/edit", methods=["GET", "POST"])
@admin_required
def edit_category(category_id: int | None = None):
    category = get_for_firm(BillableCategory, category_id) if category_id else None
    types = _types()
    if not any(t.active for t in types) and category is None:
        flash("Add a billable type first: every category belongs to a type.", "info")
        return redirect(url_for("customizations.edit_type"))
    form = CategoryForm(obj=category)
    form.set_types(types, category.type_id if category else None)
    if request.method == "GET" and category is None:
        wanted = request.args.get("type_id", type=db_id)
        if wanted in {t.id for t in types if t.active}:
            form.type_id.data = wanted
    if form.validate_on_submit():
        clash = f"A category named “{form.name.data}” already exists."
        if _name_taken(BillableCategory, form.name.data, category.id if category else None):
            form.name.errors.append(clash)
        else:
            if category is None:
                category = BillableCategory(firm_id=firm_id())
                db.session.add(category)
            category.type_id = form.type_id.data
            category.name = form.name.data
            category.code = form.code.data or None
            if _commit_or_name_clash(form, clash):
                flash(f"Saved the category {category.name}.", "success")
                return redirect(url_for("customizations.index"))
    return (
        render_template("customizations/category_form.html", form=form, category=category),
        _status(),
    )


@bp.route("/categories/<int:category_id>/deactivate", methods=["POST"])
@admin_required
def deactivate_category(category_id: int):
    category = get_for_firm(BillableCategory, category_id)
    category.active = False
    db.session.commit()
    flash(f"Deactivated {category.name}: it can no longer be chosen for new time or "
          "invoice lines. Existing ones keep it.", "success")
    return redirect(url_for("customizations.index"))


@bp.route("/categories/<int:category_id>/reactivate", methods=["POST"])
@admin_required
def reactivate_category(category_id: int):
    category = get_for_firm(BillableCategory, category_id)
    if not category.type.active:
        flash(f"Reactivate the type {category.type.name} first: {category.name} belongs to it.",
              "danger")
        return redirect(url_for("customizations.index"))
    category.active = True
    db.session.commit()
    flash(f"Reactivated {category.name}.", "success")
    return redirect(url_for("customizations.index"))
