"""Forms for billable types, categories and the firm's invoice roll-up setting.

A code is the exact Name of a QuickBooks Product/Service, so it is validated against what
QBO accepts in an Item name: trimmed, at most 100 characters, no colon (QBO's sub-item
separator), tab or newline.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

CODE_MAX = 100
FORBIDDEN_IN_CODE = {":": "a colon (:)", "\t": "a tab", "\n": "a line break", "\r": "a line break"}


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def code_problem(code: str) -> str | None:
    """Why QuickBooks would refuse `code` as a Product/Service name, or None."""
    for char, label in FORBIDDEN_IN_CODE.items():
        if char in code:
            return (f"QuickBooks does not allow {label} in a Product/Service name. "
                    "Use the name exactly as it appears in QuickBooks.")
    if len(code) > CODE_MAX:
        return f"Use at most {CODE_MAX} characters (the longest name QuickBooks accepts)."
    return None


class _CodeMixin:
    def validate_code(self, field: StringField) -> None:
        problem = code_problem(field.data or "")
        if problem:
            raise ValidationError(problem)


CODE_HINT = ("The exact Name of the QuickBooks Product/Service that invoice lines use. "
             "Leave blank if you have not set it up in QuickBooks yet.")


class TypeForm(_CodeMixin, FlaskForm):
    name = StringField(
        "Name",
        validators=[DataRequired(message="Enter a name for the billable type."), Length(max=100)],
        filters=[_strip],
    )
    # The length check lives in code_problem so the message can explain it.
    code = StringField("Code", filters=[_strip])


class _TypeSelect(SelectField):
    """Refuses ids not in `choices` (so another firm's type id never passes), saying why."""

    def pre_validate(self, form: FlaskForm) -> None:
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError("Choose one of your firm's active billable types.") from None


class CategoryForm(_CodeMixin, FlaskForm):
    type_id = _TypeSelect("Billable type", coerce=int)
    name = StringField(
        "Name",
        validators=[DataRequired(message="Enter a name for the category."), Length(max=100)],
        filters=[_strip],
    )
    code = StringField("Code", filters=[_strip])

    def set_types(self, types: list, current_type_id: int | None = None) -> None:
        """Offer the firm's active types (and the current one, even if inactive)."""
        self.type_id.choices = [
            SelectChoice(t.id, t.name if t.active else f"{t.name} (inactive)")
            for t in types
            if t.active or t.id == current_type_id
        ]


ROLLUP_CHOICES = [
    SelectChoice("category", "By category: each line uses its category's code"),
    SelectChoice("type", "By type: each line uses the code of its category's type"),
]


class RollupForm(FlaskForm):
    invoice_rollup = RadioField(
        "Invoices roll up by",
        choices=ROLLUP_CHOICES,
        validators=[DataRequired(message="Choose category or type.")],
    )
