"""portal.qbo.mapping.customers, table-driven and without I/O: name cleaning, name keys for the
duplicate check, lookup names, Client -> Customer payloads and Customer -> client fields."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from portal.models import display_name_for
from portal.qbo.mapping.customers import (
    clean_name,
    client_fields,
    customer_payload,
    family_names,
    is_sub_customer,
    lookup_names,
    name_key,
    parent_name,
    parse_people,
)


def client(kind: str = "individual", **fields) -> SimpleNamespace:
    base = dict(first_name="", last_name="", spouse_first_name="", spouse_last_name="",
                company_name="", email=None, phone=None, address_line1=None,
                address_line2=None, city=None, state=None, postal_code=None, country=None)
    base.update(fields)
    base["kind"] = kind
    base["display_name"] = display_name_for(kind, base["first_name"], base["last_name"],
                                            base["spouse_first_name"], base["spouse_last_name"],
                                            base["company_name"])
    return SimpleNamespace(**base)


@pytest.mark.parametrize(("raw", "clean"), [
    ("Rob:Barnett:Company", "Rob - Barnett - Company"),
    ("Smith: Trust", "Smith - Trust"),
    ("a :: b", "a - b"),
    ("Tab\there", "Tab here"),
    ("Line\nbreak\r\nname", "Line break name"),
    ("  trailing   spaces  ", "trailing spaces"),
    (":leading colon", "leading colon"),
    ("O'Brien & Sons", "O'Brien & Sons"),
    ("", ""),
    (None, ""),
])
def test_clean_name_is_predictable(raw, clean):
    assert clean_name(raw) == clean
    assert clean_name(clean) == clean  # idempotent: a cleaned name stays as it is


def test_clean_name_cuts_long_names_at_500():
    long = "A" * 499 + " " + "B" * 100
    cleaned = clean_name(long)
    assert len(cleaned) <= 500 and cleaned == "A" * 499
    assert len(clean_name("x" * 800)) == 500
    assert clean_name("word " * 200, limit=20) == "word word word word"


SAME_COUPLE = ["John & Jane Smith", "Smith, John and Jane", "Jane & John Smith",
               "jane and john smith", "  John  &  Jane   Smith ", "SMITH, JANE & JOHN",
               "John and Jane Smith"]


@pytest.mark.parametrize("variant", SAME_COUPLE)
def test_couple_variants_share_a_key(variant):
    assert name_key(variant) == name_key("John & Jane Smith")


@pytest.mark.parametrize(("a", "b"), [
    ("Pat O'Brien", "Pat OBrien"),
    ("O'Brien, Pat", "Pat O'Brien"),
    ("Pat O\u2019Brien", "Pat O'Brien"),
    ("Zoë Adams", "Zoe Adams"),
    ("José Núñez", "jose nunez"),
    ("Smith & Jones LLP", "Smith and Jones LLP"),
    ("smith & jones llp", "Smith and Jones LLP."),
    ("Ann Lee ", "ann lee"),
    ("Lee, Ann", "Ann Lee"),
    ("John Smith & Jane Doe", "Jane Doe and John Smith"),
])
def test_variants_that_match(a, b):
    assert name_key(a) == name_key(b)


@pytest.mark.parametrize(("a", "b"), [
    ("John & Jane Smith", "John Smith"),
    ("John & Jane Smith", "John & Joan Smith"),
    ("Ann Lee", "Anne Lee"),
    ("Smith & Jones LLP", "Jones & Smith LLP"),  # businesses are not re-ordered
    ("John Smith & Jane Doe", "John Doe & Jane Smith"),
])
def test_different_people_do_not_match(a, b):
    assert name_key(a) != name_key(b)


@pytest.mark.parametrize(("name", "people"), [
    ("Smith, John and Jane", [("John", "Smith"), ("Jane", "Smith")]),
    ("John Smith & Jane Doe", [("John", "Smith"), ("Jane", "Doe")]),
    ("John Smith & Jane", [("John", "Smith"), ("Jane", "Smith")]),
    ("Cher", [("Cher", "")]),
    ("Ann Van Dyke", [("Ann", "Van Dyke")]),
    ("Smith & Jones LLP", None),
    ("Tom, Dick & Harry & Co", None),
    ("A & B & C", None),
])
def test_parse_people(name, people):
    assert parse_people(name) == people


def test_lookup_names_cover_the_usual_spellings_of_a_couple():
    couple = client("joint", first_name="John", last_name="Smith", spouse_first_name="Jane")
    names = {n.casefold() for n in lookup_names(couple)}
    for wanted in ("John & Jane Smith", "Jane & John Smith", "Smith, John and Jane",
                   "Smith, Jane & John", "John and Jane Smith"):
        assert wanted.casefold() in names
    assert len(names) == len(lookup_names(couple))  # no case-duplicates
    assert family_names(couple) == ["Smith"]


def test_lookup_names_fold_accents_and_apostrophes():
    person = client(first_name="Zoë", last_name="O'Brien")
    names = lookup_names(person)
    assert "Zoë O'Brien" in names and "O'Brien, Zoë" in names and "Zoe OBrien" in names
    assert set(family_names(person)) == {"O'Brien", "OBrien"}
    business = client("business", company_name="Smith & Jones LLP")
    assert {"Smith & Jones LLP", "Smith and Jones LLP"} <= set(lookup_names(business))
    assert family_names(business) == []


def test_payload_for_each_kind():
    person = client(first_name="Ann", last_name="Lee", email=" ann@lee.example ",
                    phone="555-0100", address_line1="1 Main St", city="Springfield",
                    state="IL", postal_code="62701", country="USA")
    assert customer_payload(person) == {
        "DisplayName": "Ann Lee", "GivenName": "Ann", "FamilyName": "Lee",
        "PrimaryEmailAddr": {"Address": "ann@lee.example"},
        "PrimaryPhone": {"FreeFormNumber": "555-0100"},
        "BillAddr": {"Line1": "1 Main St", "City": "Springfield",
                     "CountrySubDivisionCode": "IL", "PostalCode": "62701", "Country": "USA"},
    }
    couple = client("joint", first_name="John", last_name="Smith", spouse_first_name="Jane")
    assert customer_payload(couple) == {"DisplayName": "John & Jane Smith",
                                        "GivenName": "John & Jane", "FamilyName": "Smith"}
    mixed = client("joint", first_name="John", last_name="Smith", spouse_first_name="Jane",
                   spouse_last_name="Doe")
    assert customer_payload(mixed)["DisplayName"] == "John Smith & Jane Doe"
    assert customer_payload(mixed)["GivenName"] == "John"
    firm = client("business", company_name="Acme: Holdings\tInc")
    assert customer_payload(firm) == {"DisplayName": "Acme - Holdings Inc",
                                      "CompanyName": "Acme - Holdings Inc"}


@pytest.mark.parametrize(("customer", "expected"), [
    ({"DisplayName": "Acme Inc", "CompanyName": "Acme Inc"},
     {"kind": "business", "company_name": "Acme Inc"}),
    ({"DisplayName": "Bill's Windsurf Shop", "GivenName": "Bill", "FamilyName": "Lucchini",
      "CompanyName": "Bill's Windsurf Shop"},
     {"kind": "business", "company_name": "Bill's Windsurf Shop", "first_name": "Bill"}),
    ({"DisplayName": "Smith, John and Jane"},
     {"kind": "joint", "first_name": "John", "last_name": "Smith", "spouse_first_name": "Jane",
      "spouse_last_name": None}),
    ({"DisplayName": "John & Jane Smith", "GivenName": "John", "FamilyName": "Smith"},
     {"kind": "joint", "first_name": "John", "spouse_first_name": "Jane"}),
    ({"DisplayName": "John Smith & Jane Doe"},
     {"kind": "joint", "last_name": "Smith", "spouse_last_name": "Doe"}),
    ({"DisplayName": "Lee, Ann", "GivenName": "Ann", "FamilyName": "Lee"},
     {"kind": "individual", "first_name": "Ann", "last_name": "Lee"}),
    ({"DisplayName": "Kookies by Kathy", "GivenName": "Kathy", "FamilyName": "Kuplis",
      "CompanyName": "Kookies by Kathy"}, {"kind": "business"}),
    ({"DisplayName": "Pat Jones"}, {"kind": "individual", "first_name": "Pat",
                                    "last_name": "Jones"}),
    ({"DisplayName": "Dukes Basketball Camp"}, {"kind": "individual"}),
    ({"DisplayName": "Smith & Jones LLP"}, {"kind": "business",
                                            "company_name": "Smith & Jones LLP"}),
])
def test_customer_to_client_kind(customer, expected):
    fields = client_fields({"Id": "1", **customer})
    for key, value in expected.items():
        assert fields[key] == value, key


def test_customer_contact_fields_are_copied_and_cut_to_column_sizes():
    fields = client_fields({
        "Id": "9", "DisplayName": "Ann Lee", "GivenName": "Ann", "FamilyName": "Lee",
        "PrimaryEmailAddr": {"Address": "ann@lee.example"},
        "PrimaryPhone": {"FreeFormNumber": "(555) 555-5555"},
        "BillAddr": {"Line1": "123 Main Street", "City": "Mountain View",
                     "CountrySubDivisionCode": "CA", "PostalCode": "94042" * 10,
                     "Country": "USA"},
    })
    assert fields["email"] == "ann@lee.example"
    assert fields["phone"] == "(555) 555-5555"
    assert (fields["address_line1"], fields["city"], fields["state"]) == (
        "123 Main Street", "Mountain View", "CA")
    assert fields["postal_code"] == ("94042" * 10)[:20]
    assert fields["address_line2"] is None


def test_sub_customers_are_recognised_with_their_parent():
    job = {"Id": "5", "DisplayName": "Kitchen", "Job": True, "ParentRef": {"value": "4"},
           "FullyQualifiedName": "Amy's Bird Sanctuary:Kitchen"}
    assert is_sub_customer(job) and parent_name(job) == "Amy's Bird Sanctuary"
    assert not is_sub_customer({"Id": "4", "DisplayName": "Amy's Bird Sanctuary", "Job": False})
