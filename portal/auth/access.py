"""Access control helpers: role decorators and the one firm-scoped loader every view uses."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

from portal.extensions import db

M = TypeVar("M")
# Ids are positive and fit PostgreSQL's INTEGER (the narrowest id column we have). Anything
# else (a hand-made URL or form) cannot exist, and binding it would fail in the database
# (PostgreSQL: "integer out of range"; SQLite: OverflowError) instead of finding nothing.
MAX_ID = 2**31 - 1


def valid_id(number: int) -> bool:
    return 1 <= number <= MAX_ID


def db_id(value: str) -> int:
    """``type=`` for ids read from a request: an id that can exist, else ValueError, which
    werkzeug's ``get``/``getlist`` treat as a missing value."""
    number = int(value)
    if not valid_id(number):
        raise ValueError("id out of range")
    return number


def role_required(*roles: str) -> Callable:
    """Signed-in users whose role is one of `roles` pass; others get 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


admin_required = role_required("admin")
approver_required = role_required("admin", "manager")


def firm_id() -> int:
    """The current user's firm: the scope of every query a view makes."""
    return current_user.firm_id


def scoped(model: type[M]) -> Any:
    """`select(model)` already filtered to the current firm."""
    return db.select(model).where(model.firm_id == current_user.firm_id)


def get_for_firm(model: type[M], object_id: int) -> M:
    """Load `model` by id within the current firm, or 404 (never 403: ids of other firms
    must not be distinguishable from ids that do not exist)."""
    if not valid_id(object_id):
        abort(404)
    obj = db.session.execute(
        db.select(model).where(model.id == object_id, model.firm_id == current_user.firm_id)
    ).scalar_one_or_none()
    if obj is None:
        abort(404)
    return obj


MAX_PAGE = 100_000


def page_number() -> int:
    """The `page` query argument as a sane page number (1..MAX_PAGE; anything else is page 1
    or the last allowed page), so a hostile value can never reach the database as an OFFSET."""
    from flask import request

    page = request.args.get("page", 1, type=int) or 1
    return min(max(page, 1), MAX_PAGE)
