"""CompanyInfo and Preferences: one object per company, readable and (sparse-)updatable."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import required
from .base import Rules

if TYPE_CHECKING:
    from ..service import Ctx


class CompanyInfoRules(Rules):
    entity = "CompanyInfo"
    creatable = False

    def prepare(
        self, ctx: Ctx, doc: dict[str, Any], old: dict[str, Any] | None, opts: dict[str, Any]
    ) -> None:
        if not doc.get("CompanyName"):
            raise required("CompanyName")

    def after_save(self, ctx: Ctx, doc: dict[str, Any], old: dict[str, Any] | None) -> None:
        company = ctx.sb.company(ctx.realm)
        if company is not None and company.get("name") != doc["CompanyName"]:
            company["name"] = doc["CompanyName"]
            ctx.store.put("company", ctx.realm, company)


class PreferencesRules(Rules):
    entity = "Preferences"
    creatable = False
    keep_on_full_update = frozenset(
        {
            "AccountingInfoPrefs",
            "ProductAndServicesPrefs",
            "SalesFormsPrefs",
            "EmailMessagesPrefs",
            "VendorAndPurchasesPrefs",
            "TimeTrackingPrefs",
            "TaxPrefs",
            "CurrencyPrefs",
            "ReportPrefs",
            "OtherPrefs",
        }
    )
