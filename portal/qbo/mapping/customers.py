"""Clients <-> QBO Customers, pure: payloads, name cleaning and the duplicate-check names.

Three jobs, all without I/O so they are tested table-driven:

- ``customer_payload(client)``: what we send. QBO refuses ``:`` (its sub-customer separator),
  tab and newline in names (2040) and names over 500 characters (2050); ``clean_name`` turns
  them into something it accepts, always the same way for the same input.
- ``name_key(name)``: one canonical string per "who this is", so "John & Jane Smith",
  "Smith, John and Jane", "Jane and John Smith" and "john &  jane smith " compare equal, as do
  "O'Brien"/"OBrien" and "Zoë"/"Zoe". ``lookup_names(client)`` / ``family_names(client)`` are
  the literal strings we ask QBO for (its string comparisons ignore case); the answers are then
  compared by key.
- ``client_fields(customer)``: what an imported Customer becomes (kind, names, contact).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any, Protocol

DISPLAY_NAME_MAX = 500
PERSON_NAME_MAX = 100
COMPANY_NAME_MAX = 100
PHONE_MAX = 30
ADDRESS_LINE_MAX = 500

# Words that make a name a business even when it has an "&" in it ("Smith & Jones LLP").
BUSINESS_WORDS = frozenset({
    "llc", "llp", "lp", "inc", "incorporated", "co", "corp", "corporation", "company", "ltd",
    "limited", "group", "partners", "partnership", "associates", "trust", "foundation",
    "holdings", "services", "enterprises", "pc", "pllc", "plc", "gmbh", "church", "bank",
    "store", "shop", "sons", "brothers", "bros", "cpas", "cpa", "studio", "agency", "the",
})
_FORBIDDEN_WS = re.compile(r"[\t\r\n\v\f]+")
_AND = re.compile(r"\s*(?:&|\+|\band\b)\s*", re.IGNORECASE)
_APOSTROPHES = re.compile(r"['\u2019\u2018`\u00b4\"]")
_PUNCT = re.compile(r"[^\w&\s]")  # after folding: everything except letters, digits, &


class ClientLike(Protocol):
    kind: str
    first_name: str | None
    last_name: str | None
    spouse_first_name: str | None
    spouse_last_name: str | None
    company_name: str | None
    display_name: str
    email: str | None
    phone: str | None
    address_line1: str | None
    address_line2: str | None
    city: str | None
    state: str | None
    postal_code: str | None
    country: str | None


# -- cleaning ------------------------------------------------------------------------------------
def _squash(value: str | None) -> str:
    return " ".join((value or "").split())


def clean_name(value: str | None, limit: int = DISPLAY_NAME_MAX) -> str:
    """A name QBO accepts: ``:`` -> `` - ``; tab/newline -> space; spaces squashed; cut to
    ``limit`` characters (then trailing spaces and dashes trimmed). Idempotent."""
    text = (value or "").replace(":", " - ")
    text = _FORBIDDEN_WS.sub(" ", text)
    text = _squash(text)
    text = re.sub(r"(?:\s-\s)+(?:-\s)*", " - ", text)  # "a :: b" -> "a - b", not "a - - b"
    if len(text) > limit:
        text = text[:limit]
    return text.strip(" -")


def _fold(text: str) -> str:
    """Accents off (Zoë -> Zoe), apostrophes dropped (O'Brien -> OBrien); case kept."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _APOSTROPHES.sub("", plain)


def _is_business(text: str) -> bool:
    words = set(_PUNCT.sub(" ", _fold(text).casefold()).split())
    return bool(words & BUSINESS_WORDS)


# -- people in a name ----------------------------------------------------------------------------
def parse_people(name: str | None) -> list[tuple[str, str]] | None:
    """The (first, last) pairs a name reads as: one person or a couple; None for businesses
    and anything with more than two people. Case and accents are kept.

    "Smith, John and Jane" -> [("John", "Smith"), ("Jane", "Smith")];
    "John Smith & Jane Doe" -> [("John", "Smith"), ("Jane", "Doe")]; "Cher" -> [("Cher", "")].
    """
    text = _squash(clean_name(name))
    if not text or _is_business(text):
        return None
    if text.count(",") == 1:
        last, rest = (part.strip() for part in text.split(","))
        if last and rest and not _AND.search(last) and len(last.split()) <= 3:
            text = f"{rest} {last}"
    parts = [_squash(p.replace(",", " ")) for p in _AND.split(text)]
    parts = [p for p in parts if p]
    if not parts or len(parts) > 2:
        return None
    tokens = [[t for t in p.split() if t.strip('-')] for p in parts]
    if not all(tokens):
        return None
    if len(tokens) == 1:
        first, *rest = tokens[0]
        return [(first, " ".join(rest))]
    one, two = tokens
    if len(one) == 1 and len(two) >= 2:
        last = " ".join(two[1:])
        return [(one[0], last), (two[0], last)]
    if len(one) >= 2 and len(two) == 1:
        last = " ".join(one[1:])
        return [(one[0], last), (two[0], last)]
    return [(one[0], " ".join(one[1:])), (two[0], " ".join(two[1:]))]


def _key_text(text: str) -> str:
    return _squash(_PUNCT.sub(" ", _fold(text).casefold()))


def name_key(name: str | None) -> str:
    """The canonical form two names must share to be "the same customer" (see module doc)."""
    text = clean_name(name)
    if not text:
        return ""
    people = parse_people(text)
    if people is None:
        return _squash(_key_text(_AND.sub(" and ", text)))
    persons = sorted(_key_text(f"{first} {last}") for first, last in people)
    return " & ".join(persons)


# -- what we ask QBO for -------------------------------------------------------------------------
def _name_forms(client: ClientLike) -> list[str]:
    first, last = _squash(client.first_name), _squash(client.last_name)
    if client.kind == "business":
        company = _squash(client.company_name) or _squash(client.display_name)
        return [company, _AND.sub(" & ", company), _AND.sub(" and ", company)]
    if client.kind != "joint":
        return [client.display_name, f"{first} {last}", f"{last}, {first}"]
    spouse = _squash(client.spouse_first_name)
    spouse_last = _squash(client.spouse_last_name) or last
    forms = [client.display_name]
    for conj in ("&", "and"):
        if spouse_last.casefold() == last.casefold():
            forms += [f"{first} {conj} {spouse} {last}", f"{spouse} {conj} {first} {last}",
                      f"{last}, {first} {conj} {spouse}", f"{last}, {spouse} {conj} {first}"]
        else:
            forms += [f"{first} {last} {conj} {spouse} {spouse_last}",
                      f"{spouse} {spouse_last} {conj} {first} {last}"]
    return forms


def lookup_names(client: ClientLike) -> list[str]:
    """DisplayName spellings worth an exact (case-insensitive) ``IN`` query: the client's name,
    its usual variants, and their cleaned and accent/apostrophe-free forms; de-duplicated."""
    seen: dict[str, str] = {}
    for form in _name_forms(client):
        for candidate in (form, clean_name(form), clean_name(_fold(form))):
            candidate = _squash(candidate)
            if candidate and candidate.casefold() not in seen:
                seen[candidate.casefold()] = candidate
    return list(seen.values())


def family_names(client: ClientLike) -> list[str]:
    """FamilyName values to ask for: catches people whose DisplayName is spelled some other way."""
    if client.kind == "business":
        return []
    names = {_squash(client.last_name), _squash(client.spouse_last_name)}
    out: dict[str, str] = {}
    for name in names:
        for candidate in (name, _fold(name)):
            candidate = clean_name(candidate, PERSON_NAME_MAX)
            if candidate:
                out.setdefault(candidate.casefold(), candidate)
    return list(out.values())


def client_key(client: ClientLike) -> str:
    return name_key(client.display_name)


# -- Client -> Customer --------------------------------------------------------------------------
def _person_fields(client: ClientLike) -> dict[str, str]:
    if client.kind == "business":
        return {}
    first, last = _squash(client.first_name), _squash(client.last_name)
    if client.kind == "joint":
        spouse_last = _squash(client.spouse_last_name)
        if not spouse_last or spouse_last.casefold() == last.casefold():
            first = f"{first} & {_squash(client.spouse_first_name)}"
    return {"GivenName": clean_name(first, PERSON_NAME_MAX),
            "FamilyName": clean_name(last, PERSON_NAME_MAX)}


def customer_payload(client: ClientLike) -> dict[str, Any]:
    """The Customer body for a create, or (with Id/SyncToken added) a sparse update."""
    body: dict[str, Any] = {"DisplayName": clean_name(client.display_name)}
    body.update({k: v for k, v in _person_fields(client).items() if v})
    company = clean_name(client.company_name, COMPANY_NAME_MAX)  # ":" alone cleans to ""
    if client.kind == "business" and company:
        body["CompanyName"] = company
    if client.email:
        body["PrimaryEmailAddr"] = {"Address": client.email.strip()}
    if client.phone:
        body["PrimaryPhone"] = {"FreeFormNumber": client.phone.strip()[:PHONE_MAX]}
    address = {
        "Line1": client.address_line1, "Line2": client.address_line2, "City": client.city,
        "CountrySubDivisionCode": client.state, "PostalCode": client.postal_code,
        "Country": client.country,
    }
    address = {k: _squash(v)[:ADDRESS_LINE_MAX] for k, v in address.items() if _squash(v)}
    if address:
        body["BillAddr"] = address
    return body


# -- Customer -> Client (import) -----------------------------------------------------------------
_CLIENT_LIMITS = {
    "first_name": 100, "last_name": 100, "spouse_first_name": 100, "spouse_last_name": 100,
    "company_name": 200, "email": 254, "phone": 40, "address_line1": 200, "address_line2": 200,
    "city": 100, "state": 50, "postal_code": 20, "country": 60,
}


def _text(customer: Mapping[str, Any], key: str, sub: str | None = None) -> str:
    value = customer.get(key)
    if sub is not None:
        value = value.get(sub) if isinstance(value, Mapping) else None
    return _squash(str(value)) if value not in (None, "") else ""


def client_kind_and_names(customer: Mapping[str, Any]) -> dict[str, str]:
    """kind + name fields: business when it has a company name and no person name (or is
    displayed by its company name); joint when the name reads as a couple; else individual."""
    display = _text(customer, "DisplayName")
    given, family = _text(customer, "GivenName"), _text(customer, "FamilyName")
    company = _text(customer, "CompanyName")
    person = _squash(f"{given} {family}")
    if company and (not person or display.casefold() == company.casefold()):
        return {"kind": "business", "company_name": company, "first_name": given,
                "last_name": family}
    from_display = parse_people(display)
    people = from_display if from_display and len(from_display) == 2 else None
    people = people or parse_people(person) or from_display
    if people is None:
        return {"kind": "business", "company_name": company or display, "first_name": given,
                "last_name": family}
    if len(people) == 2:
        (first, last), (spouse, spouse_last) = people
        return {"kind": "joint", "first_name": first, "last_name": last,
                "spouse_first_name": spouse,
                "spouse_last_name": "" if spouse_last.casefold() == last.casefold()
                else spouse_last, "company_name": company}
    if given or family:
        return {"kind": "individual", "first_name": given, "last_name": family,
                "company_name": company}
    first, last = people[0]
    return {"kind": "individual", "first_name": first, "last_name": last, "company_name": company}


def client_fields(customer: Mapping[str, Any]) -> dict[str, Any]:
    """Every Client column an imported Customer fills (strings cut to the column sizes)."""
    fields: dict[str, Any] = dict(client_kind_and_names(customer))
    fields.update({
        "email": _text(customer, "PrimaryEmailAddr", "Address"),
        "phone": _text(customer, "PrimaryPhone", "FreeFormNumber"),
        "address_line1": _text(customer, "BillAddr", "Line1"),
        "address_line2": _text(customer, "BillAddr", "Line2"),
        "city": _text(customer, "BillAddr", "City"),
        "state": _text(customer, "BillAddr", "CountrySubDivisionCode"),
        "postal_code": _text(customer, "BillAddr", "PostalCode"),
        "country": _text(customer, "BillAddr", "Country"),
    })
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "kind":
            out[key] = value
        else:
            out[key] = (value or "")[: _CLIENT_LIMITS.get(key, 500)] or None
    return out


def is_sub_customer(customer: Mapping[str, Any]) -> bool:
    return bool(customer.get("Job")) or bool(customer.get("ParentRef"))


def parent_name(customer: Mapping[str, Any]) -> str:
    """The parent's name for a sub-customer ("Parent:Job" -> "Parent")."""
    fqn = _text(customer, "FullyQualifiedName")
    if ":" in fqn:
        return fqn.rsplit(":", 1)[0]
    return _text(customer, "ParentRef", "name") or _text(customer, "ParentRef", "value")
