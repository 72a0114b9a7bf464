"""Which billable codes exist in QBO as usable Products/Services (I1, I2).

One query answers for every code at once (``Name IN (...)`` with inactive items included, so an
inactive item can be told apart from a missing one); answers are cached briefly in Redis per
firm and realm, so the Customizations page can show the live check on every visit without
spending QBO calls, and a push can ask for fresh answers (one query per run).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from flask import current_app
from redis.exceptions import RedisError

from portal.qbo.client import QboClient, escape
from portal.qbo.mapping.invoices import (
    CATEGORY,
    FOUND,
    INACTIVE,
    MISSING,
    USABLE_TYPES,
    WRONG_TYPE,
    ItemInfo,
    code_key,
)
from portal.redis_conn import get_redis

log = logging.getLogger("portal.sync")

CACHE_SECONDS = 120
QUERY_BUDGET = 3000  # characters of IN (...) values per query; more codes -> another query


def cache_key(firm_id: int, realm_id: str) -> str:
    return f"portal:qbo:items:{firm_id}:{realm_id}"


def classify(code: str, item: dict[str, Any] | None) -> ItemInfo:
    """One code's status from the QBO Item that carries its Name (None: no such item)."""
    if item is None:
        return ItemInfo(code, MISSING)
    kind = str(item.get("Type") or "")
    info = dict(item_id=str(item["Id"]), name=item.get("Name"), item_type=kind)
    if kind == "Category":
        return ItemInfo(code, CATEGORY, **info)
    if item.get("Active") is False:
        return ItemInfo(code, INACTIVE, **info)
    if kind not in USABLE_TYPES:
        return ItemInfo(code, WRONG_TYPE, **info)
    return ItemInfo(code, FOUND, **info)


def _statements(codes: list[str]) -> list[str]:
    groups: list[list[str]] = [[]]
    size = 0
    for code in codes:
        literal = escape(code)
        if groups[-1] and size + len(literal) > QUERY_BUDGET:
            groups.append([])
            size = 0
        groups[-1].append(literal)
        size += len(literal) + 2
    return [f"SELECT * FROM Item WHERE Name IN ({', '.join(group)}) "  # noqa: S608 - QBO query
            "AND Active IN (true, false) MAXRESULTS 1000" for group in groups if group]


def _best(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """code key -> item; an active usable item wins over an inactive or category namesake."""
    rank = {FOUND: 0, WRONG_TYPE: 1, INACTIVE: 2, CATEGORY: 3}
    best: dict[str, dict[str, Any]] = {}
    for item in items:
        key = code_key(str(item.get("Name") or ""))
        current = best.get(key)
        if current is None or (rank[classify(key, item).status]
                               < rank[classify(key, current).status]):
            best[key] = item
    return best


def query_items(qbo: QboClient, codes: Iterable[str]) -> dict[str, ItemInfo]:
    """Ask QBO now: code key -> ItemInfo for every code (missing ones included)."""
    wanted = sorted({code.strip() for code in codes if code and code.strip()}, key=code_key)
    if not wanted:
        return {}
    found: list[dict[str, Any]] = []
    for statement in _statements(wanted):
        found.extend(qbo.query(statement).get("Item") or [])
    best = _best(found)
    return {code_key(code): classify(code, best.get(code_key(code))) for code in wanted}


def lookup_items(qbo: QboClient, firm_id: int, codes: Iterable[str], *, fresh: bool = False
                 ) -> dict[str, ItemInfo]:
    """code key -> ItemInfo; cached answers are used unless ``fresh``; new answers are cached."""
    wanted = {code_key(c): c.strip() for c in codes if c and c.strip()}
    if not wanted:
        return {}
    key = cache_key(firm_id, qbo.realm_id)
    answers: dict[str, ItemInfo] = {} if fresh else _cached(key, list(wanted))
    missing = [wanted[k] for k in wanted if k not in answers]
    if missing:
        fetched = query_items(qbo, missing)
        answers.update(fetched)
        _store(key, fetched)
    return answers


def forget(firm_id: int, realm_id: str) -> None:
    """Drop the firm's cached answers (an item error on push says they are out of date)."""
    try:
        get_redis().delete(cache_key(firm_id, realm_id))
    except RedisError:
        log.warning("items_cache firm=%s state=forget_failed", firm_id)


def _ttl() -> int:
    return int(current_app.config.get("QBO_ITEMS_CACHE_SECONDS", CACHE_SECONDS))


def _cached(key: str, keys: list[str]) -> dict[str, ItemInfo]:
    try:
        raw = get_redis().hmget(key, keys)
    except RedisError:
        return {}  # the cache is an optimisation: without Redis, ask QBO
    out: dict[str, ItemInfo] = {}
    for k, value in zip(keys, raw, strict=True):
        if value:
            out[k] = ItemInfo(**json.loads(value))
    return out


def _store(key: str, answers: dict[str, ItemInfo]) -> None:
    if not answers or _ttl() <= 0:
        return
    mapping = {k: json.dumps(asdict(info)) for k, info in answers.items()}
    try:
        redis = get_redis()
        fresh_key = not redis.exists(key)
        redis.hset(key, mapping=mapping)
        if fresh_key or redis.ttl(key) < 0:
            redis.expire(key, _ttl())  # the whole answer set expires together, briefly
    except RedisError:
        log.warning("items_cache key=%s state=store_failed", key)
