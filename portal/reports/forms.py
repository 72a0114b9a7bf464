"""The Timesheets filter: a GET form (no CSRF: it changes nothing) whose choices come from the
current firm, so another firm's staff or client id is an invalid choice, never a query."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from portal.reports.timesheets import PERIODS, SYNC_STATES, TimesheetFilter, period_range
from portal.time.forms import optional_int

MAX_CUSTOM_DAYS = 3 * 366


class TimesheetFilterForm(FlaskForm):
    class Meta:
        csrf = False

    period = SelectField("Period", choices=dict(PERIODS), default="this_week")
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])
    staff = SelectField("Staff", coerce=optional_int)
    client = SelectField("Client", coerce=optional_int)
    status = SelectField(
        "Status",
        choices={"": "Any status", "draft": "Draft", "submitted": "Submitted",
                 "approved": "Approved"},
        default="",
    )
    billable = SelectField(
        "Billable", choices={"": "Billable or not", "yes": "Billable", "no": "Not billable"},
        default="",
    )
    sync = SelectField(
        "QuickBooks", choices={"": "Any sync state", **SYNC_STATES}, default=""
    )

    def __init__(
        self,
        *args: object,
        staff: list[tuple[int, str]],
        clients: list[tuple[int, str]],
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.staff.choices = [SelectChoice("", "All staff"),
                              *(SelectChoice(str(i), name) for i, name in staff)]
        self.client.choices = [SelectChoice("", "All clients"),
                               *(SelectChoice(str(i), name) for i, name in clients)]

    def validate(self, extra_validators: dict | None = None) -> bool:
        """Field checks, then the custom period's dates (checked here because Optional()
        stops a field's own chain when it is empty)."""
        valid = super().validate(extra_validators)
        if self.period.data != "custom":
            return valid
        start, end = self.date_from, self.date_to
        if start.data is None and not start.errors:
            start.errors.append("Enter the first day of the custom period.")
        if end.data is None and not end.errors:
            end.errors.append("Enter the last day of the custom period.")
        if start.data and end.data:
            if end.data < start.data:
                end.errors.append("The last day cannot be before the first day.")
            elif (end.data - start.data).days > MAX_CUSTOM_DAYS:
                end.errors.append("Choose a period of at most three years.")
        return valid and not (start.errors or end.errors)

    def to_filter(self, today: date) -> TimesheetFilter:
        """The validated filter (call only after validate() passed)."""
        start, end = period_range(
            self.period.data, today, self.date_from.data, self.date_to.data
        )
        return TimesheetFilter(
            start=start,
            end=end,
            user_id=self.staff.data,
            client_id=self.client.data,
            status=self.status.data or None,
            billable={"yes": True, "no": False}.get(self.billable.data),
            sync=self.sync.data or None,
        )
