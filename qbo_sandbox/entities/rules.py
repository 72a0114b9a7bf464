"""Registry of entity rules, keyed by QBO entity name."""

from __future__ import annotations

from .base import Rules
from .company import CompanyInfoRules, PreferencesRules
from .names import CustomerRules, EmployeeRules, ItemRules, VendorRules
from .timeactivity import TimeActivityRules
from .txns import InvoiceRules, PaymentRules

RULES: dict[str, Rules] = {
    r.entity: r
    for r in (
        CustomerRules(),
        VendorRules(),
        EmployeeRules(),
        ItemRules(),
        InvoiceRules(),
        PaymentRules(),
        TimeActivityRules(),
        CompanyInfoRules(),
        PreferencesRules(),
    )
}

__all__ = ["RULES", "Rules"]
