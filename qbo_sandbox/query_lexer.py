"""Tokenizer for the QBO query language, with Intuit's JavaCC-style error texts.

QBO's query parser is JavaCC-generated; its 4000 Details are JavaCC's ``ParseException`` and
``TokenMgrError`` messages behind a ``QueryParserError:`` prefix (real captures: node-quickbooks
#56, quickbooks-ruby #471, QuickBooks-V3-PHP-SDK #397, quickbooks-php #129). This module
reproduces those texts: 1-based line/column, ``\\uXXXX`` escapes of UTF-16 code units, the
``<EOF>`` position quirk (last character read; ``line 0, column 0`` for an empty query), and
expected-token lists sorted as in the captures.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

KEYWORDS = frozenset(
    {
        "select", "from", "where", "and", "or", "orderby", "order", "by", "asc", "desc",
        "startposition", "maxresults", "in", "like", "count", "true", "false", "iterator",
    }
)  # fmt: skip
PUNCT = ("<=", ">=", "=", "<", ">", "(", ")", ",", "*")
_NAMED = {
    "EOF": "<EOF>",
    "IDENTIFIER": "<IDENTIFIER>",
    "STRING": "<STRING_LITERAL>",
    "INTEGER": "<INTEGER_LITERAL>",
    "DECIMAL": "<DECIMAL_LITERAL>",
    "and": "<AND>",
    "or": "<OR>",
}
_SPACE = " \t\n\r\f"
# Inside quotes QBO rejects some non-ASCII punctuation (en dash U+2013 in PHP-SDK #397, curly
# apostrophe U+2019 in quickbooks-ruby #309) while accented names are in everyday use. The
# exact rule is UNCONFIRMED; we accept Latin-1 and any letter, mark, digit or space separator.
_STRING_OK_CATEGORIES = ("L", "M", "N", "Zs")


class QueryError(Exception):
    """A query rejected the way QBO rejects it: ``code`` "4000" (parse) or "4001" (validation)."""

    def __init__(self, code: str, message: str, detail: str) -> None:
        super().__init__(f"{code} {message}: {detail}")
        self.code = code
        self.message = message
        self.detail = detail


def parse_error(detail: str) -> QueryError:
    return QueryError("4000", "Error parsing query", f"QueryParserError: {detail}")


def validation_error(detail: str) -> QueryError:
    return QueryError("4001", "Invalid query", f"QueryValidationError: {detail}")


@dataclass(frozen=True)
class Token:
    kind: str  # keyword (lower case), punctuation, or IDENTIFIER/STRING/INTEGER/DECIMAL/EOF
    image: str  # source text
    value: object  # decoded string / int / str-of-decimal / bool; None otherwise
    line: int
    column: int


def display(kind: str) -> str:
    """JavaCC ``tokenImage`` for a token kind."""
    return _NAMED.get(kind, f'"{kind}"')


def java_escape(text: str) -> str:
    """JavaCC ``add_escapes``, applied to Java's UTF-16 view of the text."""
    out = []
    for unit in _utf16_units(text):
        ch = chr(unit)
        simple = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
        if ch in simple:
            out.append(simple[ch])
        elif ch in "\"'\\":
            out.append("\\" + ch)
        elif unit < 0x20 or unit > 0x7E:
            out.append(f"\\u{unit:04x}")
        else:
            out.append(ch)
    return "".join(out)


def _utf16_units(text: str) -> list[int]:
    data = text.encode("utf-16-le", "surrogatepass")
    return [int.from_bytes(data[i : i + 2], "little") for i in range(0, len(data), 2)]


def unexpected(token: Token, expected: set[str]) -> QueryError:
    """JavaCC ParseException text for ``token`` when one of ``expected`` kinds was needed."""
    if token.kind == "EOF":
        head = 'Encountered "<EOF>"'
    else:
        head = f'Encountered " {display(token.kind)} "{java_escape(token.image)} ""'
    items = sorted(expected, key=lambda k: (k != "EOF", display(k).strip('"<>').lower()))
    lines = "".join(display(k) + (" " if k == "EOF" else " ...") + "\n    " for k in items)
    intro = "Was expecting:" if len(items) == 1 else "Was expecting one of:"
    where = f" at line {token.line}, column {token.column}.\n"
    return parse_error(f"{head}{where}{intro}\n    {lines}")


