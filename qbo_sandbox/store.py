"""SQLite storage: JSON documents per row, one lock for the whole store.

Why one lock: the sandbox is a test double, not a database server. Serialising every
read-modify-write makes SyncToken checks, DisplayName uniqueness and requestid replay exact
under the threaded server, and SQLite is fast enough for QBO's own limits (500 req/min/realm).
In-memory by default; a file path makes state survive restarts.

Reads that would scan a whole entity type (queries, name uniqueness) go through an in-memory
mirror of parsed live documents with value indexes (``mirror.py``), so a realm with 10,000
customers answers a DisplayName lookup without parsing 10,000 JSON rows.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .mirror import KeyFn, Table, extract

SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
  ns TEXT NOT NULL, key TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (ns, key));
CREATE TABLE IF NOT EXISTS entity (
  realm TEXT NOT NULL, type TEXT NOT NULL, id INTEGER NOT NULL, doc TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0, updated REAL NOT NULL, PRIMARY KEY (realm, type, id));
CREATE INDEX IF NOT EXISTS entity_updated ON entity (realm, type, updated);
CREATE TABLE IF NOT EXISTS seq (realm TEXT NOT NULL, name TEXT NOT NULL, value INTEGER NOT NULL,
  PRIMARY KEY (realm, name));
"""


def _fold(value: object) -> str | None:
    """Case-insensitive, whitespace-trimmed key used for name uniqueness."""
    return value.strip().casefold() if isinstance(value, str) else None


