"""Typed QBO errors, and the one table that maps an HTTP answer to them.

QBO speaks two error dialects (reference §4.1-4.2): data-service faults
``{"Fault": {"Error": [{"Message", "Detail", "code", "element"}], "type"}}`` (400, 500, 503)
and gateway faults ``{"fault": {"error": [{"message": "message=X; errorCode=003200;
statusCode=401", "detail", "code"}], "type"}}`` (401, 403, 429). Callers branch on the class,
never on strings; QBO's own code, message, detail and element are kept for the sync log.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FaultItem:
    """One entry of a Fault's error list, normalised across both shapes."""

    code: str
    message: str
    detail: str
    element: str


class QboError(Exception):
    """Base of every error raised by portal.qbo.

    ``retryable`` says whether the same request may be sent again (with the same requestid).
    """

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        detail: str | None = None,
        element: str | None = None,
        intuit_tid: str | None = None,
        fault_type: str | None = None,
        errors: list[FaultItem] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.detail = detail
        self.element = element
        self.intuit_tid = intuit_tid
        self.fault_type = fault_type
        self.errors = errors or []

    def __str__(self) -> str:
        parts = [self.message]
        if self.detail and self.detail != self.message:
            parts.append(self.detail)
        label = f" [{self.code}]" if self.code else ""
        return " : ".join(parts) + label

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r}, intuit_tid={self.intuit_tid!r})"
        )


class AuthFailed(QboError):
    """401 / 3200: the access token was refused (expired, revoked or malformed)."""


class Forbidden(QboError):
    """403 / 3100: the app may not use this company (disconnected, wrong keys, role)."""


class Throttled(QboError):
    """429 / 3001: QBO's rate or concurrency limit was hit; wait ``retry_after`` seconds."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class StaleObject(QboError):
    """5010: the SyncToken we sent is no longer current; re-read and retry the update."""


class DuplicateName(QboError):
    """6240: the DisplayName is taken by a Customer, Vendor or Employee.

    ``existing_id`` is the Id from a ``: Id=<n>`` detail; the other two detail variants
    ("Another customer, vendor or employee ..." and ": null") leave it None, and the caller
    falls back to a DisplayName query.
    """

    @property
    def existing_id(self) -> str | None:
        match = re.search(r"\bId\s*=\s*(\d+)", self.detail or "")
        return match.group(1) if match else None


class DuplicateDocNumber(QboError):
    """6140: the DocNumber is already used by another transaction."""


class NotFound(QboError):
    """610 (or an HTTP 404): the object does not exist, or a reference points at an inactive one."""


class ValidationFault(QboError):
    """Any other 4xx Fault: 2010, 2020, 2040, 2050, 2500, 6070, 4000, 6000 ..."""


class ServerError(QboError):
    """5xx: QBO failed; safe to retry with the same requestid."""

    retryable = True


class TransportError(QboError):
    """Timeout, dropped connection or unreadable answer; safe to retry with the same requestid."""

    retryable = True


class OAuthError(QboError):
    """An error answer from Intuit's token/revoke endpoints (RFC 6749 ``error`` codes)."""


class InvalidGrant(OAuthError):
    """``invalid_grant``: the refresh token (or code) is dead; an admin must reconnect."""


class NotConnected(QboError):
    """The firm has no usable QBO connection (never connected, disconnected, needs reconnect).

    Raised before any HTTP call, so a firm in this state costs QBO nothing (no retry storms).
    """


class TokenDecryptError(QboError):
    """The stored tokens cannot be decrypted with any configured key."""


# One table: QBO error code -> class. Codes win over the HTTP status, except that every 5xx is a
# ServerError and 401/403/429 always map by status (the gateway's code is then informative only).
CODE_CLASSES: dict[str, type[QboError]] = {
    "100": AuthFailed,
    "110": AuthFailed,
    "120": AuthFailed,
    "3200": AuthFailed,
    "3201": AuthFailed,
    "3100": Forbidden,
    "5020": Forbidden,
    "3001": Throttled,
    "5010": StaleObject,
    "6240": DuplicateName,
    "6140": DuplicateDocNumber,
    "610": NotFound,
}
STATUS_CLASSES: dict[int, type[QboError]] = {
    401: AuthFailed,
    403: Forbidden,
    404: NotFound,
    429: Throttled,
}

_GATEWAY_MESSAGE = re.compile(r"message=([^;]+)")
_GATEWAY_CODE = re.compile(r"errorCode=0*(\d+)")


def parse_fault(body: Any) -> tuple[list[FaultItem], str | None]:
    """The error items and fault type of either Fault shape; ([], None) when there is none."""
    if not isinstance(body, Mapping):
        return [], None
    fault = body.get("Fault") or body.get("fault")
    if not isinstance(fault, Mapping):
        return [], None
    raw_items = fault.get("Error") or fault.get("error") or []
    items: list[FaultItem] = []
    for raw in raw_items if isinstance(raw_items, list) else []:
        if not isinstance(raw, Mapping):
            continue
        message = str(raw.get("Message") or raw.get("message") or "")
        code = str(raw.get("code") or raw.get("Code") or "")
        gateway_name = _GATEWAY_MESSAGE.search(message)
        if gateway_name:  # "message=AuthenticationFailed; errorCode=003200; statusCode=401"
            if not code:
                gateway_code = _GATEWAY_CODE.search(message)
                code = gateway_code.group(1) if gateway_code else ""
            message = gateway_name.group(1).strip()
        items.append(
            FaultItem(
                code=code.lstrip("0") or code,
                message=message,
                detail=str(raw.get("Detail") or raw.get("detail") or ""),
                element=str(raw.get("element") or ""),
            )
        )
    fault_type = fault.get("type")
    return items, str(fault_type) if fault_type else None


def error_class(status: int | None, code: str | None) -> type[QboError]:
    """The class for an HTTP status and QBO code, per the tables above."""
    if status is not None and status >= 500:
        return ServerError
    if status in (401, 403, 429):
        return STATUS_CLASSES[status]
    if code and code in CODE_CLASSES:
        return CODE_CLASSES[code]
    if status in STATUS_CLASSES:
        return STATUS_CLASSES[status]
    return ValidationFault


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from a numeric Retry-After header (HTTP-date values are ignored)."""
    value = (headers or {}).get("Retry-After") or (headers or {}).get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def error_from_fault(
    body: Any,
    status: int | None = None,
    intuit_tid: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> QboError:
    """A typed error for a Fault body (whole response, or one batch item's ``{"Fault":..}``).

    The first error item decides the class; all items are kept on ``errors``.
    """
    items, fault_type = parse_fault(body)
    first = items[0] if items else None
    if first is not None:
        message = first.message or fault_type or "QuickBooks error"
    else:
        message = f"QuickBooks answered HTTP {status}" if status else "QuickBooks error"
    code = first.code if first else None
    cls = error_class(status, code)
    kwargs: dict[str, Any] = {
        "status": status,
        "code": code,
        "detail": first.detail if first else None,
        "element": first.element if first else None,
        "intuit_tid": intuit_tid,
        "fault_type": fault_type,
        "errors": items,
    }
    if cls is Throttled:
        return Throttled(message, retry_after=retry_after_seconds(headers), **kwargs)
    return cls(message, **kwargs)