def _positions(text: str) -> list[tuple[int, int]]:
    """(line, column) of every character, with JavaCC's CR/LF bookkeeping (tab = 1 column)."""
    out = []
    line, col = 1, 0
    prev_cr = prev_lf = False
    for ch in text:
        col += 1
        if prev_lf:
            prev_lf = False
            line, col = line + 1, 1
        elif prev_cr:
            prev_cr = False
            if ch == "\n":
                prev_lf = True
            else:
                line, col = line + 1, 1
        if ch == "\r":
            prev_cr = True
        elif ch == "\n":
            prev_lf = True
        out.append((line, col))
    return out


def _lexical_error(pos: tuple[int, int], ch: str | None, after: str) -> QueryError:
    if ch is None:
        found = "<EOF>"
    else:
        found = f'"{java_escape(ch)[:6]}" ({_utf16_units(ch)[0]})'
    return parse_error(
        f"Invalid content. Lexical error at line {pos[0]}, column {pos[1]}.  "
        f'Encountered: {found}, after : "{java_escape(after)}"'
    )


def _string_char_ok(ch: str) -> bool:
    code = ord(ch)
    if code < 0x20:
        return ch == "\t"
    if code < 0x7F or 0xA0 <= code <= 0xFF:
        return True
    return unicodedata.category(ch).startswith(_STRING_OK_CATEGORIES)


def tokenize(text: str) -> Iterator[Token]:
    """Yield the tokens of ``text``, then EOF; a bad character raises a 4000 QueryError.

    Lazy on purpose: like JavaCC, a syntax error before a lexical one is the error reported
    (``'Amy's Bird Sanctuary'`` fails at ``s``, not at the unterminated quote after it).
    """
    pos = _positions(text)
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _SPACE:
            i += 1
            continue
        start = i
        if ch == "'":
            i, value = _read_string(text, i, pos)
            yield Token("STRING", text[start:i], value, *pos[start])
        elif ch.isascii() and (ch.isdigit() or (ch == "-" and text[i + 1 : i + 2].isdigit())):
            i += 1
            while i < n and text[i].isascii() and text[i].isdigit():
                i += 1
            kind = "INTEGER"
            if i + 1 < n and text[i] == "." and text[i + 1].isascii() and text[i + 1].isdigit():
                kind, i = "DECIMAL", i + 2
                while i < n and text[i].isascii() and text[i].isdigit():
                    i += 1
            image = text[start:i]
            value = int(image) if kind == "INTEGER" else image
            yield Token(kind, image, value, *pos[start])
        elif ch.isascii() and (ch.isalpha() or ch == "_"):
            while i < n and text[i].isascii() and (text[i].isalnum() or text[i] in "_."):
                i += 1
            image = text[start:i]
            kind = image.lower() if image.lower() in KEYWORDS else "IDENTIFIER"
            value = {"true": True, "false": False}.get(kind)
            yield Token(kind, image, value, *pos[start])
        else:
            op = next((p for p in PUNCT if text.startswith(p, i)), None)
            if op is None:
                raise _lexical_error(pos[i], ch, "")
            i += len(op)
            yield Token(op, op, None, *pos[start])
    eof_pos = pos[-1] if pos else (0, 0)
    yield Token("EOF", "", None, *eof_pos)


def _read_string(text: str, start: int, pos: list[tuple[int, int]]) -> tuple[int, str]:
    """Decode a quoted literal from ``start`` (the opening quote); returns (end index, value).

    ``\\'`` is a quote, ``\\\\`` a backslash, ``\\"`` a double quote; any other backslash is
    kept literally (how QBO treats other escapes is UNCONFIRMED).
    """
    out: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "'":
            return i + 1, "".join(out)
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in "'\\\"":
            out.append(text[i + 1])
            i += 2
            continue
        if not _string_char_ok(ch):
            raise _lexical_error(pos[i], ch, "")
        out.append(ch)
        i += 1
    raise _lexical_error(pos[-1], None, text[start:])
