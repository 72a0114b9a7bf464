"""Client forms: the create/edit form (rules per kind) and the list's GET filter form."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SearchField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import Email, InputRequired, Length, Optional, Regexp

KIND_CHOICES = [
    ("individual", "Individual"),
    ("joint", "Joint (married couple)"),
    ("business", "Business"),
]

KIND_FILTER_CHOICES = [("", "All kinds"), *KIND_CHOICES]
QB_FILTER_CHOICES = [("", "Linked or not"), ("linked", "Linked"), ("unlinked", "Not linked")]
STATUS_FILTER_CHOICES = [
    ("active", "Active"),
    ("inactive", "Inactive"),
    ("all", "Active and inactive"),
]


def _options(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


# Name fields each kind uses; the others are hidden in the form and cleared on save, so a
# client switched from joint to individual does not keep a stale spouse.
NAME_FIELDS = ("first_name", "last_name", "spouse_first_name", "spouse_last_name", "company_name")
FIELDS_BY_KIND: dict[str, tuple[str, ...]] = {
    "individual": ("first_name", "last_name"),
    "joint": ("first_name", "last_name", "spouse_first_name", "spouse_last_name"),
    "business": ("company_name",),
}
REQUIRED_BY_KIND: dict[str, tuple[tuple[str, str], ...]] = {
    "individual": (
        ("first_name", "Enter the first name."),
        ("last_name", "Enter the last name."),
    ),
    "joint": (
        ("first_name", "Enter the first name."),
        ("last_name", "Enter the last name."),
        ("spouse_first_name", "Enter the spouse's first name."),
    ),
    "business": (("company_name", "Enter the company name."),),
}

PHONE_MESSAGE = "Enter a phone number using digits, spaces and + - ( ) . only, e.g. (555) 123-4567."


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _text(label: str, max_len: int, **kwargs: Any) -> StringField:
    return StringField(
        label,
        validators=[Optional(), Length(max=max_len, message=f"Use at most {max_len} characters.")],
        filters=[_strip],
        **kwargs,
    )


class ClientForm(FlaskForm):
    """One form for the three kinds; `validate` applies the per-kind required names."""

    kind = SelectField(
        "Kind of client",
        choices=_options(KIND_CHOICES),
        default="individual",
        validators=[InputRequired(message="Choose the kind of client.")],
    )
    first_name = _text("First name", 100)
    last_name = _text("Last name", 100)
    spouse_first_name = _text("Spouse's first name", 100)
    spouse_last_name = _text("Spouse's last name", 100)
    company_name = _text("Company name", 200)
    email = EmailField(
        "Email",
        validators=[
            Optional(),
            Length(max=254, message="Use at most 254 characters."),
            Email(message="Enter a valid email address, like name@example.com."),
        ],
        filters=[_strip],
    )
    phone = StringField(
        "Phone",
        validators=[
            Optional(),
            Length(max=40, message="Use at most 40 characters."),
            Regexp(r"^\+?[0-9 ().\-]*[0-9][0-9 ().\-]*$", message=PHONE_MESSAGE),
        ],
        filters=[_strip],
    )
    address_line1 = _text("Address line 1", 200)
    address_line2 = _text("Address line 2", 200)
    city = _text("City", 100)
    state = _text("State / province", 50)
    postal_code = _text("Postal code", 20)
    country = _text("Country", 60)
    notes = TextAreaField(
        "Notes",
        validators=[Optional(), Length(max=5000, message="Use at most 5000 characters.")],
        filters=[_strip],
    )
    active = BooleanField("Active client", default=True)
    confirm_duplicate = BooleanField("Save anyway: this is a different client with the same name")

    def validate(self, extra_validators: Any = None) -> bool:
        super().validate(extra_validators)
        kind = self.kind.data
        if kind in FIELDS_BY_KIND:
            used = FIELDS_BY_KIND[kind]
            for name in NAME_FIELDS:
                if name not in used:  # hidden for this kind: its errors could not be seen
                    self[name].errors = []
            for name, message in REQUIRED_BY_KIND[kind]:
                if not self[name].data and not self[name].errors:
                    self[name].errors = [*self[name].errors, message]
        return not self.errors


class ClientFilterForm(FlaskForm):
    """The list's filters, read from the query string (GET: no CSRF)."""

    class Meta:
        csrf = False

    q = SearchField("Search", filters=[_strip], render_kw={"placeholder": "Name or email"})
    kind = SelectField("Kind", choices=_options(KIND_FILTER_CHOICES), default="")
    qb = SelectField("QuickBooks", choices=_options(QB_FILTER_CHOICES), default="")
    status = SelectField("Status", choices=_options(STATUS_FILTER_CHOICES), default="active")
    allowed = {
        "kind": {v for v, _ in KIND_FILTER_CHOICES},
        "qb": {v for v, _ in QB_FILTER_CHOICES},
        "status": {v for v, _ in STATUS_FILTER_CHOICES},
    }

    def value(self, name: str) -> str:
        """The field's value, or its default when the query string holds something unknown."""
        field = self[name]
        if name == "q":
            return (field.data or "")[:200]
        return field.data if field.data in self.allowed[name] else field.default
