"""The "Record time" form. Choices come from the current firm, so an id of another firm's client
or category is refused with a message next to the field instead of being saved."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, DecimalField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError

MAX_HOURS = Decimal("24")
EARLIEST_DATE = date(2000, 1, 1)
MAX_DAYS_AHEAD = 366


def optional_int(value: object) -> int | None:
    """Coerce a select value: "" means "none chosen"; anything else must be an integer id."""
    if value in (None, ""):
        return None
    return int(value)  # ValueError becomes the field's "Invalid Choice" message


class TimeEntryForm(FlaskForm):
    client_id = SelectField("Client", coerce=optional_int, validate_choice=False)
    entry_date = DateField(
        "Date", validators=[InputRequired(message="Enter the date (YYYY-MM-DD).")]
    )
    hours = DecimalField(
        "Hours", places=None, validators=[InputRequired(message="Enter the hours worked.")]
    )
    category_id = SelectField("Billable category", coerce=optional_int, validate_choice=False)
    description = TextAreaField("Description", validators=[Length(max=2000)])
    billable = BooleanField("Billable", default=True)

    def __init__(
        self,
        *args: object,
        clients: list[tuple[int, str]],
        categories: dict[str, list[tuple[int, str]]],
        **kwargs: object,
    ) -> None:
        """`clients`: (id, name) of the firm's clients the user may pick; `categories`: the
        firm's categories grouped by type name (rendered as <optgroup>s)."""
        super().__init__(*args, **kwargs)
        self.client_id.choices = [
            SelectChoice("", "— No client (internal time) —"),
            *(SelectChoice(str(cid), name) for cid, name in clients),
        ]
        self._client_ids = {cid for cid, _ in clients}
        # One ungrouped placeholder, then an <optgroup> per billable type.
        self.category_id.choices = [
            SelectChoice("", "— Choose a category —"),
            *(
                SelectChoice(str(cid), name, optgroup=type_name)
                for type_name, group in categories.items()
                for cid, name in group
            ),
        ]
        self._category_ids = {cid for group in categories.values() for cid, _ in group}

    def validate_client_id(self, field: SelectField) -> None:
        if field.data is not None and field.data not in self._client_ids:
            raise ValidationError("Choose one of your firm's active clients.")

    def validate_category_id(self, field: SelectField) -> None:
        if field.data is None:
            if self.billable.data:
                raise ValidationError("Choose the billable category of this work.")
            return
        if field.data not in self._category_ids:
            raise ValidationError("Choose one of your firm's active billable categories.")

    def validate_entry_date(self, field: DateField) -> None:
        if field.data is None:  # unparseable: the field already carries its message
            return
        latest = date.today() + timedelta(days=MAX_DAYS_AHEAD)
        if field.data < EARLIEST_DATE or field.data > latest:
            raise ValidationError(
                f"Enter a date between {EARLIEST_DATE:%b %d, %Y} and {latest:%b %d, %Y}."
            )

    def validate_hours(self, field: DecimalField) -> None:
        value = field.data
        if value is None:  # unparseable: the field already carries its message
            return
        if not value.is_finite() or value <= 0:
            raise ValidationError("Hours must be more than 0.")
        if value > MAX_HOURS:
            raise ValidationError("Hours cannot be more than 24 in one entry.")
        if value != value.quantize(Decimal("0.01")):
            raise ValidationError("Use at most 2 decimals (e.g. 1.25).")

    def validate_billable(self, field: BooleanField) -> None:
        if field.data and self.client_id.data is None:
            raise ValidationError(
                "Billable time needs a client: choose a client or untick Billable."
            )
