"""QboClient: the only code that speaks HTTP to the QBO Accounting API.

Every request: the environment's base URL, ``minorversion``, ``Accept: application/json``, a
(connect, read) timeout, a slot from the per-realm governor, one DEBUG ``key=value`` log line
(never tokens or payloads). Every write carries the caller's ``requestid`` (stable for one
logical write), so QBO replays instead of duplicating when we retry. Retries: only 429, 5xx
and transport errors, with exponential backoff + jitter (429 waits as asked), the same
requestid each time, a bounded number of attempts. A 401 refreshes the token once (through
portal.qbo.tokens, serialized) and retries once. Everything else raises a typed error.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from flask import current_app

from portal.qbo import tokens
from portal.qbo.environments import endpoints
from portal.qbo.errors import (
    AuthFailed,
    NotConnected,
    QboError,
    ServerError,
    Throttled,
    TransportError,
    error_from_fault,
    parse_fault,
)
from portal.qbo.governor import Governor, Limits
from portal.redis_conn import get_redis

log = logging.getLogger(__name__)

MAX_REQUEST_ID = 50
MAX_BATCH_REQUEST_ID = 36
MAX_BID = 10
BATCH_MAX_ITEMS = 30
TOKEN_RECHECK_SECONDS = 60.0  # get_access_token guarantees > 5 min left, so 1 min is safe


@dataclass
class BatchItemResult:
    """One BatchItemResponse entry, matched to its request by ``bid``."""

    bid: str
    entity: str | None  # response key: "Customer", "QueryResponse", ... (None on a Fault)
    data: Any
    error: QboError | None

    @property
    def ok(self) -> bool:
        return self.error is None


def escape(value: str) -> str:
    """A quoted QBO query literal: backslash-escape single quotes (reference §3)."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _check_request_id(request_id: str, limit: int) -> None:
    if not request_id or len(request_id) > limit:
        raise ValueError(f"requestid must be 1..{limit} characters; got {len(request_id or '')}")


def _unwrap(body: Mapping[str, Any], entity: str) -> dict[str, Any]:
    for key, value in body.items():
        if key.lower() == entity.lower() and isinstance(value, dict):
            return value
    raise QboError(f"QuickBooks answered without a {entity} object")


