"""Intuit OAuth 2.0 with authlib: authorize URL, code exchange, refresh, revoke.

Token endpoint calls use authlib's requests ``OAuth2Session`` with ``client_secret_basic``
(Intuit wants HTTP Basic auth, reference §1.5). Revocation is a JSON POST (§1.8), which is not
RFC 7009's form body, so it is sent with plain requests. Every call has a timeout, and every
failure becomes a typed error from portal.qbo.errors: ``invalid_grant`` -> InvalidGrant,
other token-endpoint errors -> OAuthError, 5xx -> ServerError, network -> TransportError.

Nothing here touches the database; portal.qbo.tokens stores what these functions return.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import requests
from authlib.integrations.base_client.errors import OAuthError as AuthlibOAuthError
from authlib.integrations.requests_client import OAuth2Session
from flask import current_app

from portal.qbo.environments import endpoints
from portal.qbo.errors import InvalidGrant, OAuthError, ServerError, TransportError

log = logging.getLogger(__name__)

SCOPE = "com.intuit.quickbooks.accounting"
TOKEN_TIMEOUT = (5.0, 30.0)  # (connect, read) seconds for token and revoke calls
T = TypeVar("T")


@dataclass(frozen=True)
class TokenSet:
    """A token endpoint answer. Token values are excluded from repr so they never reach logs."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int
    refresh_expires_in: int | None
    realm_id: str | None = None
    token_type: str = "bearer"  # noqa: S105 - a token type name, not a secret

    @classmethod
    def from_response(cls, token: Mapping[str, Any], realm_id: str | None = None) -> TokenSet:
        try:
            return cls(
                access_token=str(token["access_token"]),
                refresh_token=str(token["refresh_token"]),
                expires_in=int(token.get("expires_in") or 3600),
                refresh_expires_in=(
                    int(token["x_refresh_token_expires_in"])
                    if token.get("x_refresh_token_expires_in") is not None
                    else None
                ),
                realm_id=realm_id,
                token_type=str(token.get("token_type") or "bearer"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise OAuthError(
                "Intuit's token answer is missing access_token or refresh_token"
            ) from exc

    def as_dict(self) -> dict[str, Any]:
        """The token-endpoint shape again (what tokens.save_tokens accepts)."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_in": self.expires_in,
            "x_refresh_token_expires_in": self.refresh_expires_in,
            "token_type": self.token_type,
        }


def _cfg(app_config: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return app_config if app_config is not None else current_app.config


def generate_state() -> str:
    """A fresh, unguessable OAuth ``state`` (the view stores it in the session, single-use)."""
    return secrets.token_urlsafe(32)


def _session(cfg: Mapping[str, Any], **kwargs: Any) -> OAuth2Session:
    return OAuth2Session(
        client_id=cfg.get("QBO_CLIENT_ID"),
        client_secret=cfg.get("QBO_CLIENT_SECRET"),
        token_endpoint_auth_method="client_secret_basic",  # noqa: S106 - a method name
        **kwargs,
    )


def build_authorize_url(app_config: Mapping[str, Any] | None, state: str) -> str:
    """The Intuit consent URL (scope accounting, redirect QBO_REDIRECT_URI, the given state)."""
    cfg = _cfg(app_config)
    session = _session(cfg, scope=SCOPE, redirect_uri=cfg.get("QBO_REDIRECT_URI"))
    url, _state = session.create_authorization_url(endpoints(cfg).authorize_url, state=state)
    session.close()
    return url


def _token_call(what: str, call: Callable[[Callable[[Any], Any]], T]) -> T:
    """Run a token-endpoint call, translating every failure into a portal.qbo error.

    ``call`` receives a compliance hook that records Intuit's ``intuit_tid`` for the logs.
    """
    seen: dict[str, Any] = {}

    def remember(resp: Any) -> Any:
        seen["tid"] = resp.headers.get("intuit_tid")
        seen["status"] = resp.status_code
        return resp

    try:
        return call(remember)
    except AuthlibOAuthError as exc:
        cls = InvalidGrant if exc.error == "invalid_grant" else OAuthError
        log.warning("qbo oauth call=%s status=%s error=%s intuit_tid=%s",
                    what, seen.get("status"), exc.error, seen.get("tid"))
        raise cls(
            exc.description or exc.error or "Intuit refused the token request",
            status=seen.get("status"),
            code=exc.error,
            detail=exc.description,
            intuit_tid=seen.get("tid"),
        ) from exc
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else None
        log.warning("qbo oauth call=%s status=%s intuit_tid=%s", what, status, seen.get("tid"))
        cls_http = ServerError if status and status >= 500 else OAuthError
        raise cls_http(f"Intuit's token endpoint answered HTTP {status}", status=status,
                       intuit_tid=seen.get("tid")) from exc
    except requests.RequestException as exc:
        log.warning("qbo oauth call=%s transport=%s", what, type(exc).__name__)
        raise TransportError(f"Could not reach Intuit's token endpoint ({type(exc).__name__})") \
            from exc
    except ValueError as exc:  # authlib: the answer was not a JSON object
        raise OAuthError(f"Intuit's token endpoint gave an unreadable answer: {exc}",
                         status=seen.get("status"), intuit_tid=seen.get("tid")) from exc


def exchange_code(code: str, realm_id: str, app_config: Mapping[str, Any] | None = None
                  ) -> TokenSet:
    """Trade the callback's authorization code for tokens (single use; InvalidGrant if reused)."""
    cfg = _cfg(app_config)
    token_url = endpoints(cfg).token_url

    def call(hook: Callable[[Any], Any]) -> TokenSet:
        with _session(cfg, redirect_uri=cfg.get("QBO_REDIRECT_URI")) as session:
            session.register_compliance_hook("access_token_response", hook)
            token = session.fetch_token(token_url, grant_type="authorization_code", code=code,
                                        timeout=TOKEN_TIMEOUT)
            return TokenSet.from_response(token, realm_id)

    result = _token_call("exchange_code", call)
    log.info("qbo oauth call=exchange_code state=ok realm=%s", realm_id)
    return result


def refresh(refresh_token: str, app_config: Mapping[str, Any] | None = None) -> TokenSet:
    """One refresh at Intuit. Callers go through tokens.get_access_token, which serializes."""
    cfg = _cfg(app_config)
    token_url = endpoints(cfg).token_url

    def call(hook: Callable[[Any], Any]) -> TokenSet:
        with _session(cfg) as session:
            session.register_compliance_hook("refresh_token_response", hook)
            token = session.refresh_token(token_url, refresh_token=refresh_token,
                                          timeout=TOKEN_TIMEOUT)
            return TokenSet.from_response(token)

    return _token_call("refresh", call)


def revoke(token: str, app_config: Mapping[str, Any] | None = None) -> None:
    """Revoke a refresh (or access) token at Intuit, which disconnects the app from the realm.

    Raises OAuthError/ServerError/TransportError when Intuit does not answer 200.
    """
    cfg = _cfg(app_config)
    url = endpoints(cfg).revoke_url
    try:
        response = requests.post(
            url,
            json={"token": token},
            auth=(cfg.get("QBO_CLIENT_ID") or "", cfg.get("QBO_CLIENT_SECRET") or ""),
            headers={"Accept": "application/json"},
            timeout=TOKEN_TIMEOUT,
        )
    except requests.RequestException as exc:
        log.warning("qbo oauth call=revoke transport=%s", type(exc).__name__)
        raise TransportError(f"Could not reach Intuit to revoke ({type(exc).__name__})") from exc
    tid = response.headers.get("intuit_tid")
    if response.status_code != 200:
        log.warning("qbo oauth call=revoke status=%s intuit_tid=%s", response.status_code, tid)
        cls = ServerError if response.status_code >= 500 else OAuthError
        raise cls(f"Intuit refused the revocation (HTTP {response.status_code})",
                  status=response.status_code, intuit_tid=tid)
    log.info("qbo oauth call=revoke state=ok intuit_tid=%s", tid)


def fetch_company_name(realm_id: str, access_token: str,
                       app_config: Mapping[str, Any] | None = None) -> str:
    """CompanyInfo.CompanyName for a freshly authorized realm (before anything is stored)."""
    from portal.qbo.client import QboClient

    client = QboClient(realm_id=realm_id, access_token=access_token, app_config=_cfg(app_config))
    try:
        info = client.company_info()
    finally:
        client.close()
    return str(info.get("CompanyName") or info.get("LegalName") or f"Company {realm_id}")
