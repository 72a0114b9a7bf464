"""The rules that keep a firm administrable: nobody locks themselves out, and a firm always
keeps at least one active admin. Views ask these functions before changing a user; they
return the message to show, or None when the change is allowed."""

from __future__ import annotations

from portal.extensions import db
from portal.models import User

LAST_ADMIN = (
    "{name} is the firm's last active admin. Make another user an admin first, "
    "so someone can still manage users, customizations and integrations."
)


def _other_active_admins(target: User) -> int:
    """Active admins of the target's firm other than the target.

    The rows are locked (FOR UPDATE on PostgreSQL) so two admins demoting each other at the
    same moment cannot both pass the check and leave the firm with none.
    """
    ids = db.session.execute(
        db.select(User.id)
        .where(
            User.firm_id == target.firm_id,
            User.role == "admin",
            User.active.is_(True),
            User.id != target.id,
        )
        .with_for_update()
    ).scalars().all()
    return len(ids)


def _removes_admin(target: User) -> bool:
    return target.role == "admin" and target.active


def role_change_problem(actor: User, target: User, new_role: str) -> str | None:
    """Why `actor` may not give `target` the role `new_role`, or None."""
    if new_role == target.role or not _removes_admin(target) or new_role == "admin":
        return None
    if _other_active_admins(target) == 0:
        return LAST_ADMIN.format(name=target.name)
    if actor.id == target.id:
        return "You cannot remove your own admin role. Ask another admin to do it."
    return None


def deactivation_problem(actor: User, target: User) -> str | None:
    """Why `actor` may not deactivate `target`, or None."""
    if not target.active:
        return f"{target.name} is already inactive."
    if _removes_admin(target) and _other_active_admins(target) == 0:
        return LAST_ADMIN.format(name=target.name)
    if actor.id == target.id:
        return "You cannot deactivate your own account. Ask another admin to do it."
    return None


def email_taken(email: str, exclude_user_id: int | None = None) -> bool:
    """Emails are unique across the whole portal (they are the sign-in name), not per firm."""
    stmt = db.select(User.id).where(db.func.lower(User.email) == email.strip().lower())
    if exclude_user_id is not None:
        stmt = stmt.where(User.id != exclude_user_id)
    return db.session.execute(stmt.limit(1)).first() is not None
