"""OAuth against the sandbox's real consent pages: authorize URL, code exchange, CompanyInfo,
refused consent, reused codes, bad client credentials, revoke; endpoints per environment."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from portal.qbo import environments, oauth, tokens
from portal.qbo.client import QboClient
from portal.qbo.errors import InvalidGrant, OAuthError, ServerError, TransportError
from tests.qbo_support import REDIRECT_URI, _sandbox_server, _sbx  # noqa: F401 - fixtures


def test_authorize_url_carries_what_intuit_needs(app, sbx):
    url = oauth.build_authorize_url(app.config, "state-xyz")
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{sbx.base_url}/connect/oauth2"
    assert query == {
        "response_type": "code",
        "client_id": sbx.CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": "com.intuit.quickbooks.accounting",
        "state": "state-xyz",
    }


def test_generated_states_are_unguessable():
    states = {oauth.generate_state() for _ in range(50)}
    assert len(states) == 50 and all(len(s) >= 40 for s in states)


def test_consent_code_exchange_and_company_name(app, db, sbx, firm):
    state = oauth.generate_state()
    back = sbx.authorize(REDIRECT_URI, state=state, realm_id=sbx.REALM_1)
    assert back["state"] == state and back["realmId"] == sbx.REALM_1
    token_set = oauth.exchange_code(back["code"], back["realmId"])
    assert token_set.realm_id == sbx.REALM_1
    assert token_set.expires_in == 3600 and token_set.refresh_expires_in > 86400
    name = oauth.fetch_company_name(back["realmId"], token_set.access_token)
    assert name == "Sandbox Company_US_1"

    conn = tokens.record_connection(firm.id, token_set, back["realmId"], name, None)
    db.session.commit()
    with QboClient(firm.id) as qbo:  # the stored tokens work for API calls
        assert qbo.company_info()["CompanyName"] == "Sandbox Company_US_1"
    assert conn.company_name == "Sandbox Company_US_1"


def test_second_company_is_chosen_on_the_consent_screen(app, sbx):
    back = sbx.authorize(REDIRECT_URI, realm_id=sbx.REALM_2)
    token_set = oauth.exchange_code(back["code"], back["realmId"])
    assert back["realmId"] == sbx.REALM_2
    assert oauth.fetch_company_name(sbx.REALM_2, token_set.access_token) == "Sandbox Company_US_2"


def test_refused_consent_returns_access_denied_and_no_code(app, sbx):
    back = sbx.authorize(REDIRECT_URI, state="s-1", allow=False)
    assert back.get("error") == "access_denied"
    assert "code" not in back


def test_a_code_is_single_use(app, sbx):
    back = sbx.authorize(REDIRECT_URI, realm_id=sbx.REALM_1)
    oauth.exchange_code(back["code"], back["realmId"])
    with pytest.raises(InvalidGrant):
        oauth.exchange_code(back["code"], back["realmId"])


def test_bad_client_secret_is_an_oauth_error(app, sbx):
    back = sbx.authorize(REDIRECT_URI, realm_id=sbx.REALM_1)
    app.config["QBO_CLIENT_SECRET"] = "wrong-secret"
    with pytest.raises(OAuthError) as caught:
        oauth.exchange_code(back["code"], back["realmId"])
    assert caught.value.code == "invalid_client"
    assert not isinstance(caught.value, InvalidGrant)


def test_token_endpoint_down_is_a_retryable_error(app, sbx):
    back = sbx.authorize(REDIRECT_URI, realm_id=sbx.REALM_1)
    environments.endpoints(app.config)  # discovery cached while the sandbox is up
    sbx.inject_fault("503", count=1, path="/oauth2/v1/tokens/bearer")
    with pytest.raises(ServerError) as caught:
        oauth.exchange_code(back["code"], back["realmId"])
    assert caught.value.retryable and caught.value.status == 503


def test_revoke_disconnects_the_grant(app, sbx):
    back = sbx.authorize(REDIRECT_URI, realm_id=sbx.REALM_1)
    token_set = oauth.exchange_code(back["code"], back["realmId"])
    oauth.revoke(token_set.refresh_token)
    with pytest.raises(InvalidGrant):
        oauth.refresh(token_set.refresh_token)


# -- environments ----------------------------------------------------------------------------------
def test_local_endpoints_come_from_the_sandbox_discovery_document(app, sbx):
    ends = environments.endpoints(app.config)
    assert ends.token_url == f"{sbx.base_url}/oauth2/v1/tokens/bearer"
    assert ends.revoke_url == f"{sbx.base_url}/v2/oauth2/tokens/revoke"
    assert ends.api_base == f"{sbx.base_url}/v3"
    assert ends.app_base == f"{sbx.base_url}/_sandbox/"
    assert ends.company_url("42") == f"{sbx.base_url}/v3/company/42"


def test_local_without_a_sandbox_is_a_transport_error(app):
    environments.clear_cache()
    with pytest.raises(TransportError):
        environments.endpoints({"QBO_ENVIRONMENT": "local", "QBO_LOCAL_URL": "http://127.0.0.1:9"})


@pytest.mark.parametrize(("env", "api", "app_base"), [
    ("sandbox", "https://sandbox-quickbooks.api.intuit.com/v3",
     "https://app.sandbox.qbo.intuit.com/app/"),
    ("production", "https://quickbooks.api.intuit.com/v3", "https://qbo.intuit.com/app/"),
])
def test_intuit_environments(monkeypatch, env, api, app_base):
    environments.clear_cache()
    fetched: list[str] = []

    def offline(url: str, ttl: float = 0) -> dict:
        fetched.append(url)
        raise TransportError("offline")

    monkeypatch.setattr(environments, "fetch_discovery", offline)
    ends = environments.endpoints({"QBO_ENVIRONMENT": env})
    assert fetched == [environments.INTUIT[env]["discovery"]]
    assert ends.api_base == api and ends.app_base == app_base
    assert ends.authorize_url == "https://appcenter.intuit.com/connect/oauth2"
    assert ends.token_url == "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
    assert ends.deep_link("Invoice", "130") == app_base + "invoice?txnId=130"


def test_unknown_environment_is_refused():
    with pytest.raises(ValueError):
        environments.endpoints({"QBO_ENVIRONMENT": "staging"})


def test_local_deep_links_open_the_record_in_the_sandbox_ui():
    from portal.qbo.environments import Endpoints

    local = Endpoints("local", "a", "t", "r", None, "http://sb/v3", "http://sb/_sandbox/")
    assert local.deep_link("Invoice", "130", "9341") == "http://sb/_sandbox/company/9341/invoices/130"
    assert local.deep_link("Customer", "7", "9341") == "http://sb/_sandbox/company/9341/customers/7"
