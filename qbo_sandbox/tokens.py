"""OAuth grants, codes and tokens with Intuit's lifetimes and refresh-token rotation.

A *grant* is one (app, realm, user) connection. It owns the current refresh token; access
tokens point at it, so revoking the grant kills every token at once. Rotation (reference §1.6):
inside ``refresh_rotation_seconds`` a refresh returns the SAME refresh token with a shrinking
``x_refresh_token_expires_in``; after it a new value is issued and the old one stops working
after ``refresh_grace_seconds`` (default 0 = at once). All times come from the sandbox clock.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from .core import Sandbox

ACCESS_PREFIX = "eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0.."
ALNUM = string.ascii_letters + string.digits


class OAuthError(Exception):
    """An RFC 6749 error body ``{"error": code}`` with its HTTP status."""

    def __init__(self, error: str, status: int = 400, description: str | None = None) -> None:
        super().__init__(error)
        self.error, self.status, self.description = error, status, description

    def body(self) -> dict[str, str]:
        out = {"error": self.error}
        if self.description:
            out["error_description"] = self.description
        return out


def _refresh_value(now: float) -> str:
    return "AB11" + str(int(now)) + "".join(secrets.choice(ALNUM) for _ in range(36))


class Tokens:
    """Token bookkeeping on top of the store (namespaces: code, grant, refresh, access)."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.store = sb.store
        self.cfg = sb.config

    def now(self) -> float:
        return self.sb.clock.timestamp()

    # -- apps ----------------------------------------------------------------------------------
    def app(self, client_id: str | None) -> dict[str, Any] | None:
        return self.store.get("app", client_id) if client_id else None

    def authenticate_client(self, client_id: str | None, secret: str | None) -> dict[str, Any]:
        app = self.app(client_id)
        if app is None or not secret or not secrets.compare_digest(app["client_secret"], secret):
            raise OAuthError("invalid_client", 401)
        return app

    # -- codes ---------------------------------------------------------------------------------
    def issue_code(
        self, client_id: str, realm: str, user: str, redirect_uri: str, scope: str
    ) -> str:
        code = "AB11" + "".join(secrets.choice(ALNUM) for _ in range(46))
        self.store.put(
            "code",
            code,
            {
                "client_id": client_id,
                "realm": realm,
                "user": user,
                "redirect_uri": redirect_uri,
                "scope": scope,
                "expires": self.now() + self.cfg["auth_code_lifetime"],
                "used": False,
            },
        )
        return code

    def exchange_code(
        self, app: dict[str, Any], code: str | None, redirect_uri: str | None, hard: bool = False
    ) -> dict[str, Any]:
        if not code:
            raise OAuthError("invalid_request")
        with self.store.transaction():
            rec = self.store.get("code", code)
            if (
                rec is None
                or rec["used"]
                or rec["client_id"] != app["client_id"]
                or rec["expires"] < self.now()
                or rec["redirect_uri"] != redirect_uri
            ):
                raise OAuthError("invalid_grant")
            rec["used"] = True
            self.store.put("code", code, rec)
            return self.new_grant(app["client_id"], rec["realm"], rec["user"], rec["scope"], hard)

    # -- grants and tokens ---------------------------------------------------------------------
    def new_grant(
        self, client_id: str, realm: str, user: str, scope: str, hard: bool = False
    ) -> dict[str, Any]:
        now = self.now()
        grant_id = secrets.token_hex(12)
        grant = {
            "client_id": client_id,
            "realm": realm,
            "user": user,
            "scope": scope,
            "revoked": False,
            "hard_expires": now + self.cfg["refresh_hard_lifetime"],
        }
        with self.store.transaction():
            refresh = self._new_refresh(grant_id, grant, now)
            self.store.put("grant", grant_id, grant)
            return self._response(grant_id, grant, refresh, now, hard)

    def _new_refresh(self, grant_id: str, grant: dict[str, Any], now: float) -> str:
        value = _refresh_value(now)
        self.store.put(
            "refresh",
            value,
            {
                "grant": grant_id,
                "issued": now,
                "expires": now + self.cfg["refresh_token_lifetime"],
                "superseded": None,
            },
        )
        grant["refresh"] = value
        grant["refresh_issued"] = now
        return value

    def _response(
        self, grant_id: str, grant: dict[str, Any], refresh: str, now: float, hard: bool
    ) -> dict[str, Any]:
        access = ACCESS_PREFIX + secrets.token_urlsafe(96)
        lifetime = self.cfg["access_token_lifetime"]
        self.store.put("access", access, {"grant": grant_id, "expires": now + lifetime})
        rec = self.store.get("refresh", refresh) or {}
        body: dict[str, Any] = {
            "token_type": "bearer",
            "expires_in": int(lifetime),
            "refresh_token": refresh,
            "x_refresh_token_expires_in": max(0, int(rec.get("expires", now) - now)),
            "access_token": access,
        }
        if hard:
            body["x_refresh_token_hard_expires_in"] = max(0, int(grant["hard_expires"] - now))
        return body

    def refresh(self, app: dict[str, Any], token: str | None, hard: bool = False) -> dict[str, Any]:
        if not token:
            raise OAuthError("invalid_request")
        now = self.now()
        with self.store.transaction():
            rec = self.store.get("refresh", token)
            grant = self.store.get("grant", rec["grant"]) if rec else None
            if (
                rec is None
                or grant is None
                or grant["revoked"]
                or grant["client_id"] != app["client_id"]
                or rec["expires"] <= now
                or grant["hard_expires"] <= now
            ):
                raise OAuthError("invalid_grant")
            if rec["superseded"] is not None:
                if now - rec["superseded"] >= self.cfg["refresh_grace_seconds"]:
                    raise OAuthError("invalid_grant")
                current = grant["refresh"]  # grace: hand out the newest token, do not rotate again
            elif now - grant["refresh_issued"] < self.cfg["refresh_rotation_seconds"]:
                current = token
            else:
                rec["superseded"] = now
                self.store.put("refresh", token, rec)
                current = self._new_refresh(rec["grant"], grant, now)
                self.store.put("grant", rec["grant"], grant)
            return self._response(rec["grant"], grant, current, now, hard)

    def revoke(self, app: dict[str, Any], token: str | None) -> None:
        """Revoke the grant behind a refresh or access token (unknown tokens: no error)."""
        if not token:
            raise OAuthError("invalid_request")
        rec = self.store.get("refresh", token) or self.store.get("access", token)
        if rec is None:
            return
        self.revoke_grant(rec["grant"], app["client_id"])

    def revoke_grant(self, grant_id: str, client_id: str | None = None) -> bool:
        with self.store.transaction():
            grant = self.store.get("grant", grant_id)
            if grant is None or (client_id and grant["client_id"] != client_id):
                return False
            grant["revoked"] = True
            self.store.put("grant", grant_id, grant)
        return True

    def grants(self) -> list[tuple[str, dict[str, Any]]]:
        return self.store.items("grant")

    def check_access(self, token: str) -> tuple[str, dict[str, Any] | None]:
        """('ok', grant) or (reason, None); reasons: 'invalid', 'expired', 'revoked'."""
        rec = self.store.get("access", token)
        if rec is None:
            return "invalid", None
        grant = self.store.get("grant", rec["grant"])
        if grant is None or grant["revoked"]:
            return "revoked", None
        if rec["expires"] <= self.now():
            return "expired", None
        return "ok", grant

    def expire(self, which: str, realm: str | None = None, token: str | None = None) -> int:
        """Force expiry of access and/or refresh tokens (control API). Returns how many."""
        now = self.now()
        count = 0
        with self.store.transaction():
            for ns in ("access", "refresh"):
                if which not in (ns, "all"):
                    continue
                for key, rec in self.store.items(ns):
                    grant = self.store.get("grant", rec["grant"]) or {}
                    if (token and key != token) or (realm and grant.get("realm") != realm):
                        continue
                    if rec["expires"] > now:
                        rec["expires"] = now - 1
                        self.store.put(ns, key, rec)
                        count += 1
        return count
