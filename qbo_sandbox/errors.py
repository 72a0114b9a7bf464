"""QBO's two error shapes, as exceptions the views raise and one place that renders them.

QBO answers data-service errors with a capitalised ``Fault`` (HTTP 400, or 500/503 for system
faults) and gateway errors (401/403/429) with a lower-case ``fault`` envelope (reference §4.1-4.2).
Keeping both here means every view raises a typed error and never formats JSON by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

INACTIVE_DETAIL = (
    "Object Not Found : Something you're trying to use has been made inactive. "
    "Check the fields with accounts, customers, items, vendors or employees."
)


@dataclass
class ErrorItem:
    """One entry of ``Fault.Error``."""

    code: str
    message: str
    detail: str = ""
    element: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "Message": self.message,
            "Detail": self.detail,
            "code": self.code,
            "element": self.element,
        }


class QboFault(Exception):
    """A ``Fault`` answer (validation/business/system). ``status`` is the HTTP status."""

    def __init__(
        self, errors: list[ErrorItem], fault_type: str = "ValidationFault", status: int = 400
    ):
        super().__init__(errors[0].message if errors else fault_type)
        self.errors = errors
        self.fault_type = fault_type
        self.status = status

    def fault_dict(self) -> dict[str, Any]:
        return {"Error": [e.as_dict() for e in self.errors], "type": self.fault_type}


def fault(code: str, message: str, detail: str = "", element: str = "", **kw: Any) -> QboFault:
    """Shorthand for a single-error :class:`QboFault`."""
    return QboFault([ErrorItem(code, message, detail, element)], **kw)


def required(element: str) -> QboFault:
    return fault(
        "2020",
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {element} is missing in the request",
        element,
    )


def invalid_ref(element: str, kind: str, ref_id: Any) -> QboFault:
    return fault(
        "2500",
        "Invalid Reference Id",
        f"Invalid Reference Id : {kind} element id {ref_id} not found",
        element,
    )


def inactive_ref(element: str) -> QboFault:
    return fault("610", "Object Not Found", INACTIVE_DETAIL, element)


def not_found(entity: str, entity_id: str) -> QboFault:
    # UNCONFIRMED Detail text for a plain missing Id (reference §4.1 / §13.11).
    return fault(
        "610",
        "Object Not Found",
        f"Object Not Found : {entity} with Id {entity_id} was not found",
        "",
    )


def bad_length(element: str, max_len: int, supplied: int, min_len: int = 0) -> QboFault:
    return fault(
        "2050",
        "Invalid String Length",
        f"String length specified does not match the supported length. Min:{min_len} Max:{max_len} "
        f"supported. Supplied length:{supplied}",
        element,
    )


def business(detail: str, element: str = "") -> QboFault:
    return fault(
        "6000",
        "A business validation error has occurred while processing your request",
        detail,
        element,
    )


def unsupported(detail: str) -> QboFault:
    return fault("500", "Unsupported Operation", detail, "")


def unrecognized(prop: str, cls: str) -> QboFault:
    return fault(
        "2010",
        "Request has invalid or unsupported property",
        f'Property Name:Unrecognized field "{prop}" (class com.intuit.schema.finance.v3.{cls}), '
        "not marked as ignorable",
        "",
    )


def system_fault(detail: str, status: int = 500) -> QboFault:
    return fault(
        "10000",
        "An application error has occurred while processing your request",
        f"System Failure Error: {detail}",
        "",
        fault_type="SystemFault",
        status=status,
    )


@dataclass
class GatewayFault(Exception):
    """A lower-case ``fault`` answer from Intuit's gateway (401 / 403 / 429)."""

    status: int
    name: str
    code: str
    detail: str | None = None
    fault_type: str = "AUTHENTICATION"
    headers: dict[str, str] = field(default_factory=dict)

    def body(self, epoch_ms: int) -> dict[str, Any]:
        # Envelope copied from a captured real 401 (reference §4.2).
        return {
            "warnings": None,
            "intuitObject": None,
            "fault": {
                "error": [
                    {
                        "message": f"message={self.name}; errorCode={int(self.code):06d}; "
                        f"statusCode={self.status}",
                        "detail": self.detail,
                        "code": self.code,
                        "element": None,
                    }
                ],
                "type": self.fault_type,
            },
            "report": None,
            "queryResponse": None,
            "batchItemResponse": [],
            "attachableResponse": [],
            "syncErrorResponse": None,
            "requestId": None,
            "time": epoch_ms,
            "status": None,
            "cdcresponse": [],
        }


def auth_failed(detail: str) -> GatewayFault:
    return GatewayFault(
        401,
        "AuthenticationFailed",
        "3200",
        detail,
        "AUTHENTICATION",
        {"WWW-Authenticate": 'Bearer realm="Intuit", error="invalid_token"'},
    )


def authz_failed() -> GatewayFault:
    return GatewayFault(403, "ApplicationAuthorizationFailed", "3100", None, "SERVICE")


def throttled() -> GatewayFault:
    # Casing/type of the 429 body is UNCONFIRMED (reference §4.2); we use the gateway shape.
    return GatewayFault(
        429, "ThrottleExceeded", "3001", "The request limit was reached.", "SERVICE"
    )
