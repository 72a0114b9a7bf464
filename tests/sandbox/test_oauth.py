"""OAuth 2.0 as Intuit does it: consent pages, code exchange, rotation, revoke (reference §1)."""

from __future__ import annotations

import base64

import pytest
import requests

from qbo_sandbox.testing import SandboxHandle, run_sandbox

CALLBACK = "http://127.0.0.1:5000/integrations/quickbooks/callback"


def token_call(sbx: SandboxHandle, data: dict[str, str], secret: str | None = None, **headers: str):
    auth = base64.b64encode(f"{sbx.CLIENT_ID}:{secret or sbx.CLIENT_SECRET}".encode()).decode()
    return requests.post(
        f"{sbx.base_url}/oauth2/v1/tokens/bearer",
        data=data,
        timeout=10,
        headers={"Authorization": f"Basic {auth}", "Accept": "application/json", **headers},
    )


def exchange(sbx: SandboxHandle, code: str) -> requests.Response:
    return token_call(
        sbx, {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    )


def refresh(sbx: SandboxHandle, token: str) -> requests.Response:
    return token_call(sbx, {"grant_type": "refresh_token", "refresh_token": token})


def api_status(sbx: SandboxHandle, access: str) -> requests.Response:
    return requests.get(
        sbx.api_url(sbx.REALM_1, f"companyinfo/{sbx.REALM_1}"),
        timeout=10,
        headers={"Authorization": f"Bearer {access}", "Accept": "application/json"},
    )


@pytest.mark.parametrize(
    "path",
    [
        "/.well-known/openid_sandbox_configuration",
        "/.well-known/openid_sandbox_configuration/",
        "/.well-known/openid_configuration",
    ],
)
def test_discovery_lists_this_hosts_absolute_urls(sbx, path):
    doc = requests.get(sbx.base_url + path, timeout=10).json()
    assert doc["authorization_endpoint"] == f"{sbx.base_url}/connect/oauth2"
    assert doc["token_endpoint"] == f"{sbx.base_url}/oauth2/v1/tokens/bearer"
    assert doc["revocation_endpoint"] == f"{sbx.base_url}/v2/oauth2/tokens/revoke"
    assert doc["userinfo_endpoint"] == f"{sbx.base_url}/v1/openid_connect/userinfo"
    assert doc["token_endpoint_auth_methods_supported"] == [
        "client_secret_post",
        "client_secret_basic",
    ]


def test_code_flow_with_company_chooser_and_token_shape(sbx):
    with requests.Session() as browser:
        params = {
            "client_id": sbx.CLIENT_ID,
            "response_type": "code",
            "redirect_uri": CALLBACK,
            "scope": "com.intuit.quickbooks.accounting",
            "state": "xyz",
        }
        browser.get(f"{sbx.base_url}/connect/oauth2", params=params, timeout=10)
        page = browser.post(
            f"{sbx.base_url}/connect/oauth2/signin",
            timeout=10,
            data={**params, "email": sbx.USER_EMAIL, "password": sbx.USER_PASSWORD},
        )
        assert "Select a company" in page.text and "Sandbox Company_US_2" in page.text
        assert "qbo_sandbox_session" in browser.cookies and "session" not in browser.cookies
    cb = sbx.authorize(CALLBACK, state="xyz", realm_id=sbx.REALM_2)
    assert cb["state"] == "xyz" and cb["realmId"] == sbx.REALM_2 and cb["code"]
    resp = exchange(sbx, cb["code"])
    assert resp.status_code == 200
    body = resp.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert body["x_refresh_token_expires_in"] == 8726400
    assert body["access_token"].startswith("eyJ") and body["refresh_token"].startswith("AB11")
    assert resp.headers["intuit_tid"]
    again = exchange(sbx, cb["code"])
    assert again.status_code == 400 and again.json() == {"error": "invalid_grant"}


def test_client_secret_post_and_bad_client(sbx):
    code = sbx.authorize(CALLBACK, realm_id=sbx.REALM_1)["code"]
    resp = requests.post(
        f"{sbx.base_url}/oauth2/v1/tokens/bearer",
        timeout=10,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "client_id": sbx.CLIENT_ID,
            "client_secret": sbx.CLIENT_SECRET,
        },
    )
    assert resp.status_code == 200
    bad = token_call(sbx, {"grant_type": "refresh_token", "refresh_token": "x"}, secret="wrong")
    assert bad.status_code == 401 and bad.json() == {"error": "invalid_client"}


def test_redirect_uri_mismatch_on_exchange_is_invalid_grant(sbx):
    code = sbx.authorize(CALLBACK, realm_id=sbx.REALM_1)["code"]
    resp = token_call(
        sbx,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://localhost:5000/integrations/quickbooks/callback",
        },
    )
    assert resp.status_code == 400 and resp.json() == {"error": "invalid_grant"}


