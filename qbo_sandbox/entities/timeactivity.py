"""TimeActivity (reference §8.5): who, how long, and whether it is billable (codes 6290-6390).

Message texts for 6290-6390 are ours; only the codes (and 6310's wording) come from Intuit's
catalogue (UNCONFIRMED wording).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..clock import parse_iso
from ..errors import QboFault, fault
from .base import Rules

if TYPE_CHECKING:
    from ..service import Ctx

STATUSES = ("Billable", "NotBillable", "HasBeenBilled")


def ta_fault(code: str, message: str, detail: str, element: str = "") -> QboFault:
    return fault(code, message, detail, element)


def _int(doc: dict[str, Any], name: str) -> int:
    value = doc.get(name, 0)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ta_fault(
            "6350", "Invalid Time", f"{name} must be a whole number. Supplied value:{value}", name
        )
    try:
        number = float(value)
    except ValueError:
        raise ta_fault(
            "6350", "Invalid Time", f"{name} must be a whole number. Supplied value:{value}", name
        ) from None
    if number != int(number):
        raise ta_fault(
            "6350", "Invalid Time", f"{name} must be a whole number. Supplied value:{value}", name
        )
    return int(number)


class TimeActivityRules(Rules):
    entity = "TimeActivity"
    deletable = True

    def prepare(
        self, ctx: Ctx, doc: dict[str, Any], old: dict[str, Any] | None, opts: dict[str, Any]
    ) -> None:
        self._who(ctx, doc)
        doc["TxnDate"] = str(doc.get("TxnDate") or ctx.sb.today(ctx.realm))[:10]
        self._duration(ctx, doc)
        self._billable(ctx, doc, old)
        if doc.get("ItemRef"):
            ctx.ref(doc["ItemRef"], "ItemRef", ("Item",), "Item")
        doc.setdefault("Taxable", False)
        doc.setdefault("HourlyRate", 0)

    def _who(self, ctx: Ctx, doc: dict[str, Any]) -> None:
        name_of = doc.get("NameOf")
        if name_of not in ("Employee", "Vendor"):
            raise ta_fault(
                "6300",
                "Invalid NameOf",
                f"NameOf must be Employee or Vendor. Supplied value:{name_of}",
                "NameOf",
            )
        emp, ven = doc.get("EmployeeRef"), doc.get("VendorRef")
        mine = emp if name_of == "Employee" else ven
        if not mine or (emp and ven):
            raise ta_fault(
                "6290",
                "Invalid Employee Or Vendor",
                "A time activity needs exactly one of EmployeeRef (NameOf Employee) or VendorRef "
                "(NameOf Vendor).",
                f"{name_of}Ref",
            )
        ctx.ref(mine, f"{name_of}Ref", (name_of,))

    def _duration(self, ctx: Ctx, doc: dict[str, Any]) -> None:
        has_hours = doc.get("Hours") is not None or doc.get("Minutes") is not None
        has_span = doc.get("StartTime") is not None or doc.get("EndTime") is not None
        if has_hours and has_span:
            raise ta_fault(
                "6390",
                "Invalid Duration",
                "Specify either Hours/Minutes or StartTime/EndTime, not both.",
                "Hours",
            )
        if not has_hours and not has_span:
            raise ta_fault(
                "6340", "Time Missing", "Specify Hours/Minutes or StartTime and EndTime.", "Hours"
            )
        if has_hours:
            hours, minutes = _int(doc, "Hours"), _int(doc, "Minutes")
            if hours < 0 or not 0 <= minutes <= 59 or hours > 8760 or (hours == 8760 and minutes):
                raise ta_fault(
                    "6380",
                    "Duration Out Of Range",
                    "Hours must be 0-8760 and Minutes 0-59 (8760 hours with 0 minutes at most).",
                    "Hours",
                )
            if hours == 0 and minutes == 0:
                raise ta_fault(
                    "6380",
                    "Duration Out Of Range",
                    "The duration must be greater than zero.",
                    "Hours",
                )
            doc["Hours"], doc["Minutes"] = hours, minutes
            return
        if doc.get("StartTime") is None or doc.get("EndTime") is None:
            raise ta_fault(
                "6340", "Time Missing", "Both StartTime and EndTime are required.", "StartTime"
            )
        start = self._when(doc, "StartTime")
        end = self._when(doc, "EndTime")
        if start >= end:
            raise ta_fault(
                "6370",
                "Start Time After End Time",
                "StartTime must be before EndTime.",
                "StartTime",
            )
        brk = timedelta(hours=_int(doc, "BreakHours"), minutes=_int(doc, "BreakMinutes"))
        if brk >= end - start:
            raise ta_fault(
                "6360", "Break Too Long", "The break is longer than the time worked.", "BreakHours"
            )

    def _when(self, doc: dict[str, Any], name: str) -> datetime:
        raw = str(doc[name])
        value = parse_iso(raw if "T" in raw else f"{doc['TxnDate']}T{raw}")
        if value is None:
            raise ta_fault(
                "6350",
                "Invalid Time",
                f"{name} is not a valid dateTime. Supplied value:{raw}",
                name,
            )
        doc[name] = value.isoformat()
        return value if value.tzinfo else value.replace(tzinfo=None)

    def _billable(self, ctx: Ctx, doc: dict[str, Any], old: dict[str, Any] | None) -> None:
        status = doc.get("BillableStatus") or "NotBillable"
        if status not in STATUSES or (
            status == "HasBeenBilled" and (old or {}).get("BillableStatus") != "HasBeenBilled"
        ):
            raise ta_fault(
                "6320",
                "Invalid Billable Status",
                f"BillableStatus must be Billable or NotBillable. Supplied value:{status}",
                "BillableStatus",
            )
        doc["BillableStatus"] = status
        if doc.get("CustomerRef"):
            ctx.ref(doc["CustomerRef"], "CustomerRef", ("Customer",))
        if status == "Billable":
            if not doc.get("CustomerRef"):
                raise ta_fault(
                    "6310",
                    "Customer Required",
                    "A customer is required if the transaction is billable",
                    "CustomerRef",
                )
            rate = doc.get("HourlyRate")
            try:
                ok = rate is not None and not isinstance(rate, bool) and float(rate) >= 0
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise ta_fault(
                    "6330",
                    "Invalid Hourly Rate",
                    "An hourly rate (0 or more) is required if the transaction is billable",
                    "HourlyRate",
                )
