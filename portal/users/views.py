"""Users (admins only): list, add, edit, deactivate and reactivate the firm's people.

Deactivation bumps the user's session_version, which the user loader compares on every
request, so the person's open sessions end at once, on every device, server-side.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user
from sqlalchemy.exc import IntegrityError

from portal.auth.access import admin_required, firm_id, get_for_firm, page_number, scoped
from portal.extensions import db
from portal.models import User
from portal.users import rules
from portal.users.forms import UserForm

bp = Blueprint("users", __name__)

EMAIL_TAKEN = (
    "A user with this email already exists. Every person signs in with their own email "
    "address; use a different one."
)
STATUS_FILTERS = {"active": True, "inactive": False}


@bp.route("/")
@admin_required
def index():
    q = (request.args.get("q") or "").strip()
    status = request.args.get("status", "")
    stmt = scoped(User)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(db.or_(db.func.lower(User.name).like(like), User.email.like(like)))
    if status in STATUS_FILTERS:
        stmt = stmt.where(User.active.is_(STATUS_FILTERS[status]))
    stmt = stmt.order_by(User.active.desc(), User.name, User.id)
    page = db.paginate(
        stmt,
        page=page_number(),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    return render_template("users/index.html", page=page, q=q, status=status)


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def create():
    form = UserForm(creating=True)
    if form.validate_on_submit():
        if rules.email_taken(form.email.data):
            form.email.errors.append(EMAIL_TAKEN)
        else:
            user = User(
                firm_id=firm_id(),
                name=form.name.data,
                email=form.email.data,
                role=form.role.data,
                hourly_rate=form.rate_value,
            )
            user.set_password(form.password.data)
            db.session.add(user)
            if _commit_or_email_clash(form):
                current_app.logger.info(
                    "event=user_created firm=%s user=%s by=%s", user.firm_id, user.id,
                    current_user.id,
                )
                flash(f"{user.name} was added as {user.role}. They can sign in now.", "success")
                return redirect(url_for("users.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("users/form.html", form=form, user=None), status


@bp.route("/<int:user_id>/edit", methods=["GET", "POST"])
@admin_required
def edit(user_id: int):
    user = get_for_firm(User, user_id)
    form = UserForm(obj=user, creating=False)
    if request.method == "GET":
        form.hourly_rate.data = f"{user.hourly_rate:.2f}"
    if form.validate_on_submit():
        problem = rules.role_change_problem(current_user, user, form.role.data)
        if problem:
            form.role.errors.append(problem)
        if rules.email_taken(form.email.data, exclude_user_id=user.id):
            form.email.errors.append(EMAIL_TAKEN)
        if not form.role.errors and not form.email.errors:
            user.name = form.name.data
            user.email = form.email.data
            user.role = form.role.data
            user.hourly_rate = form.rate_value
            reset = bool(form.password.data)
            if reset:
                user.set_password(form.password.data)
                # A reset ends every session that signed in with the old password.
                user.session_version += 1
            if _commit_or_email_clash(form):
                if reset and user.id == current_user.id:
                    login_user(user)  # keep the admin who reset their own password signed in
                message = f"Saved {user.name}."
                if reset:
                    message += " The new password is in effect; other sessions were signed out."
                flash(message, "success")
                return redirect(url_for("users.index"))
        db.session.rollback()
    status = 422 if request.method == "POST" else 200
    return render_template("users/form.html", form=form, user=user), status


@bp.route("/<int:user_id>/deactivate", methods=["POST"])
@admin_required
def deactivate(user_id: int):
    user = get_for_firm(User, user_id)
    problem = rules.deactivation_problem(current_user, user)
    if problem:
        db.session.rollback()
        flash(problem, "danger")
        return redirect(url_for("users.index"))
    user.active = False
    user.session_version += 1  # ends their sessions now, wherever they are signed in
    db.session.commit()
    current_app.logger.info(
        "event=user_deactivated firm=%s user=%s by=%s", user.firm_id, user.id, current_user.id
    )
    flash(f"{user.name} was deactivated and signed out everywhere. Their time entries "
          "and history are kept.", "success")
    return redirect(url_for("users.index"))


@bp.route("/<int:user_id>/reactivate", methods=["POST"])
@admin_required
def reactivate(user_id: int):
    user = get_for_firm(User, user_id)
    if user.active:
        flash(f"{user.name} is already active.", "info")
        return redirect(url_for("users.index"))
    user.active = True
    db.session.commit()
    current_app.logger.info(
        "event=user_reactivated firm=%s user=%s by=%s", user.firm_id, user.id, current_user.id
    )
    flash(f"{user.name} was reactivated and can sign in again.", "success")
    return redirect(url_for("users.index"))


def _commit_or_email_clash(form: UserForm) -> bool:
    """Commit; a concurrent insert of the same email (unique index) becomes a field error."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        form.email.errors.append(EMAIL_TAKEN)
        return False
    return True