class QboClient:
    """One API client for one realm. Build with ``QboClient(firm_id)`` inside an app context.

    ``QboClient(realm_id=..., access_token=...)`` uses a fixed token (the OAuth callback's
    CompanyInfo call, before anything is stored); it cannot refresh.
    """

    def __init__(
        self,
        firm_id: int | None = None,
        *,
        realm_id: str | None = None,
        access_token: str | None = None,
        app_config: Mapping[str, Any] | None = None,
    ) -> None:
        cfg = app_config if app_config is not None else current_app.config
        self.firm_id = firm_id
        if firm_id is not None and realm_id is None:
            realm_id = _connected_realm(firm_id)
        if not realm_id:
            raise ValueError("QboClient needs a firm_id or a realm_id")
        self.realm_id = str(realm_id)
        self._fixed_token = access_token
        self._token: str | None = access_token
        self._token_at = 0.0
        self.minor_version = int(cfg.get("QBO_MINOR_VERSION", 75))
        self.timeout = (float(cfg.get("QBO_CONNECT_TIMEOUT", 5.0)),
                        float(cfg.get("QBO_HTTP_TIMEOUT", 30.0)))
        self.max_attempts = int(cfg.get("QBO_MAX_ATTEMPTS", 5))
        self.backoff_base = float(cfg.get("QBO_RETRY_BASE_SECONDS", 0.5))
        self.backoff_cap = float(cfg.get("QBO_RETRY_MAX_SECONDS", 30.0))
        self.throttle_wait = float(cfg.get("QBO_THROTTLE_WAIT_SECONDS", 60.0))
        self.batch_max = min(BATCH_MAX_ITEMS, int(cfg.get("QBO_BATCH_MAX_ITEMS", BATCH_MAX_ITEMS)))
        self.base_url = endpoints(cfg).company_url(self.realm_id)
        self.governor = Governor(get_redis(), Limits.from_config(cfg),
                                 lease_seconds=sum(self.timeout) + 5)
        self.http = requests.Session()
        self.http.headers.update({"Accept": "application/json"})

    @classmethod
    def for_connection(cls, conn: Any) -> QboClient:
        """A client for a QboConnection row (must be connected)."""
        if conn.status != "connected":
            raise NotConnected(f"QuickBooks is not connected (status {conn.status}).",
                               code=conn.status)
        return cls(conn.firm_id, realm_id=conn.realm_id)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> QboClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reads ---------------------------------------------------------------------------------
    def get(self, entity: str, entity_id: str | int) -> dict[str, Any]:
        body = self._request("GET", f"{entity.lower()}/{entity_id}", entity=entity)
        return _unwrap(body, entity)

    def company_info(self) -> dict[str, Any]:
        body = self._request("GET", f"companyinfo/{self.realm_id}", entity="CompanyInfo")
        return _unwrap(body, "CompanyInfo")

    def query(self, statement: str) -> dict[str, Any]:
        """Run one query statement; returns the QueryResponse dict ({} when nothing matched)."""
        body = self._request("GET", "query", params={"query": statement}, entity="query")
        return dict(body.get("QueryResponse") or {})

    def iter_pages(self, entity: str, where: str | None = None, page_size: int = 1000,
                   order_by: str | None = None) -> Iterator[list[dict[str, Any]]]:
        """Yield pages of ``entity`` via STARTPOSITION/MAXRESULTS until a short page."""
        if not 1 <= page_size <= 1000:
            raise ValueError("page_size must be between 1 and 1000")
        start = 1
        while True:
            statement = f"SELECT * FROM {entity}"  # noqa: S608 - QBO query, not SQL
            if where:
                statement += f" WHERE {where}"
            if order_by:
                statement += f" ORDERBY {order_by}"
            statement += f" STARTPOSITION {start} MAXRESULTS {page_size}"
            page = list(self.query(statement).get(entity) or [])
            yield page
            if len(page) < page_size:
                return
            start += page_size

    def query_all(self, entity: str, where: str | None = None, page_size: int = 1000,
                  order_by: str | None = None) -> list[dict[str, Any]]:
        """Every ``entity`` matching ``where`` (e.g. ``"Active IN (true, false)"``)."""
        rows: list[dict[str, Any]] = []
        for page in self.iter_pages(entity, where, page_size, order_by):
            rows.extend(page)
        return rows

    def cdc(self, entities: Iterable[str], changed_since: datetime | str
            ) -> dict[str, list[dict[str, Any]]]:
        """Changed (full) and deleted (Id + status "Deleted") objects per entity since then."""
        names = [e for e in entities]
        since = changed_since.isoformat() if isinstance(changed_since, datetime) else changed_since
        body = self._request("GET", "cdc", params={"entities": ",".join(names),
                                                   "changedSince": since}, entity="cdc")
        out: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
        for block in body.get("CDCResponse") or []:
            for response in block.get("QueryResponse") or []:
                for key, value in (response or {}).items():
                    if isinstance(value, list):
                        out.setdefault(key, []).extend(value)
        return out

    # -- writes --------------------------------------------------------------------------------
    def create(self, entity: str, body: Mapping[str, Any], request_id: str) -> dict[str, Any]:
        _check_request_id(request_id, MAX_REQUEST_ID)
        answer = self._request("POST", entity.lower(), json_body=dict(body), entity=entity,
                               request_id=request_id)
        return _unwrap(answer, entity)

    def update(self, entity: str, body: Mapping[str, Any], request_id: str, sparse: bool = True
               ) -> dict[str, Any]:
        """Sparse (default) or full update; ``body`` needs Id and the current SyncToken."""
        _check_request_id(request_id, MAX_REQUEST_ID)
        if not body.get("Id") or body.get("SyncToken") in (None, ""):
            raise ValueError("update needs Id and SyncToken")
        payload = dict(body)
        payload["sparse"] = bool(sparse)
        answer = self._request("POST", entity.lower(), json_body=payload, entity=entity,
                               request_id=request_id)
        return _unwrap(answer, entity)

    def delete(self, entity: str, entity_id: str | int, sync_token: str | int, request_id: str
               ) -> dict[str, Any]:
        """Hard-delete a transaction (names are deactivated with update Active=false instead)."""
        return self._operation("delete", entity, entity_id, sync_token, request_id)

    def void(self, entity: str, entity_id: str | int, sync_token: str | int, request_id: str
             ) -> dict[str, Any]:
        return self._operation("void", entity, entity_id, sync_token, request_id)

    def _operation(self, operation: str, entity: str, entity_id: str | int,
                   sync_token: str | int, request_id: str) -> dict[str, Any]:
        _check_request_id(request_id, MAX_REQUEST_ID)
        answer = self._request("POST", entity.lower(), params={"operation": operation},
                               json_body={"Id": str(entity_id), "SyncToken": str(sync_token)},
                               entity=entity, request_id=request_id)
        return _unwrap(answer, entity)

    def batch(self, items: list[Mapping[str, Any]], request_id: str
              ) -> dict[str, BatchItemResult]:
        """Send BatchItemRequest items, chunked at 30; results keyed by bId in request order.

        Items are dicts like ``{"bId": "c1", "operation": "create", "Customer": {...}}`` or
        ``{"bId": "q1", "Query": "select ..."}``. A chunk after the first uses
        ``f"{request_id}-{n}"`` as its requestid, so the same logical batch retried by a caller
        reuses the same ids. Per-item Faults become typed errors on the result, not raises.
        """
        _check_request_id(request_id, MAX_BATCH_REQUEST_ID)
        prepared = [dict(item) for item in items]
        bids = [str(item.get("bId") or "") for item in prepared]
        if any(not bid or len(bid) > MAX_BID for bid in bids) or len(set(bids)) != len(bids):
            raise ValueError(f"every batch item needs a unique bId of 1..{MAX_BID} characters")
        results: dict[str, BatchItemResult] = {bid: None for bid in bids}  # type: ignore[misc]
        for n, start in enumerate(range(0, len(prepared), self.batch_max)):
            chunk = prepared[start:start + self.batch_max]
            chunk_id = request_id if n == 0 else f"{request_id}-{n}"
            _check_request_id(chunk_id, MAX_BATCH_REQUEST_ID)
            answer = self._request("POST", "batch", json_body={"BatchItemRequest": chunk},
                                   entity="batch", request_id=chunk_id, batch=True)
            for raw in answer.get("BatchItemResponse") or []:
                result = _batch_result(raw)
                if result.bid in results:
                    results[result.bid] = result
        missing = [bid for bid, res in results.items() if res is None]
        for bid in missing:
            results[bid] = BatchItemResult(bid, None, None, QboError(
                "QuickBooks returned no answer for this batch item", code="missing"))
        return results

    # -- transport -----------------------------------------------------------------------------
    def _access_token(self, force: bool = False, rejected: str | None = None) -> str:
        if self._fixed_token is not None:
            return self._fixed_token
        now = time.monotonic()
        if force or self._token is None or now - self._token_at > TOKEN_RECHECK_SECONDS:
            assert self.firm_id is not None
            self._token = tokens.get_access_token(self.firm_id, force=force, rejected=rejected)
            self._token_at = now
        return self._token

    def _request(self, method: str, path: str, *, entity: str,
                 params: Mapping[str, Any] | None = None, json_body: Any = None,
                 request_id: str | None = None, batch: bool = False) -> dict[str, Any]:
        query: dict[str, Any] = dict(params or {})
        query["minorversion"] = self.minor_version
        if request_id:
            query["requestid"] = request_id
        url = f"{self.base_url}/{path}"
        attempt = 0
        reauthorized = False
        while True:
            attempt += 1
            token: str | None = None
            try:
                token = self._access_token()
                return self._send(method, url, query, json_body, token, entity, attempt, batch)
            except AuthFailed:
                if reauthorized or self._fixed_token is not None:
                    raise
                reauthorized = True
                self._access_token(force=True, rejected=token)
                attempt -= 1  # the re-authorized try does not count against the retry budget
            except (Throttled, ServerError, TransportError) as exc:
                if attempt >= self.max_attempts:
                    raise
                delay = self._delay(attempt, exc)
                log.info("qbo retry method=%s entity=%s attempt=%d wait_s=%.2f reason=%s "
                         "intuit_tid=%s", method, entity, attempt, delay, type(exc).__name__,
                         exc.intuit_tid)
                time.sleep(delay)

    def _delay(self, attempt: int, exc: QboError) -> float:
        if isinstance(exc, Throttled):
            wait = exc.retry_after if exc.retry_after is not None else self.throttle_wait
            return wait + random.uniform(0, max(0.1, wait * 0.1))  # noqa: S311
        ceiling = min(self.backoff_cap, self.backoff_base * (2 ** (attempt - 1)))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311

    def _send(self, method: str, url: str, query: dict[str, Any], json_body: Any, token: str,
              entity: str, attempt: int, batch: bool) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"}
        started = time.monotonic()
        with self.governor.slot(self.realm_id, batch=batch) as lease:
            try:
                response = self.http.request(method, url, params=query, json=json_body,
                                             headers=headers, timeout=self.timeout)
            except requests.RequestException as exc:
                lease.keep()  # QBO may still be working on it: let the slot expire
                elapsed = (time.monotonic() - started) * 1000
                log.warning("qbo request method=%s entity=%s status=transport error=%s "
                            "elapsed_ms=%.0f attempt=%d realm=%s", method, entity,
                            type(exc).__name__, elapsed, attempt, self.realm_id)
                raise TransportError(f"QuickBooks did not answer ({type(exc).__name__})") from exc
        elapsed = (time.monotonic() - started) * 1000
        tid = response.headers.get("intuit_tid")
        log.debug("qbo request method=%s entity=%s status=%s intuit_tid=%s elapsed_ms=%.0f "
                  "attempt=%d realm=%s", method, entity, response.status_code, tid, elapsed,
                  attempt, self.realm_id)
        try:
            body = response.json()
        except ValueError:
            body = None
        items, _ = parse_fault(body)
        if response.status_code < 400 and not items and isinstance(body, dict):
            return body
        if response.status_code < 400 and body is None:
            raise TransportError("QuickBooks answered with an unreadable body",
                                 status=response.status_code, intuit_tid=tid)
        error = error_from_fault(body, status=response.status_code, intuit_tid=tid,
                                 headers=response.headers)
        log.warning("qbo request method=%s entity=%s status=%s code=%s error=%s intuit_tid=%s "
                    "attempt=%d realm=%s", method, entity, response.status_code, error.code,
                    type(error).__name__, tid, attempt, self.realm_id)
        raise error


def _batch_result(raw: Mapping[str, Any]) -> BatchItemResult:
    bid = str(raw.get("bId") or "")
    if raw.get("Fault"):
        return BatchItemResult(bid, None, None, error_from_fault({"Fault": raw["Fault"]}))
    for key, value in raw.items():
        if key != "bId":
            return BatchItemResult(bid, key, value, None)
    return BatchItemResult(bid, None, None, QboError("Empty batch item answer", code="empty"))


def _connected_realm(firm_id: int) -> str:
    from portal.extensions import db
    from portal.models import QboConnection

    conn = db.session.execute(
        db.select(QboConnection).where(QboConnection.firm_id == firm_id)
    ).scalar_one_or_none()
    if conn is None or conn.status != "connected" or not conn.realm_id:
        status = conn.status if conn is not None else "missing"
        raise NotConnected(f"QuickBooks is not connected for this firm (status {status}).",
                           code=status)
    return conn.realm_id
