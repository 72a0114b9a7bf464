"""Invoice forms. Lines are a FieldList of row sub-forms; a row that is entirely blank is
ignored, every other row is validated with messages next to its own fields."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask_wtf import FlaskForm
from wtforms import DateField, FieldList, Form, FormField, SelectField, StringField, TextAreaField
from wtforms.fields import DecimalField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp, StopValidation

from portal.invoices.lines import LineData, parse_billable, total_of
from portal.invoices.numbering import MAX_LENGTH, NUMBER_PATTERN, number_taken

MAX_QUANTITY = Decimal("100000")
MAX_RATE = Decimal("1000000")
MAX_TOTAL = Decimal("9999999999.99")  # fits the NUMERIC(12, 2) total column
MAX_LINES = 200
BLANK_ROWS = 5
CENT = Decimal("0.01")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class MoneyField(DecimalField):
    """A decimal input that tolerates thousands separators and refuses NaN/Infinity."""

    def process_formdata(self, valuelist: list) -> None:
        if not valuelist:
            return
        raw = str(valuelist[0]).replace(",", "").strip()
        if raw == "":
            self.data = None
            return
        try:
            value = Decimal(raw)
        except (InvalidOperation, ValueError):
            value = None
        if value is None or not value.is_finite():
            self.data = None
            raise ValueError("Enter a number, e.g. 1.50.")
        self.data = value


def money(maximum: Decimal, what: str):
    """Validator: 0 <= value <= maximum, at most two decimal places."""

    def check(form: Form, field: MoneyField) -> None:
        value = field.data
        if value is None:
            return
        if value < 0:
            raise StopValidation(f"The {what} cannot be negative.")
        if value > maximum:
            raise StopValidation(f"The {what} must be at most {maximum:,}.")
        if value != value.quantize(CENT):
            raise StopValidation(f"Use at most 2 decimal places for the {what}.")

    return check


class LineForm(Form):
    """One invoice line. As a row inside InvoiceForm it has no CSRF of its own; AddLineForm
    (the quick "Add line") adds FlaskForm's CSRF to the same fields."""

    description = StringField(
        "Description", filters=[_strip], validators=[Optional(), Length(max=4000)]
    )
    quantity = MoneyField(
        "Qty", validators=[Optional(), money(MAX_QUANTITY, "quantity")],
        render_kw={"min": "0", "step": "0.01", "inputmode": "decimal"},
    )
    rate = MoneyField(
        "Rate", validators=[Optional(), money(MAX_RATE, "rate")],
        render_kw={"min": "0", "step": "0.01", "inputmode": "decimal"},
    )
    billable = SelectField("Category or type", choices={}, validate_choice=False)

    def is_blank(self) -> bool:
        fields = (self.description, self.quantity, self.rate, self.billable)
        return all(not (f.raw_data and str(f.raw_data[0]).strip()) for f in fields)

    def checked_row(self, firm_id: int) -> LineData | None:
        """The row as LineData, or None after adding field messages. Call after validate()."""
        ok = not (self.description.errors or self.quantity.errors or self.rate.errors)
        if not self.description.data:
            self.description.errors.append("Enter a description.")
            ok = False
        for field, label in ((self.quantity, "quantity"), (self.rate, "rate")):
            if field.data is None and not field.errors:
                field.errors.append(f"Enter a {label}.")
                ok = False
        try:
            category_id, type_id = parse_billable(self.billable.data, firm_id)
        except ValueError as exc:
            self.billable.errors.append(str(exc))
            return None
        if not ok:
            return None
        return LineData(
            description=self.description.data,
            quantity=self.quantity.data.quantize(CENT),
            rate=self.rate.data.quantize(CENT),
            category_id=category_id,
            type_id=type_id,
        )


class AddLineForm(LineForm, FlaskForm):
    """"Add line" on the invoice page: one row that must not be blank."""


class InvoiceForm(FlaskForm):
    client_id = SelectField(
        "Client",
        choices={},
        validators=[DataRequired("Choose a client.")],
        invalid_choice_message="Choose one of your firm's clients.",
    )
    number = StringField(
        "Invoice number",
        filters=[_strip],
        validators=[
            DataRequired("Enter an invoice number."),
            Length(max=MAX_LENGTH, message="Use at most 21 characters (QuickBooks' limit)."),
            Regexp(
                NUMBER_PATTERN,
                message="Use letters, digits, spaces and . _ / # - only, "
                "starting and ending with a letter or digit.",
            ),
        ],
    )
    issue_date = DateField("Issue date", validators=[InputRequired("Enter the issue date.")])
    due_date = DateField("Due date", validators=[InputRequired("Enter the due date.")])
    memo = TextAreaField("Memo", filters=[_strip], validators=[Optional(), Length(max=1000)])
    lines = FieldList(FormField(LineForm), min_entries=BLANK_ROWS, max_entries=MAX_LINES)

    def __init__(self, *args: Any, firm_id: int, invoice_id: int | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._firm_id = firm_id
        self._invoice_id = invoice_id
        self.lines_error: str | None = None
        self.rows: list[LineData] = []

    def set_choices(self, clients: dict[str, str], billable: dict) -> None:
        self.client_id.choices = {"": "Choose a client…", **clients}
        for entry in self.lines:
            entry.form.billable.choices = billable

    def validate_number(self, field: StringField) -> None:
        if field.data and number_taken(self._firm_id, field.data, self._invoice_id):
            raise StopValidation(f"Invoice number {field.data} is already used in your firm.")

    def validate_due_date(self, field: DateField) -> None:
        if field.data and self.issue_date.data and field.data < self.issue_date.data:
            raise StopValidation("The due date cannot be before the issue date.")

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        rows: list[LineData] = []
        for entry in self.lines:
            sub = entry.form
            if sub.is_blank():
                # A blank row carries no errors, whatever its (empty) fields said.
                for field in sub:
                    field.errors = []
                continue
            row = sub.checked_row(self._firm_id)
            if row is None:
                ok = False
            else:
                rows.append(row)
        if not any(entry.form.description.data for entry in self.lines):
            self.lines_error = "Add at least one line with a description."
            ok = False
        elif ok and total_of(rows) > MAX_TOTAL:
            self.lines_error = "The invoice total is too large."
            ok = False
        self.rows = rows
        return ok