class Store:
    """Thread-safe document store. Use ``with store.transaction():`` around multi-step writes."""

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self.lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.create_function("qbo_fold", 1, _fold, deterministic=True)
        self._db.executescript(SCHEMA)
        self._depth = 0
        self._mirror: dict[tuple[str, str], Table] = {}
        self._touched: set[tuple[str, str]] = set()

    def close(self) -> None:
        with self.lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Re-entrant: only the outermost block commits (or rolls back on error)."""
        with self.lock:
            if self._depth == 0:
                self._db.execute("BEGIN")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self._db.execute("ROLLBACK")
                    for key in self._touched:  # reload from SQLite on next use
                        self._mirror.pop(key, None)
                    self._touched.clear()
                raise
            self._depth -= 1
            if self._depth == 0:
                self._db.execute("COMMIT")
                self._touched.clear()

    # -- key/value documents (apps, users, companies, tokens, requestids) --------------------
    def get(self, ns: str, key: str) -> dict[str, Any] | None:
        with self.lock:
            row = self._db.execute("SELECT doc FROM kv WHERE ns=? AND key=?", (ns, key)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, ns: str, key: str, doc: dict[str, Any]) -> None:
        with self.lock:
            self._db.execute(
                "INSERT OR REPLACE INTO kv (ns, key, doc) VALUES (?, ?, ?)",
                (ns, key, json.dumps(doc)),
            )

    def delete(self, ns: str, key: str) -> None:
        with self.lock:
            self._db.execute("DELETE FROM kv WHERE ns=? AND key=?", (ns, key))

    def items(self, ns: str) -> list[tuple[str, dict[str, Any]]]:
        with self.lock:
            rows = self._db.execute(
                "SELECT key, doc FROM kv WHERE ns=? ORDER BY key", (ns,)
            ).fetchall()
        return [(k, json.loads(d)) for k, d in rows]

    # -- entities -----------------------------------------------------------------------------
    def get_entity(self, realm: str, etype: str, eid: int) -> tuple[dict[str, Any], bool] | None:
        with self.lock:
            row = self._db.execute(
                "SELECT doc, deleted FROM entity WHERE realm=? AND type=? AND id=?",
                (realm, etype, eid),
            ).fetchone()
        return (json.loads(row[0]), bool(row[1])) if row else None

    def put_entity(
        self,
        realm: str,
        etype: str,
        eid: int,
        doc: dict[str, Any],
        updated: float,
        deleted: bool = False,
    ) -> None:
        text = json.dumps(doc)
        with self.lock:
            self._db.execute(
                "INSERT OR REPLACE INTO entity (realm, type, id, doc, deleted, updated) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (realm, etype, eid, text, int(deleted), updated),
            )
            self._mirrored(realm, etype, eid, None if deleted else text)

    def replace_doc(self, realm: str, etype: str, eid: int, doc: dict[str, Any]) -> None:
        """Rewrite a document without touching its change time (derived fields such as Balance)."""
        text = json.dumps(doc)
        with self.lock:
            cur = self._db.execute(
                "UPDATE entity SET doc=? WHERE realm=? AND type=? AND id=? AND deleted=0",
                (text, realm, etype, eid),
            )
            if cur.rowcount:
                self._mirrored(realm, etype, eid, text)
            else:  # a tombstone (or nothing): same write as before, outside the mirror
                self._db.execute(
                    "UPDATE entity SET doc=? WHERE realm=? AND type=? AND id=?",
                    (text, realm, etype, eid),
                )

    def list_entities(self, realm: str, etype: str) -> list[dict[str, Any]]:
        """Every live (not deleted) entity of a type, in Id order."""
        with self.lock:
            rows = self._db.execute(
                "SELECT doc FROM entity WHERE realm=? AND type=? AND deleted=0 ORDER BY id",
                (realm, etype),
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def changed_since(
        self, realm: str, etype: str, since: float
    ) -> list[tuple[dict[str, Any], bool]]:
        with self.lock:
            rows = self._db.execute(
                "SELECT doc, deleted FROM entity WHERE realm=? AND type=? AND updated>? "
                "ORDER BY updated, id",
                (realm, etype, since),
            ).fetchall()
        return [(json.loads(d), bool(x)) for d, x in rows]

    def find_by_name(
        self, realm: str, types: tuple[str, ...], field: str, value: str
    ) -> list[tuple[str, str]]:
        """(type, Id) of live entities whose ``field`` equals ``value`` case-insensitively
        (trimmed), in Id order. Served by a mirror index, not a scan."""
        wanted = _fold(value)
        if wanted is None:
            return []

        def key(doc: dict[str, Any]) -> str | None:
            return _fold(extract(doc, field))

        found: list[tuple[int, str]] = []
        with self.lock:
            for etype in dict.fromkeys(types):
                ids = self._table(realm, etype).lookup(("fold", field), key, (wanted,))
                found += [(i, etype) for i in ids]
        found.sort(key=lambda pair: pair[0])
        return [(t, str(i)) for i, t in found]

    def select(
        self, realm: str, etype: str, index: tuple[Any, ...] | None = None,
        keyfn: KeyFn | None = None, keys: list[Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Live documents of a type, SHARED with the mirror: read them, never mutate them.

        With ``index``/``keyfn``/``keys``: only documents whose ``keyfn(doc)`` is one of
        ``keys`` (``index`` names the index kept for ``keyfn``). Id order.
        """
        with self.lock:
            table = self._table(realm, etype)
            if index is None or keyfn is None or keys is None:
                return [table.docs[i] for i in sorted(table.docs)]
            return [table.docs[i] for i in table.lookup(index, keyfn, keys)]

    def count_entities(self, realm: str) -> dict[str, int]:
        with self.lock:
            rows = self._db.execute(
                "SELECT type, COUNT(*) FROM entity WHERE realm=? AND deleted=0 GROUP BY type",
                (realm,),
            ).fetchall()
        return dict(rows)

    def next_id(self, realm: str, name: str, at_least: int = 1) -> int:
        """Allocate the next id of a sequence (never reused, even after deletes)."""
        with self.lock:
            row = self._db.execute(
                "SELECT value FROM seq WHERE realm=? AND name=?", (realm, name)
            ).fetchone()
            value = max(at_least, (row[0] + 1) if row else 1)
            self._db.execute(
                "INSERT OR REPLACE INTO seq (realm, name, value) VALUES (?, ?, ?)",
                (realm, name, value),
            )
        return value

    def bump_seq(self, realm: str, name: str, value: int) -> None:
        """Make sure the sequence is at least ``value`` (used when seeding fixed ids)."""
        with self.lock:
            row = self._db.execute(
                "SELECT value FROM seq WHERE realm=? AND name=?", (realm, name)
            ).fetchone()
            if not row or row[0] < value:
                self._db.execute(
                    "INSERT OR REPLACE INTO seq (realm, name, value) VALUES (?, ?, ?)",
                    (realm, name, value),
                )

    def wipe(self) -> None:
        with self.lock:
            self._db.executescript("DELETE FROM kv; DELETE FROM entity; DELETE FROM seq;")
            self._mirror.clear()
            self._touched.clear()

    # -- the mirror ---------------------------------------------------------------------------
    def _table(self, realm: str, etype: str) -> Table:
        """The mirror of one (realm, type), loaded from SQLite on first use. Hold the lock."""
        table = self._mirror.get((realm, etype))
        if table is None:
            rows = self._db.execute(
                "SELECT id, doc FROM entity WHERE realm=? AND type=? AND deleted=0",
                (realm, etype),
            ).fetchall()
            table = self._mirror[(realm, etype)] = Table(rows)
        return table

    def _mirrored(self, realm: str, etype: str, eid: int, text: str | None) -> None:
        """Keep a loaded mirror in step with a write (``None``: no longer live). Hold the lock."""
        if self._depth:
            self._touched.add((realm, etype))
        table = self._mirror.get((realm, etype))
        if table is not None:
            table.put(int(eid), json.loads(text) if text is not None else None)
