"""QBO query language: ``parse(text) -> Query`` and ``execute(query, entities) -> dict``.

Grammar (reference §3)::

    SELECT * [, <prop>]... | COUNT(*) FROM <Entity> [WHERE <cond> [AND <cond>]...]
        [ORDERBY | ORDER BY <prop> [ASC|DESC] [, ...]] [STARTPOSITION n] [MAXRESULTS n]

    <cond> := <prop> (= | < | > | <= | >= | LIKE) <value> | <prop> IN (<value> [, <value>]...)
    <value> := 'quoted, \\' escaped' | 12 | 1.5 | true | false

Keywords and entity/property names are case-insensitive (``Metadata.`` and ``MetaData.`` both
work); entity names map to their canonical spelling. Parse failures raise ``QueryError`` code
"4000" with JavaCC-style Details (see ``query_lexer``); ``OR`` is a 4000 like any unexpected
token. Semantic failures raise code "4001" ("Invalid query", ``QueryValidationError: ...``):
unknown entity, property not filterable, operator or literal unfit for the property, MAXRESULTS
over 1000.

Choices not confirmed against a real QBO (UNCONFIRMED):
- MAXRESULTS defaults to 100 when omitted (commonly stated; reference §3); MAXRESULTS below 1
  is a 4001; STARTPOSITION below 1 is read as 1 (the .NET SDK sends ``StartPosition 0``);
- STARTPOSITION and MAXRESULTS may come in either order;
- string comparisons are case-insensitive for every property (see ``query_values``);
- ORDERBY accepts any property path, not only filterable ones; absent values sort first;
  ties, and queries without ORDERBY, order by Id ascending, numerically;
- Customer, Vendor, Employee, Item and Account hide Active=false records unless a condition
  names ``Active``; COUNT(*) applies the same rule;
- non-ASCII punctuation inside quotes (en dash, curly quotes, emoji) is a lexical error, as
  QBO answered for U+2013 and U+2019; letters of any script are accepted.
"""

from __future__ import annotations

from dataclasses import dataclass

from qbo_sandbox.query_exec import execute
from qbo_sandbox.query_lexer import (
    QueryError,
    Token,
    tokenize,
    unexpected,
    validation_error,
)
from qbo_sandbox.query_schema import ENTITIES, NAME_ENTITIES, Field, field
from qbo_sandbox.query_values import coerce

__all__ = ["Condition", "OrderItem", "Query", "QueryError", "execute", "parse"]

DEFAULT_MAX_RESULTS = 100
MAX_MAX_RESULTS = 1000
_COMPARE = ("=", "<", ">", "<=", ">=", "like")
_VALUES = {"STRING", "INTEGER", "DECIMAL", "true", "false"}


@dataclass(frozen=True)
class Condition:
    field: Field
    op: str  # "=", "<", ">", "<=", ">=", "LIKE" or "IN"
    values: tuple  # coerced literals (query_values.coerce); one unless op is IN


@dataclass(frozen=True)
class OrderItem:
    name: str  # canonical name when the property is filterable, else as written
    path: tuple[str, ...]
    kind: str | None  # None: not a known property; ordered by JSON type then value
    descending: bool = False


@dataclass(frozen=True)
class Query:
    entity: str
    count: bool = False
    where: tuple[Condition, ...] = ()
    order_by: tuple[OrderItem, ...] = ()
    start_position: int = 1
    max_results: int = DEFAULT_MAX_RESULTS

    @property
    def active_only(self) -> bool:
        """True when QBO would silently drop inactive records from the result."""
        if self.entity not in NAME_ENTITIES:
            return False
        return not any(c.field.name == "Active" for c in self.where)


def parse(text: str) -> Query:
    """Parse and validate one statement; raises QueryError (4000 or 4001)."""
    raw = _Parser(text).statement()
    return _validate(raw)


