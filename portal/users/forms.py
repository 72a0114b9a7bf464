"""User add/edit forms. Uniqueness and the admin rules need the database, so the view checks
them (portal.users.rules); everything a single field can say about itself is said here."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, ValidationError

from portal.users.passwords import password_problem

ROLE_CHOICES = [
    SelectChoice("staff", "Staff: records time"),
    SelectChoice("manager", "Manager: records and approves time"),
    SelectChoice("admin", "Admin: everything, including users, customizations and integrations"),
]
MAX_RATE = Decimal("100000")


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _strip_lower(value: str | None) -> str | None:
    return value.strip().lower() if isinstance(value, str) else value


def parse_money(text: str | None, maximum: Decimal = MAX_RATE) -> Decimal:
    """A non-negative amount with at most 2 decimals ("1,250.50" and "$95" are accepted).

    Raises ValueError with a message meant for the person who typed it.
    """
    cleaned = (text or "").strip().replace(",", "").removeprefix("$").strip()
    if not cleaned:
        raise ValueError("Enter an amount, for example 150.00.")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError("Enter a number, for example 150.00.") from None
    if not amount.is_finite():
        raise ValueError("Enter a number, for example 150.00.")
    if amount < 0:
        raise ValueError("The amount cannot be negative.")
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError("Use at most 2 decimals (cents).")
    if amount >= maximum:
        raise ValueError(f"Enter an amount below {maximum:,.2f}.")
    return amount.quantize(Decimal("0.01"))


class UserForm(FlaskForm):
    """Add (password required) or edit (password optional: a reset) a user."""

    name = StringField(
        "Full name",
        validators=[DataRequired(message="Enter the person's name."), Length(max=200)],
        filters=[_strip],
    )
    email = EmailField(
        "Email",
        validators=[
            DataRequired(message="Enter an email address."),
            Length(max=254),
            Email(message="Enter a valid email address, like name@yourfirm.com."),
        ],
        filters=[_strip_lower],
    )
    role = SelectField("Role", choices=ROLE_CHOICES, default="staff")
    hourly_rate = StringField("Hourly rate", default="0.00")
    password = PasswordField("Password", validators=[Length(max=128)])
    confirm = PasswordField("Repeat the password", validators=[Length(max=128)])

    def __init__(self, *args, creating: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.creating = creating
        if not creating:
            self.password.label.text = "New password"
            self.confirm.label.text = "Repeat the new password"
        else:
            self.password.flags.required = True
        self.rate_value: Decimal | None = None

    def validate_hourly_rate(self, field: StringField) -> None:
        try:
            self.rate_value = parse_money(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def validate_password(self, field: PasswordField) -> None:
        if not field.data:
            if self.creating:
                raise ValidationError("Choose a password for the new user.")
            return
        problem = password_problem(field.data, email=self.email.data, name=self.name.data)
        if problem:
            raise ValidationError(problem)

    def validate_confirm(self, field: PasswordField) -> None:
        if self.password.data and field.data != self.password.data:
            raise ValidationError("The two passwords do not match.")
