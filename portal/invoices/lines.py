"""Invoice lines: the billable category-or-type choice, and writing validated rows to an invoice.

A line is billed under a category ("cat:<id>") or directly under a type ("type:<id>"); the
select groups them. Parsing checks the id belongs to the firm, so a forged value from another
firm's catalogue is refused like any unknown one.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from portal.extensions import db
from portal.models import BillableCategory, BillableType, Invoice, InvoiceLine, line_amount
from portal.models._common import ZERO

NO_BILLABLE = ""


@dataclass(frozen=True)
class LineData:
    """One validated row of the invoice form."""

    description: str
    quantity: Decimal
    rate: Decimal
    category_id: int | None = None
    type_id: int | None = None

    @property
    def amount(self) -> Decimal:
        return line_amount(self.quantity, self.rate)


def billable_value(category_id: int | None, type_id: int | None) -> str:
    """The select value for a line's category or type ("" when it has neither)."""
    if category_id:
        return f"cat:{category_id}"
    if type_id:
        return f"type:{type_id}"
    return NO_BILLABLE


def billable_choices(firm_id: int) -> dict:
    """Grouped choices for the select (WTForms shorthand dict: optgroup -> {value: label}).

    Inactive entries stay listed, marked, so editing an old line never loses its category."""

    def label(name: str, code: str | None, active: bool) -> str:
        text = f"{name} ({code})" if code else name
        return text if active else f"{text} — inactive"

    categories = db.session.execute(
        db.select(BillableCategory)
        .where(BillableCategory.firm_id == firm_id)
        .order_by(BillableCategory.name)
    ).scalars()
    types = db.session.execute(
        db.select(BillableType).where(BillableType.firm_id == firm_id).order_by(BillableType.name)
    ).scalars()
    choices: dict = {NO_BILLABLE: "— No category —"}
    cat_group = {f"cat:{c.id}": label(c.name, c.code, c.active) for c in categories}
    type_group = {f"type:{t.id}": label(t.name, t.code, t.active) for t in types}
    if cat_group:
        choices["Categories"] = cat_group
    if type_group:
        choices["Types"] = type_group
    return choices


def parse_billable(value: str | None, firm_id: int) -> tuple[int | None, int | None]:
    """("cat:3" | "type:2" | "") -> (category_id, type_id). Raises ValueError when the value is
    malformed or names a category/type that is not the firm's."""
    value = (value or "").strip()
    if not value:
        return None, None
    kind, _, raw_id = value.partition(":")
    if not raw_id.isdigit() or kind not in ("cat", "type"):
        raise ValueError("Choose a category or type from the list.")
    model = BillableCategory if kind == "cat" else BillableType
    found = db.session.execute(
        db.select(model.id).where(model.id == int(raw_id), model.firm_id == firm_id)
    ).first()
    if found is None:
        raise ValueError("Choose a category or type from the list.")
    return (int(raw_id), None) if kind == "cat" else (None, int(raw_id))


def replace_lines(invoice: Invoice, rows: list[LineData]) -> None:
    """Make `rows` the invoice's lines, in order, and recompute amounts and the total."""
    invoice.lines.clear()
    for position, row in enumerate(rows):
        invoice.lines.append(_line(position, row))
    invoice.recompute_total()


def append_line(invoice: Invoice, row: LineData) -> None:
    """Add one line at the end and recompute the total."""
    position = max((line.position for line in invoice.lines), default=-1) + 1
    invoice.lines.append(_line(position, row))
    invoice.recompute_total()


def _line(position: int, row: LineData) -> InvoiceLine:
    return InvoiceLine(
        position=position,
        description=row.description,
        quantity=row.quantity,
        rate=row.rate,
        amount=row.amount,
        category_id=row.category_id,
        type_id=row.type_id,
    )


def total_of(rows: list[LineData]) -> Decimal:
    return sum((row.amount for row in rows), ZERO)
