"""The per-entity rules interface (hooks the service layer calls around each write)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..service import Ctx


class Rules:
    """Hooks an entity implements; defaults suit a plain name-list entity."""

    entity = ""
    creatable = True
    deletable = False
    voidable = False
    keep_on_full_update: frozenset[str] = frozenset()

    def prepare(
        self, ctx: Ctx, doc: dict[str, Any], old: dict[str, Any] | None, opts: dict[str, Any]
    ) -> None:
        """Validate ``doc`` (the would-be stored object) and fill defaults/derived fields."""

    def after_save(self, ctx: Ctx, doc: dict[str, Any], old: dict[str, Any] | None) -> None:
        """Side effects on other entities (balances, links), inside the same transaction."""

    def before_delete(self, ctx: Ctx, doc: dict[str, Any]) -> None:
        """Undo side effects before a transaction is hard-deleted."""

    def void(self, ctx: Ctx, doc: dict[str, Any]) -> None:
        """Zero a transaction in place (the caller saves it)."""

    def after_void(self, ctx: Ctx, doc: dict[str, Any], old: dict[str, Any]) -> None:
        """Side effects of a void, after the voided object is saved."""
