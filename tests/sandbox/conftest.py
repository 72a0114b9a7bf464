"""Fixtures for the sandbox suite: a real HTTP sandbox per module, reset before each test.

Independent of the portal's tests/conftest.py: only qbo_sandbox and requests are used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from qbo_sandbox.testing import SandboxHandle, run_sandbox


class Api:
    """A minimal QBO client: bearer token, JSON, minorversion=75."""

    def __init__(self, sbx: SandboxHandle, access_token: str, realm: str) -> None:
        self.sbx = sbx
        self.token = access_token
        self.realm = realm

    def url(self, path: str) -> str:
        return self.sbx.api_url(self.realm, path)

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.token}",
            "Accept": "application/json",
            **(extra or {}),
        }

    def get(self, path: str, **params: Any) -> requests.Response:
        params.setdefault("minorversion", "75")
        return requests.get(self.url(path), params=params, headers=self.headers(), timeout=10)

    def post(self, path: str, body: Any = None, **params: Any) -> requests.Response:
        params.setdefault("minorversion", "75")
        return requests.post(
            self.url(path), params=params, json=body, headers=self.headers(), timeout=10
        )

    def query(self, text: str) -> requests.Response:
        return self.get("query", query=text)

    def create(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = self.post(entity.lower(), body)
        assert resp.status_code == 200, resp.text
        return resp.json()[entity]


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxHandle]:
    with run_sandbox({"limits": {"enabled": False}}) as handle:
        yield handle


@pytest.fixture
def sbx(server: SandboxHandle) -> SandboxHandle:
    server.reset()
    return server


@pytest.fixture
def api(sbx: SandboxHandle) -> Api:
    return Api(sbx, sbx.mint_tokens(sbx.REALM_1)["access_token"], sbx.REALM_1)


def fault_of(resp: requests.Response) -> dict[str, Any]:
    """The first Error of a 400-style Fault body."""
    body = resp.json()
    assert "Fault" in body, body
    return body["Fault"]["Error"][0]
