"""Run a parsed Query over a realm's stored entities and shape QBO's QueryResponse body."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qbo_sandbox.query_values import id_key, lookup, matches, sort_key

if TYPE_CHECKING:
    from qbo_sandbox.query import Query


def execute(q: Query, entities: list[dict]) -> dict:
    """The inner ``QueryResponse`` object for ``q`` over ALL stored ``entities`` of q.entity.

    - ``{"totalCount": N}`` for COUNT(*) (paging ignored);
    - ``{}`` when the page is empty (QBO omits the entity key, reference §3);
    - else ``{q.entity: [...], "startPosition": n, "maxResults": <count returned>}``.

    The entity dicts are returned as given (not copied); serialize, don't mutate them.
    """
    found = [e for e in entities if _selected(q, e)]
    if q.count:
        return {"totalCount": len(found)}
    found.sort(key=lambda e: id_key(e.get("Id", "")))
    for item in reversed(q.order_by):  # stable sorts, last key first
        found.sort(
            key=lambda e: sort_key(item.kind, lookup(e, item.path)),
            reverse=item.descending,
        )
    page = found[q.start_position - 1 : q.start_position - 1 + q.max_results]
    if not page:
        return {}
    return {q.entity: page, "startPosition": q.start_position, "maxResults": len(page)}


def _selected(q: Query, entity: dict) -> bool:
    if q.active_only and entity.get("Active", True) is False:
        return False
    return all(matches(c.field, c.op, c.values, entity) for c in q.where)
