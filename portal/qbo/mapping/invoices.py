"""Pure mapping: a portal Invoice -> a QBO Invoice payload (I2), or the reasons it must wait.

No I/O, no session: callers pass the invoice (anything with the Invoice/InvoiceLine attributes),
the firm's roll-up, the customer id and what QBO said about each code (``ItemInfo``).

Rules, each pinned by tests/test_invoice_mapping.py:

- A line uses the code of its category, or of the category's type when the firm rolls up by
  type; a line billed directly under a type uses the type's code. A line with neither is left
  out, and the omission is reported (``MappedInvoice.omitted``).
- A code that is empty, unknown to QBO, inactive, or names a Category (or any item that is not a
  Service/NonInventory) holds the whole invoice back, with a message naming the category or
  type, the code and the fix.
- Amounts: QBO refuses a line whose Amount is not Qty x UnitPrice (6070). The portal's amount is
  Qty x rate rounded half-up to cents. When that product is exact at 2 decimals we send Qty,
  UnitPrice and Amount as they are; when it is not (0.25 h x 133.33 = 33.3325), we send Qty 1 x
  UnitPrice = the rounded amount and keep "0.25 x 133.33" in the description, so QBO's
  arithmetic is exact and its total equals the portal's total for the lines sent.
- DocNumber is the portal's invoice number (QBO allows at most 21 characters).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

DOC_NUMBER_MAX = 21
DESCRIPTION_MAX = 4000
MEMO_MAX = 1000
CENT = Decimal("0.01")
USABLE_TYPES = ("Service", "NonInventory")

FOUND, INACTIVE, CATEGORY, WRONG_TYPE, MISSING = (
    "found", "inactive", "category", "wrong_type", "missing")


@dataclass(frozen=True)
class ItemInfo:
    """What QBO has under one code (an Item Name): its status and, when usable, its Id."""

    code: str
    status: str  # found | inactive | category | wrong_type | missing
    item_id: str | None = None
    name: str | None = None
    item_type: str | None = None

    @property
    def usable(self) -> bool:
        return self.status == FOUND


@dataclass
class MappedInvoice:
    """The payload to send, or the reasons (``problems``) the invoice is held back."""

    payload: dict[str, Any] | None
    problems: list[str] = field(default_factory=list)
    omitted: list[str] = field(default_factory=list)  # descriptions of lines left out
    total: Decimal = Decimal("0.00")  # sum of the amounts of the lines sent

    @property
    def held(self) -> bool:
        return bool(self.problems)

    def omission_note(self) -> str | None:
        if not self.omitted:
            return None
        names = "; ".join(f'"{d}"' if d else "(no description)" for d in self.omitted)
        n = len(self.omitted)
        return (f"{n} line{'s' if n != 1 else ''} without a category or type "
                f"{'were' if n != 1 else 'was'} left out of the QuickBooks invoice: {names}.")


def code_key(code: str) -> str:
    """Codes match QBO Item Names without regard to case or surrounding spaces."""
    return code.strip().casefold()


def line_source(line: Any, rollup: str) -> tuple[str, str, str | None] | None:
    """(kind, name, code) whose code the line uses, or None when it has no category/type."""
    category = getattr(line, "category", None)
    if category is not None:
        if rollup == "type" and category.type is not None:
            return "type", category.type.name, _clean(category.type.code)
        return "category", category.name, _clean(category.code)
    btype = getattr(line, "type", None)
    if btype is not None:
        return "type", btype.name, _clean(btype.code)
    return None


def codes_of(invoices: Iterable[Any], rollup: str) -> set[str]:
    """Every non-empty code the invoices' lines use (for the one Item query)."""
    codes: set[str] = set()
    for invoice in invoices:
        for line in invoice.lines:
            source = line_source(line, rollup)
            if source and source[2]:
                codes.add(source[2])
    return codes


def qbo_amounts(quantity: Decimal, rate: Decimal) -> tuple[Decimal, Decimal, Decimal, bool]:
    """(Qty, UnitPrice, Amount, collapsed) with Qty x UnitPrice == Amount exactly."""
    quantity, rate = Decimal(quantity), Decimal(rate)
    exact = quantity * rate
    amount = exact.quantize(CENT, rounding=ROUND_HALF_UP)
    if exact == amount:
        return quantity, rate, amount, False
    return Decimal(1), amount, amount, True


def doc_number_problem(number: str | None) -> str | None:
    value = (number or "").strip()
    if not value:
        return "The invoice has no number. Fix: give it a number, then push it again."
    if len(value) > DOC_NUMBER_MAX:
        return (f"Invoice number {value} is {len(value)} characters long; QuickBooks allows at "
                f"most {DOC_NUMBER_MAX}. Fix: shorten the number, then push it again.")
    return None


