"""An in-memory mirror of the live entities of each (realm, type), with value indexes.

Why: the store keeps JSON text in SQLite, so every query and every DisplayName uniqueness
check used to parse (or ``json_extract``) every stored row. With 10,000 customers a push of
10,000 clients became quadratic and the sandbox, not QBO's limits, set the pace. The mirror
holds each live document parsed once (rebuilt only when a document changes) and keeps
``value -> ids`` indexes built on first use and updated on every write.

Contract: SQLite stays the source of truth. The store updates the mirror under its lock on
every entity write and drops the touched tables on a rollback (they reload lazily). Mirror
documents are shared and must never be mutated: readers copy what they hand out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterable
from typing import Any

KeyFn = Callable[[dict[str, Any]], Hashable | None]


class Table:
    """Live documents of one (realm, type) by integer Id, plus lazily built indexes."""

    def __init__(self, rows: Iterable[tuple[int, str]]) -> None:
        self.docs: dict[int, dict[str, Any]] = {int(i): json.loads(text) for i, text in rows}
        self._indexes: dict[Hashable, tuple[KeyFn, dict[Hashable, set[int]]]] = {}

    def put(self, eid: int, doc: dict[str, Any] | None) -> None:
        """Replace (or with None remove) a document, keeping every built index in step."""
        old = self.docs.pop(eid, None)
        if doc is not None:
            self.docs[eid] = doc
        for keyfn, index in self._indexes.values():
            if old is not None:
                key = keyfn(old)
                if key is not None:
                    ids = index.get(key)
                    if ids is not None:
                        ids.discard(eid)
                        if not ids:
                            del index[key]
            if doc is not None:
                key = keyfn(doc)
                if key is not None:
                    index.setdefault(key, set()).add(eid)

    def lookup(self, name: Hashable, keyfn: KeyFn, keys: Iterable[Hashable]) -> list[int]:
        """Ids (ascending) whose ``keyfn(doc)`` is one of ``keys``; ``name`` names the index."""
        entry = self._indexes.get(name)
        if entry is None:
            index: dict[Hashable, set[int]] = {}
            for eid, doc in self.docs.items():
                key = keyfn(doc)
                if key is not None:
                    index.setdefault(key, set()).add(eid)
            entry = self._indexes[name] = (keyfn, index)
        index = entry[1]
        found: set[int] = set()
        for key in keys:
            found |= index.get(key, set())
        return sorted(found)


def extract(doc: dict[str, Any], field: str) -> Any:
    """``json_extract(doc, '$.a.b')`` for a dotted field (None when a step is missing)."""
    value: Any = doc
    for step in field.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(step)
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))  # SQLite hands containers back as text
    return value
