"""portal.qbo.mapping.invoices: pure, table-driven, no database and no HTTP."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace as NS

import pytest

from portal.qbo.mapping.invoices import (
    CATEGORY,
    FOUND,
    INACTIVE,
    MISSING,
    WRONG_TYPE,
    ItemInfo,
    code_key,
    codes_of,
    invoice_payload,
    qbo_amounts,
)

TAX = NS(name="Tax", code="TAX")
IND = NS(name="Individual tax return", code="TAX-IND", type=TAX)
NOCODE = NS(name="Bookkeeping", code=None, type=TAX)
ITEMS = {
    code_key("TAX"): ItemInfo("TAX", FOUND, "25", "TAX", "Service"),
    code_key("TAX-IND"): ItemInfo("TAX-IND", FOUND, "19", "TAX-IND", "Service"),
}


def line(desc="Advice", qty="1", rate="100", category=None, type_=None, pos=0):
    return NS(description=desc, quantity=Decimal(qty), rate=Decimal(rate), category=category,
              type=type_, position=pos, id=pos + 1)


def invoice(*lines, number="1001", memo=None):
    return NS(id=7, firm_id=3, number=number, issue_date=date(2024, 5, 1),
              due_date=date(2024, 5, 31), memo=memo, lines=list(lines))


@pytest.mark.parametrize(("rollup", "ln", "item_id"), [
    ("category", line(category=IND), "19"),       # category code
    ("type", line(category=IND), "25"),           # the category's type's code
    ("category", line(type_=TAX), "25"),          # billed directly under a type
    ("type", line(type_=TAX), "25"),
])
def test_line_uses_the_code_of_the_rollup(rollup, ln, item_id):
    mapped = invoice_payload(invoice(ln), rollup, "58", ITEMS)

    assert not mapped.held
    [sent] = mapped.payload["Line"]
    assert sent["SalesItemLineDetail"]["ItemRef"]["value"] == item_id
    assert mapped.payload["CustomerRef"] == {"value": "58"}
    assert mapped.payload["DocNumber"] == "1001"
    assert mapped.payload["TxnDate"] == "2024-05-01"
    assert mapped.payload["DueDate"] == "2024-05-31"
    assert "PP-3-7" in mapped.payload["PrivateNote"]


@pytest.mark.parametrize(("qty", "rate", "sent_qty", "sent_price", "amount"), [
    ("2", "150", 2, 150, 300),
    ("1.5", "100", 1.5, 100, 150),
    ("0.25", "133.33", 1, 33.33, 33.33),     # 33.3325 -> one unit of the rounded amount
    ("0.33", "150", 0.33, 150, 49.5),
    ("0.333", "150", 1, 49.95, 49.95),       # 49.95 exactly: kept as qty x rate
    ("0.335", "0.05", 1, 0.02, 0.02),        # 0.01675 rounds half-up
    ("3", "33.33", 3, 33.33, 99.99),
    ("0", "120", 0, 120, 0),
])
def test_qty_times_unit_price_equals_amount_exactly(qty, rate, sent_qty, sent_price, amount):
    mapped = invoice_payload(invoice(line(qty=qty, rate=rate, category=IND)), "category", "1",
                             ITEMS)

    [sent] = mapped.payload["Line"]
    detail = sent["SalesItemLineDetail"]
    if qty == "0.333":  # 0.333 x 150 = 49.95 is exact: no need to collapse
        sent_qty, sent_price = 0.333, 150
    assert (detail["Qty"], detail["UnitPrice"], sent["Amount"]) == (sent_qty, sent_price, amount)
    assert Decimal(str(detail["Qty"])) * Decimal(str(detail["UnitPrice"])) == \
        Decimal(str(sent["Amount"]))
    assert mapped.total == Decimal(str(amount)).quantize(Decimal("0.01"))


def test_collapsed_line_keeps_quantity_and_rate_in_the_description():
    mapped = invoice_payload(invoice(line("Review", "0.25", "133.33", category=IND)),
                             "category", "1", ITEMS)

    assert mapped.payload["Line"][0]["Description"] == "Review (0.25 x 133.33)"


def test_qbo_amounts_never_differ_from_half_up_cents():
    for qty in ("0.01", "0.25", "0.33", "0.5", "0.75", "1.13", "7.77"):
        for rate in ("0.05", "33.33", "133.33", "150.00", "99.99"):
            q, p, amount, _ = qbo_amounts(Decimal(qty), Decimal(rate))
            assert q * p == amount
            assert amount == (Decimal(qty) * Decimal(rate)).quantize(
                Decimal("0.01"), rounding="ROUND_HALF_UP")


def test_line_without_category_or_type_is_omitted_and_reported():
    mapped = invoice_payload(
        invoice(line("Billed", category=IND, pos=0), line("Courier", "1", "12", pos=1)),
        "category", "1", ITEMS)

    assert not mapped.held
    assert len(mapped.payload["Line"]) == 1
    assert mapped.omitted == ["Courier"]
    assert mapped.total == Decimal("100.00")
    assert '1 line without a category or type was left out' in mapped.omission_note()
    assert '"Courier"' in mapped.omission_note()


def test_only_uncategorised_lines_hold_the_invoice():
    mapped = invoice_payload(invoice(line("Courier")), "category", "1", ITEMS)

    assert mapped.held and mapped.payload is None
    assert "None of the invoice's lines has a category or type" in mapped.problems[0]


@pytest.mark.parametrize(("info", "words"), [
    (None, ['QuickBooks has no Product/Service named "TAX-IND"', "create a Service named TAX-IND"]),
    (ItemInfo("TAX-IND", MISSING), ["has no Product/Service named"]),
    (ItemInfo("TAX-IND", INACTIVE, "19", "TAX-IND", "Service"), ["is inactive", "make it active"]),
    (ItemInfo("TAX-IND", CATEGORY, "40", "TAX-IND", "Category"),
     ["is a Category in QuickBooks, not a Product/Service"]),
    (ItemInfo("TAX-IND", WRONG_TYPE, "41", "TAX-IND", "Inventory"), ["is a Inventory item"]),
])
def test_unusable_code_holds_with_category_code_and_fix(info, words):
    items = {code_key("TAX"): ITEMS[code_key("TAX")]}
    if info is not None:
        items[code_key("TAX-IND")] = info
    mapped = invoice_payload(invoice(line(category=IND), line(category=IND, pos=1)),
                             "category", "1", items)

    assert mapped.held and mapped.payload is None
    assert len(mapped.problems) == 1  # one message per category, not per line
    message = mapped.problems[0]
    assert 'The category "Individual tax return" uses code TAX-IND' in message
    assert "Fix:" in message and "change the category's code in Customizations" in message
    for word in words:
        assert word in message


def test_type_rollup_names_the_type_in_the_hold():
    mapped = invoice_payload(invoice(line(category=IND)), "type", "1", {})

    assert mapped.problems[0].startswith('The type "Tax" uses code TAX')


def test_missing_code_holds_with_fix():
    mapped = invoice_payload(invoice(line(category=NOCODE)), "category", "1", ITEMS)

    assert mapped.problems == ['The category "Bookkeeping" has no code. Fix: set its code in '
                               "Customizations to the exact Name of a QuickBooks Product/Service."]


def test_codes_match_items_without_regard_to_case():
    lower = NS(name="Lower", code=" tax-ind ", type=TAX)
    mapped = invoice_payload(invoice(line(category=lower)), "category", "1", ITEMS)

    assert mapped.payload["Line"][0]["SalesItemLineDetail"]["ItemRef"]["value"] == "19"
    assert codes_of([invoice(line(category=lower))], "category") == {"tax-ind"}


@pytest.mark.parametrize(("number", "ok"), [
    ("1001", True),
    ("X" * 21, True),
    ("X" * 22, False),
    ("  ", False),
])
def test_doc_number_is_the_invoice_number_at_most_21(number, ok):
    mapped = invoice_payload(invoice(line(category=IND), number=number), "category", "1", ITEMS)

    assert mapped.held is not ok
    if ok:
        assert mapped.payload["DocNumber"] == number
    else:
        assert "number" in mapped.problems[0]


def test_memo_goes_to_the_customer_memo():
    mapped = invoice_payload(invoice(line(category=IND), memo=" Thanks! "), "category", "1",
                             ITEMS)

    assert mapped.payload["CustomerMemo"] == {"value": "Thanks!"}


def test_no_customer_holds():
    mapped = invoice_payload(invoice(line(category=IND)), "category", None, ITEMS)

    assert mapped.held
