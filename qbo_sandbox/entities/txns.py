"""Invoice and Payment (reference §8.3): lines, totals, DocNumber, balances and their links.

Balances are derived: an invoice's Balance is its TotalAmt minus every payment line linked to
it, recomputed whenever a payment changes; the customer's Balance moves by the same delta.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from ..errors import business, fault, invalid_ref, required
from . import schema
from .base import Rules
from .names import USD, address_ids, check_email

if TYPE_CHECKING:
    from ..service import Ctx

LINE_KINDS = {
    "SalesItemLineDetail",
    "DescriptionOnly",
    "DiscountLineDetail",
    "GroupLineDetail",
    "SubTotalLineDetail",
}
TERM_DAYS = {"1": 0, "2": 15, "3": 30, "4": 60}


def money(value: Any) -> float:
    return round(float(value), 2)


def parse_date(value: Any, element: str) -> date:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise fault(
            "2010",
            "Request has invalid or unsupported property",
            "Property Name:Can not construct instance of java.util.Date from String value "
            f"'{value}'",
            element,
        ) from None


def adjust_customer(ctx: Ctx, customer_id: str | None, delta: float) -> None:
    """Move a customer's Balance without touching SyncToken, LastUpdatedTime or CDC visibility.

    UNCONFIRMED: QBO may treat a balance change as a customer update."""
    if not customer_id or not delta:
        return
    row = ctx.store.get_entity(ctx.realm, "Customer", int(customer_id))
    if row:
        doc = row[0]
        doc["Balance"] = money(doc.get("Balance", 0) + delta)
        doc["BalanceWithJobs"] = doc["Balance"]
        ctx.store.replace_doc(ctx.realm, "Customer", int(customer_id), doc)


def payments_for(ctx: Ctx, invoice_id: str, exclude: str | None = None) -> list[tuple[str, float]]:
    """(payment Id, amount applied) for every live payment linked to the invoice."""
    out = []
    for pay in ctx.all("Payment"):
        if pay["Id"] == exclude:
            continue
        applied = sum(
            money(line.get("Amount", 0))
            for line in pay.get("Line", [])
            for link in line.get("LinkedTxn", [])
            if link.get("TxnType") == "Invoice" and str(link.get("TxnId")) == invoice_id
        )
        if applied:
            out.append((pay["Id"], applied))
    return out


def refresh_invoice(ctx: Ctx, invoice_id: str, exclude_payment: str | None = None) -> None:
    """Recompute Balance and Payment links after a payment changed; saves as an Update."""
    inv = ctx.load("Invoice", invoice_id)
    if inv is None:
        return
    paid = payments_for(ctx, invoice_id, exclude_payment)
    old_balance = inv.get("Balance", 0)
    links = [lk for lk in inv.get("LinkedTxn", []) if lk.get("TxnType") != "Payment"]
    links += [{"TxnId": pid, "TxnType": "Payment"} for pid, _ in paid]
    balance = money(inv.get("TotalAmt", 0) - sum(a for _, a in paid))
    if balance == old_balance and links == inv.get("LinkedTxn", []):
        return
    new = dict(inv, Balance=balance, LinkedTxn=links)
    ctx.save("Invoice", new, "Update", inv)
    adjust_customer(ctx, (inv.get("CustomerRef") or {}).get("value"), balance - old_balance)


class InvoiceRules(Rules):
    entity = "Invoice"
    deletable = True
    voidable = True

    def prepare(
        self, ctx: Ctx, doc: dict[str, Any], old: dict[str, Any] | None, opts: dict[str, Any]
    ) -> None:
        if not doc.get("CustomerRef"):
            raise required("CustomerRef")
        customer = ctx.ref(doc["CustomerRef"], "CustomerRef", ("Customer",))
        if not doc.get("Line"):
            raise required("Line")
        check_email(doc, "BillEmail")
        self._lines(ctx, doc, old)
        self._doc_number(ctx, doc, old, opts)
        if doc.get("SalesTermRef") is None and old is None:
            doc["SalesTermRef"] = {"value": "3"}
        txn_date = parse_date(doc.get("TxnDate") or ctx.sb.today(ctx.realm), "TxnDate")
        doc["TxnDate"] = txn_date.isoformat()
        if not doc.get("DueDate"):
            days = TERM_DAYS.get(str((doc.get("SalesTermRef") or {}).get("value")), 30)
            doc["DueDate"] = (txn_date + timedelta(days=days)).isoformat()
        parse_date(doc["DueDate"], "DueDate")
        if not doc.get("BillAddr") and customer.get("BillAddr"):
            doc["BillAddr"] = dict(customer["BillAddr"])
        address_ids(ctx, doc, ("BillAddr", "ShipAddr"))
        if doc.get("EmailStatus") == "NeedToSend" and not (doc.get("BillEmail") or {}).get(
            "Address"
        ):
            raise fault(
                "6420",
                "Email address is required",
                "Need to specify a BillEmail to send this invoice",
                "BillEmail",
            )
        self._links(ctx, doc, old)
        paid = sum(a for _, a in payments_for(ctx, doc["Id"])) if old else 0
        doc["Balance"] = money(doc["TotalAmt"] - paid)
        if doc["Balance"] < 0:
            raise business("The invoice total is less than the payments applied to it.", "Line")
        for key, value in (
            ("CurrencyRef", dict(USD)),
            ("TxnTaxDetail", {"TotalTax": 0}),
            ("GlobalTaxCalculation", "TaxExcluded"),
            ("ApplyTaxAfterDiscount", False),
            ("PrintStatus", "NeedToPrint"),
            ("EmailStatus", "NotSet"),
            ("Deposit", 0),
            ("CustomField", []),
            ("LinkedTxn", []),
        ):
            doc.setdefault(key, value)

    def _lines(self, ctx: Ctx, doc: dict[str, Any], old: dict[str, Any] | None) -> None:
        old_ids = {str(line.get("Id")) for line in (old or {}).get("Line", []) if line.get("Id")}
        next_id = max([int(i) for i in old_ids if i.isdigit()] + [0]) + 1
        out: list[dict[str, Any]] = []
        subtotal = discount = 0.0
        for line in doc["Line"]:
            kind = line.get("DetailType")
            if kind is None:
                raise required("Line.DetailType")
            if kind not in LINE_KINDS:
                raise fault(
                    "2170",
                    "Invalid Enumeration",
                    f"Invalid Enumeration : {kind}",
                    "Line.DetailType",
                )
            if kind == "SubTotalLineDetail":
                continue  # read-only; recomputed below
            line = dict(line)
            if str(line.get("Id")) not in old_ids:
                line["Id"] = str(next_id)
                next_id += 1
            if kind == "SalesItemLineDetail":
                subtotal += self._sales_line(ctx, line)
            elif kind == "DiscountLineDetail":
                detail = line.get("DiscountLineDetail") or {}
                if detail.get("PercentBased") and detail.get("DiscountPercent") is not None:
                    line["Amount"] = money(subtotal * float(detail["DiscountPercent"]) / 100)
                discount += money(line.get("Amount") or 0)
            elif kind == "DescriptionOnly":
                line.pop("Amount", None)
                line.setdefault("DescriptionLineDetail", {})
            out.append(line)
        if not any(line["DetailType"] == "SalesItemLineDetail" for line in out):
            raise required("Line.SalesItemLineDetail")
        for num, line in enumerate(out, start=1):
            line["LineNum"] = num
        out.append(
            {
                "Amount": money(subtotal),
                "DetailType": "SubTotalLineDetail",
                "SubTotalLineDetail": {},
            }
        )
        doc["Line"] = out
        doc["TotalAmt"] = money(subtotal - discount)

    def _sales_line(self, ctx: Ctx, line: dict[str, Any]) -> float:
        detail = dict(line.get("SalesItemLineDetail") or {})
        element = "Line.SalesItemLineDetail.ItemRef"
        if not detail.get("ItemRef"):
            raise required(element)
        item = ctx.ref(detail["ItemRef"], element, ("Item",), "Item")
        if item.get("Type") == "Category":
            raise invalid_ref(element, "Item", item["Id"])
        qty, price = detail.get("Qty"), detail.get("UnitPrice")
        amount = line.get("Amount")
        if amount is None:
            if qty is None or price is None:
                raise required("Line.Amount")
            amount = float(qty) * float(price)
        amount = money(amount)
        if (
            qty is not None
            and price is not None
            and abs(amount - round(float(qty) * float(price), 2)) >= 0.005
        ):
            # Rounding tolerance UNCONFIRMED (reference §13.8): we allow half a cent.
            raise fault(
                "6070",
                "Amount calculation incorrect",
                f"Amount calculation incorrect : Amount is not equal to UnitPrice * Qty. "
                f"Supplied value:{amount}",
                "Line.Amount",
            )
        detail.setdefault("TaxCodeRef", {"value": "NON"})
        if detail.get("ServiceDate"):
            parse_date(detail["ServiceDate"], "Line.SalesItemLineDetail.ServiceDate")
        line["SalesItemLineDetail"] = detail
        line["Amount"] = amount
        return amount

    def _doc_number(
        self, ctx: Ctx, doc: dict[str, Any], old: dict[str, Any] | None, opts: dict[str, Any]
    ) -> None:
        number = doc.get("DocNumber")
        prefs = ctx.load("Preferences", "1") or {}
        custom = (prefs.get("SalesFormsPrefs") or {}).get("CustomTxnNumbers", False)
        if number == "AUTO_GENERATE" or (not number and old is None and not custom):
            used = [
                int(i["DocNumber"])
                for i in ctx.all("Invoice")
                if str(i.get("DocNumber", "")).isdigit()
            ]
            doc["DocNumber"] = number = str(max(used + [1000]) + 1)
        if not number:
            return
        if "allowduplicatedocnum" in str(opts.get("include", "")).lower():
            return
        for _, other_id in ctx.store.find_by_name(
            ctx.realm, ("Invoice",), "DocNumber", str(number)
        ):
            if other_id != doc.get("Id"):
                raise fault(
                    "6140",
                    "Duplicate Document Number Error",
                    "You must specify a different number. This number has already been used. "
                    f"DocNumber={number} is assigned to TxnType=Invoice with TxnId={other_id}",
                    "",
                )

    def _links(self, ctx: Ctx, doc: dict[str, Any], old: dict[str, Any] | None) -> None:
        given = [dict(lk) for lk in doc.get("LinkedTxn") or [] if lk.get("TxnType") != "Payment"]
        for link in given:
            schema.check_object(link, schema.LINKED_TXN, "LinkedTxn", "LinkedTxn")
            if link.get("TxnType") == "TimeActivity":
                if ctx.load("TimeActivity", link.get("TxnId")) is None:
                    raise invalid_ref("LinkedTxn", "TimeActivity", link.get("TxnId"))
                link["TxnId"] = str(link["TxnId"])
        kept = [lk for lk in (old or {}).get("LinkedTxn", []) if lk.get("TxnType") == "Payment"]
        doc["LinkedTxn"] = given + kept

    def after_save(self, ctx: Ctx, doc: dict[str, Any], old: dict[str, Any] | None) -> None:
        old_cust = ((old or {}).get("CustomerRef") or {}).get("value")
        new_cust = doc["CustomerRef"]["value"]
        if old_cust and old_cust != new_cust:
            adjust_customer(ctx, old_cust, -old["Balance"])  # type: ignore[index]
            adjust_customer(ctx, new_cust, doc["Balance"])
        else:
            adjust_customer(ctx, new_cust, doc.get("Balance", 0) - (old or {}).get("Balance", 0))
        before = {
            lk["TxnId"]
            for lk in (old or {}).get("LinkedTxn", [])
            if lk.get("TxnType") == "TimeActivity"
        }
        for link in doc.get("LinkedTxn", []):
            if link.get("TxnType") == "TimeActivity" and link["TxnId"] not in before:
                self._set_billed(ctx, link["TxnId"], "HasBeenBilled")

    def _set_billed(self, ctx: Ctx, ta_id: str, status: str) -> None:
        ta = ctx.load("TimeActivity", ta_id)
        if ta is not None and ta.get("BillableStatus") != status:
            ctx.save("TimeActivity", dict(ta, BillableStatus=status), "Update", ta)

    def _refuse_if_paid(self, ctx: Ctx, doc: dict[str, Any], verb: str) -> None:
        if payments_for(ctx, doc["Id"]):
            # UNCONFIRMED: QBO may instead unapply the payments.
            raise business(f"You can't {verb} this invoice because it has payments applied to it.")

    def before_delete(self, ctx: Ctx, doc: dict[str, Any]) -> None:
        self._refuse_if_paid(ctx, doc, "delete")
        adjust_customer(ctx, doc["CustomerRef"]["value"], -doc.get("Balance", 0))
        for link in doc.get("LinkedTxn", []):
            if link.get("TxnType") == "TimeActivity":
                self._set_billed(ctx, link["TxnId"], "Billable")

    def void(self, ctx: Ctx, doc: dict[str, Any]) -> None:
        self._refuse_if_paid(ctx, doc, "void")
        for line in doc.get("Line", []):
            if "Amount" in line:
                line["Amount"] = 0
            detail = line.get("SalesItemLineDetail")
            if detail:
                detail["Qty"] = 0
        doc["TotalAmt"] = 0
        doc["Balance"] = 0
        doc["PrivateNote"] = "Voided" + (
            f" - {doc['PrivateNote']}" if doc.get("PrivateNote") else ""
        )

    def after_void(self, ctx: Ctx, doc: dict[str, Any], old: dict[str, Any]) -> None:
        adjust_customer(ctx, doc["CustomerRef"]["value"], -old.get("Balance", 0))


class PaymentRules(Rules):
    entity = "Payment"
    deletable = True
    voidable = True

    def prepare(
        self, ctx: Ctx, doc: dict[str, Any], old: dict[str, Any] | None, opts: dict[str, Any]
    ) -> None:
        if not doc.get("CustomerRef"):
            raise required("CustomerRef")
        ctx.ref(doc["CustomerRef"], "CustomerRef", ("Customer",))
        if doc.get("TotalAmt") is None:
            raise required("TotalAmt")
        total = money(doc["TotalAmt"])
        if total < 0:
            raise business("The payment amount cannot be negative.", "TotalAmt")
        applied = 0.0
        lines = []
        for line in doc.get("Line") or []:
            schema.check_object(line, schema.PAYMENT_LINE, "Line", "Line")
            amount = money(line.get("Amount") or 0)
            for link in line.get("LinkedTxn") or []:
                schema.check_object(link, schema.LINKED_TXN, "LinkedTxn", "Line.LinkedTxn")
                if link.get("TxnType") != "Invoice":
                    raise fault(
                        "620",
                        "Txn ID Cannot Be Linked",
                        f"Transaction type {link.get('TxnType')} cannot be linked to a payment",
                        "Line.LinkedTxn.TxnType",
                    )
                inv = ctx.load("Invoice", link.get("TxnId"))
                if inv is None:
                    raise invalid_ref("Line.LinkedTxn.TxnId", "Invoice", link.get("TxnId"))
                if inv["CustomerRef"]["value"] != doc["CustomerRef"]["value"]:
                    raise business("The invoice belongs to a different customer.", "Line.LinkedTxn")
                open_amount = money(
                    inv["TotalAmt"]
                    - sum(a for pid, a in payments_for(ctx, inv["Id"]) if pid != doc.get("Id"))
                )
                if amount > open_amount + 0.004:
                    raise business(
                        f"The amount applied ({amount}) exceeds the open balance of invoice "
                        f"{inv['Id']} ({open_amount}).",
                        "Line.Amount",
                    )
                link["TxnId"] = str(link["TxnId"])
            applied += amount
            lines.append(dict(line, Amount=amount))
        if applied > total + 0.004:
            raise business("The amounts applied exceed the payment total.", "TotalAmt")
        doc["Line"] = lines
        doc["TotalAmt"] = total
        doc["UnappliedAmt"] = money(total - applied)
        doc["TxnDate"] = parse_date(
            doc.get("TxnDate") or ctx.sb.today(ctx.realm), "TxnDate"
        ).isoformat()
        doc.setdefault("CurrencyRef", dict(USD))
        doc.setdefault("ProcessPayment", False)

    @staticmethod
    def _invoice_ids(doc: dict[str, Any] | None) -> set[str]:
        return {
            str(link.get("TxnId"))
            for line in (doc or {}).get("Line", [])
            for link in line.get("LinkedTxn", [])
            if link.get("TxnType") == "Invoice"
        }

    def after_save(self, ctx: Ctx, doc: dict[str, Any], old: dict[str, Any] | None) -> None:
        for inv_id in sorted(self._invoice_ids(doc) | self._invoice_ids(old)):
            refresh_invoice(ctx, inv_id)

    def before_delete(self, ctx: Ctx, doc: dict[str, Any]) -> None:
        for inv_id in sorted(self._invoice_ids(doc)):
            refresh_invoice(ctx, inv_id, exclude_payment=doc["Id"])

    def void(self, ctx: Ctx, doc: dict[str, Any]) -> None:
        for line in doc.get("Line", []):
            line["Amount"] = 0
        doc["TotalAmt"] = 0
        doc["UnappliedAmt"] = 0
        doc["PrivateNote"] = "Voided"

    def after_void(self, ctx: Ctx, doc: dict[str, Any], old: dict[str, Any]) -> None:
        self.after_save(ctx, doc, old)