@dataclass
class _Raw:
    count: bool = False
    entity: Token | None = None
    where: list[tuple[Token, Token, list[Token]]] | None = None
    order: list[tuple[Token, bool]] | None = None
    start: Token | None = None
    max: Token | None = None


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.next: Token | None = None
        self.raw = _Raw()

    def peek(self) -> Token:
        if self.next is None:
            self.next = next(self.tokens)
        return self.next

    def take(self, *kinds: str) -> Token:
        tok = self.peek()
        if tok.kind not in kinds:
            raise unexpected(tok, set(kinds))
        if tok.kind != "EOF":
            self.next = None
        return tok

    def statement(self) -> _Raw:
        raw = self.raw
        self.take("select")
        if self.take("*", "count").kind == "count":
            self.take("(")
            self.take("*")
            self.take(")")
            raw.count = True
            self.take("from")
        else:
            # "SELECT *, Sku FROM Item": python-quickbooks >= 0.9.12 asks for Sku this way
            # against real QBO (its issue #373). Results are full objects all the same.
            while self.take("from", ",").kind == ",":
                self.take("IDENTIFIER")
        raw.entity = self.take("IDENTIFIER")
        while True:
            tok = self.take(*self._clauses())
            if tok.kind == "EOF":
                return raw
            if tok.kind == "where":
                raw.where = self._conditions()
            elif tok.kind in ("order", "orderby"):
                if tok.kind == "order":
                    self.take("by")
                raw.order = self._order_items()
            elif tok.kind == "iterator":
                raise validation_error("iterator is not supported")
            elif tok.kind == "startposition":
                raw.start = self.take("INTEGER")
            else:
                raw.max = self.take("INTEGER")

    def _clauses(self) -> tuple[str, ...]:
        """Token kinds that may start the next clause, given those already read."""
        raw = self.raw
        paging = raw.start is not None or raw.max is not None
        kinds = ["EOF", "iterator"]
        if raw.where is None and raw.order is None and not paging:
            kinds.append("where")
        if raw.order is None and not paging:
            kinds += ["order", "orderby"]
        if raw.start is None:
            kinds.append("startposition")
        if raw.max is None:
            kinds.append("maxresults")
        return tuple(kinds)

    def _conditions(self) -> list[tuple[Token, Token, list[Token]]]:
        conds = []
        while True:
            prop = self.take("IDENTIFIER")
            op = self.take(*_COMPARE, "in")
            if op.kind == "in":
                self.take("(")
                values = [self.take(*_VALUES)]
                while self.take(",", ")").kind == ",":
                    values.append(self.take(*_VALUES))
            else:
                values = [self.take(*_VALUES)]
            conds.append((prop, op, values))
            nxt = self.peek()
            if nxt.kind == "and":
                self.take("and")
                continue
            self.raw.where = conds
            follow = set(self._clauses()) | {"and"}
            # QBO lists <OR> as expected here (node-quickbooks #56) yet supports only AND:
            # an OR fails like any other unexpected token.
            if nxt.kind not in follow:
                raise unexpected(nxt, follow if nxt.kind == "or" else follow | {"or"})
            return conds

    def _order_items(self) -> list[tuple[Token, bool]]:
        items = []
        while True:
            prop = self.take("IDENTIFIER")
            follow = {","}
            desc = False
            if self.peek().kind in ("asc", "desc"):
                desc = self.take("asc", "desc").kind == "desc"
            else:
                follow |= {"asc", "desc"}
            items.append((prop, desc))
            nxt = self.peek()
            if nxt.kind == ",":
                self.take(",")
                continue
            self.raw.order = items
            follow |= set(self._clauses())
            if nxt.kind not in follow:
                raise unexpected(nxt, follow)
            return items


def _validate(raw: _Raw) -> Query:
    assert raw.entity is not None
    entity = ENTITIES.get(raw.entity.image.lower())
    if entity is None:
        raise validation_error(f"entity '{raw.entity.image}' is not queryable")
    where = tuple(_condition(entity, *c) for c in raw.where or ())
    order = tuple(_order_item(entity, prop, desc) for prop, desc in raw.order or ())
    max_results = DEFAULT_MAX_RESULTS
    if raw.max is not None:
        max_results = int(raw.max.image)
        if max_results > MAX_MAX_RESULTS:
            raise validation_error(
                f"value {max_results} is too large. Max allowed value is {MAX_MAX_RESULTS}"
            )
        if max_results < 1:
            raise validation_error(f"value {max_results} is too small. Min allowed value is 1")
    start = max(int(raw.start.image), 1) if raw.start is not None else 1
    return Query(entity, raw.count, where, order, start, max_results)


def _condition(entity: str, prop: Token, op: Token, values: list[Token]) -> Condition:
    fld = field(entity, prop.image)
    if fld is None:
        raise validation_error(f"property '{prop.image}' is not queryable")
    name = op.kind.upper()
    text_kind = fld.kind in ("str", "email")
    if (name == "LIKE" and not text_kind) or (fld.kind == "bool" and name not in ("=", "IN")):
        raise validation_error(f"operator '{name}' is not supported for property '{fld.name}'")
    if name == "LIKE" and values[0].kind != "STRING":
        raise validation_error(f"value {values[0].image} is not valid for operator 'LIKE'")
    return Condition(fld, name, tuple(coerce(fld, v) for v in values))


def _order_item(entity: str, prop: Token, desc: bool) -> OrderItem:
    fld = field(entity, prop.image)
    if fld is not None:
        return OrderItem(fld.name, fld.path, fld.kind, desc)
    return OrderItem(prop.image, tuple(prop.image.split(".")), None, desc)
