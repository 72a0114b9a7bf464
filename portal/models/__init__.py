"""Portal models, one concern per module; imported here so metadata and migrations see them all."""

from portal.models.billing import BillableCategory, BillableType
from portal.models.client import CLIENT_KINDS, Client, display_name_for
from portal.models.firm import ROLLUP_CHOICES, Firm
from portal.models.invoice import INVOICE_STATUSES, Invoice, InvoiceLine, line_amount
from portal.models.qbo import QboConnection, StripeConnection
from portal.models.review import ClientReview, SyncHold
from portal.models.sync import SyncEvent, SyncRun
from portal.models.time_entry import TIME_STATUSES, TimeEntry
from portal.models.user import ROLES, User

__all__ = [
    "CLIENT_KINDS",
    "INVOICE_STATUSES",
    "ROLES",
    "ROLLUP_CHOICES",
    "TIME_STATUSES",
    "BillableCategory",
    "BillableType",
    "Client",
    "ClientReview",
    "Firm",
    "Invoice",
    "InvoiceLine",
    "QboConnection",
    "StripeConnection",
    "SyncEvent",
    "SyncHold",
    "SyncRun",
    "TimeEntry",
    "User",
    "display_name_for",
    "line_amount",
]