def item_problem(kind: str, name: str, code: str | None, info: ItemInfo | None) -> str | None:
    """The hold message for one (category/type, code), or None when the code is usable."""
    what = f'The {kind} "{name}"'
    change = f"or change the {kind}'s code in Customizations"
    if not code:
        return (f"{what} has no code. Fix: set its code in Customizations to the exact Name of "
                "a QuickBooks Product/Service.")
    if info is None or info.status == MISSING:
        return (f'{what} uses code {code}, but QuickBooks has no Product/Service named "{code}". '
                f"Fix: create a Service named {code} in QuickBooks (Sales > Products and "
                f"services), {change}.")
    if info.status == INACTIVE:
        return (f'{what} uses code {code}, but the QuickBooks Product/Service "{code}" is '
                f"inactive. Fix: make it active in QuickBooks (Products and services), {change}.")
    if info.status == CATEGORY:
        return (f'{what} uses code {code}, but "{code}" is a Category in QuickBooks, not a '
                f"Product/Service, so invoice lines cannot use it. Fix: rename that category in "
                f"QuickBooks and create a Service named {code}, {change}.")
    if info.status == WRONG_TYPE:
        return (f'{what} uses code {code}, but "{code}" is a {info.item_type} item in '
                f"QuickBooks; invoices use Service or Non-inventory items. Fix: use a Service "
                f"item, {change}.")
    return None


def private_note(firm_id: int, invoice_id: int) -> str:
    """A marker on the QBO invoice that proves it is ours (used by the look-up before create)."""
    return f"Sent by Practice Portal (ref {marker(firm_id, invoice_id)})."


def marker(firm_id: int, invoice_id: int) -> str:
    return f"PP-{firm_id}-{invoice_id}"


def marker_in(qbo_invoice: Mapping[str, Any]) -> bool:
    """Whether a QBO invoice carries some portal marker (which invoice: compare ``marker``)."""
    return "(ref PP-" in str(qbo_invoice.get("PrivateNote") or "")


def _clean(code: str | None) -> str | None:
    code = (code or "").strip()
    return code or None


def _num(value: Decimal) -> int | float:
    """A JSON number that prints exactly as the decimal (2 places survive float repr)."""
    return int(value) if value == value.to_integral_value() else float(value)


def _description(text: str, quantity: Decimal, rate: Decimal, collapsed: bool) -> str:
    text = (text or "").strip()
    if collapsed:
        text = f"{text} ({quantity.normalize():f} x {rate:.2f})".strip()
    return text[:DESCRIPTION_MAX]


def invoice_payload(invoice: Any, rollup: str, customer_id: str | None,
                    items: Mapping[str, ItemInfo]) -> MappedInvoice:
    """Map ``invoice``; ``items`` is keyed by ``code_key(code)``."""
    result = MappedInvoice(payload=None)
    problem = doc_number_problem(invoice.number)
    if problem:
        result.problems.append(problem)
    lines: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str | None]] = set()
    for line in sorted(invoice.lines, key=lambda ln: (ln.position or 0, ln.id or 0)):
        source = line_source(line, rollup)
        if source is None:
            result.omitted.append((line.description or "").strip())
            continue
        kind, name, code = source
        info = items.get(code_key(code)) if code else None
        problem = item_problem(kind, name, code, info)
        if problem:
            if source not in seen:
                result.problems.append(problem)
                seen.add(source)
            continue
        assert info is not None and info.item_id
        qty, price, amount, collapsed = qbo_amounts(line.quantity, line.rate)
        result.total += amount
        lines.append({
            "DetailType": "SalesItemLineDetail",
            "Amount": _num(amount),
            "Description": _description(line.description, Decimal(line.quantity),
                                        Decimal(line.rate), collapsed),
            "SalesItemLineDetail": {
                "ItemRef": {"value": info.item_id, "name": info.name or code},
                "Qty": _num(qty),
                "UnitPrice": _num(price),
            },
        })
    if not invoice.lines:
        result.problems.append("The invoice has no lines. Fix: add at least one line.")
    elif not lines and not result.problems:
        result.problems.append("None of the invoice's lines has a category or type, so there "
                               "is nothing to send. Fix: give its lines a category or type.")
    if not customer_id and not result.problems:
        result.problems.append("The client is not linked to a QuickBooks customer.")
    if result.problems:
        return result
    for num, line in enumerate(lines, start=1):
        line["LineNum"] = num
    payload: dict[str, Any] = {
        "CustomerRef": {"value": str(customer_id)},
        "DocNumber": invoice.number.strip(),
        "TxnDate": invoice.issue_date.isoformat(),
        "PrivateNote": private_note(invoice.firm_id, invoice.id),
        "Line": lines,
    }
    if invoice.due_date:
        payload["DueDate"] = invoice.due_date.isoformat()
    if (invoice.memo or "").strip():
        payload["CustomerMemo"] = {"value": invoice.memo.strip()[:MEMO_MAX]}
    result.payload = payload
    return result