def test_unregistered_redirect_uri_is_an_error_page_not_a_redirect(sbx):
    resp = requests.get(
        f"{sbx.base_url}/connect/oauth2",
        allow_redirects=False,
        timeout=10,
        params={
            "client_id": sbx.CLIENT_ID,
            "response_type": "code",
            "scope": "com.intuit.quickbooks.accounting",
            "redirect_uri": "https://evil.example/cb",
            "state": "s",
        },
    )
    assert resp.status_code == 400 and "Location" not in resp.headers
    assert "not registered" in resp.text


def test_deny_redirects_with_access_denied(sbx):
    cb = sbx.authorize(CALLBACK, state="s9", realm_id=sbx.REALM_1, allow=False)
    assert cb == {"error": "access_denied", "state": "s9"}


def test_runtime_registered_redirect_uri(sbx):
    sbx.allow_redirect_uri("http://127.0.0.1:54321/cb")
    cb = sbx.authorize("http://127.0.0.1:54321/cb", realm_id=sbx.REALM_1)
    assert cb["realmId"] == sbx.REALM_1


def test_expired_code_is_invalid_grant(sbx):
    code = sbx.authorize(CALLBACK, realm_id=sbx.REALM_1)["code"]
    sbx.advance_clock(601)
    assert exchange(sbx, code).json() == {"error": "invalid_grant"}


def test_refresh_rotation_same_token_inside_window_then_new(sbx):
    first = sbx.mint_tokens(sbx.REALM_1)
    sbx.advance_clock(3600)
    same = refresh(sbx, first["refresh_token"]).json()
    assert same["refresh_token"] == first["refresh_token"]
    assert same["x_refresh_token_expires_in"] == pytest.approx(8726400 - 3600, abs=2)
    assert same["access_token"] != first["access_token"]
    sbx.advance_clock(86400)
    rotated = refresh(sbx, first["refresh_token"]).json()
    assert rotated["refresh_token"] != first["refresh_token"]
    old = refresh(sbx, first["refresh_token"])
    assert old.status_code == 400 and old.json() == {"error": "invalid_grant"}
    assert refresh(sbx, rotated["refresh_token"]).status_code == 200


def test_old_refresh_token_grace_is_configurable():
    with run_sandbox({"refresh_grace_seconds": 86400}) as sbx:
        first = sbx.mint_tokens(sbx.REALM_1)
        sbx.advance_clock(90000)
        new = refresh(sbx, first["refresh_token"]).json()["refresh_token"]
        again = refresh(sbx, first["refresh_token"]).json()
        assert again["refresh_token"] == new
        sbx.advance_clock(86401)
        assert refresh(sbx, first["refresh_token"]).json() == {"error": "invalid_grant"}


def test_access_token_expires_after_3600_sandbox_seconds(sbx):
    access = sbx.mint_tokens(sbx.REALM_1)["access_token"]
    assert api_status(sbx, access).status_code == 200
    sbx.advance_clock(3601)
    resp = api_status(sbx, access)
    assert resp.status_code == 401
    err = resp.json()["fault"]["error"][0]
    assert err["message"] == "message=AuthenticationFailed; errorCode=003200; statusCode=401"
    assert err["code"] == "3200" and err["detail"].startswith("Token expired: ")
    assert resp.headers["WWW-Authenticate"].startswith('Bearer realm="Intuit"')


def test_revoke_kills_refresh_and_access(sbx):
    tokens = sbx.mint_tokens(sbx.REALM_1)
    auth = base64.b64encode(f"{sbx.CLIENT_ID}:{sbx.CLIENT_SECRET}".encode()).decode()
    resp = requests.post(
        f"{sbx.base_url}/v2/oauth2/tokens/revoke",
        json={"token": tokens["refresh_token"]},
        headers={"Authorization": f"Basic {auth}", "Accept": "application/json"},
        timeout=10,
    )
    assert resp.status_code == 200
    assert refresh(sbx, tokens["refresh_token"]).json() == {"error": "invalid_grant"}
    assert api_status(sbx, tokens["access_token"]).status_code == 401


def test_hard_expiry_header_and_userinfo(sbx):
    tokens = sbx.mint_tokens(sbx.REALM_1, scope="com.intuit.quickbooks.accounting openid email")
    body = refresh_with_hard = token_call(
        sbx,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        **{"x-include-refresh-token-hard-expires-in": "true"},
    ).json()
    assert refresh_with_hard["x_refresh_token_hard_expires_in"] > 8726400
    info = requests.get(
        f"{sbx.base_url}/v1/openid_connect/userinfo",
        timeout=10,
        headers={"Authorization": f"Bearer {body['access_token']}"},
    ).json()
    assert info["email"] == sbx.USER_EMAIL and info["sub"]


def test_token_for_another_realm_is_403(sbx):
    access = sbx.mint_tokens(sbx.REALM_2)["access_token"]
    resp = api_status(sbx, access)
    assert resp.status_code == 403
    assert resp.json()["fault"]["error"][0]["message"] == (
        "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403"
    )
