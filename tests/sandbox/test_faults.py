"""Fault injection: 500, 503, 429, 401, hang-then-drop, commit-then-drop (issue item 8)."""

from __future__ import annotations

import pytest
import requests

from .conftest import fault_of


@pytest.mark.parametrize("kind", ["500", "503"])
def test_system_faults(api, sbx, kind):
    sbx.inject_fault(kind, count=1, path="/customer")
    resp = api.get("customer/1")
    assert resp.status_code == int(kind) and resp.json()["Fault"]["type"] == "SystemFault"
    assert fault_of(resp)["code"] == "10000"
    assert api.get("customer/1").status_code == 200  # only the next N


def test_injected_429_and_401_use_gateway_shape(api, sbx):
    sbx.inject_fault("429", count=2)
    assert [api.get("customer/1").status_code for _ in range(3)] == [429, 429, 200]
    sbx.inject_fault("401", method="POST")
    assert api.get("customer/1").status_code == 200
    resp = api.post("customer", {"DisplayName": "Nope"})
    assert resp.status_code == 401 and resp.json()["fault"]["error"][0]["code"] == "3200"
    assert not any(c["DisplayName"] == "Nope" for c in sbx.entities(api.realm, "Customer"))
    assert sbx.counters()["faults_injected"] == {"429": 2, "401": 1}


def test_hang_then_drop_does_nothing(api, sbx):
    sbx.inject_fault("hang", hang_seconds=0.05, path="/customer")
    with pytest.raises(requests.ConnectionError):
        api.post("customer", {"DisplayName": "Hung"})
    assert not any(c["DisplayName"] == "Hung" for c in sbx.entities(api.realm, "Customer"))


def test_commit_then_drop_applies_write_and_replays_by_requestid(api, sbx):
    sbx.inject_fault("commit_then_drop", path="/customer", method="POST")
    with pytest.raises(requests.ConnectionError):
        api.post("customer", {"DisplayName": "Committed"}, requestid="cd-1")
    created = [c for c in sbx.entities(api.realm, "Customer") if c["DisplayName"] == "Committed"]
    assert len(created) == 1
    retry = api.post("customer", {"DisplayName": "Committed"}, requestid="cd-1")
    assert retry.status_code == 200 and retry.json()["Customer"]["Id"] == created[0]["Id"]


def test_commit_then_502(api, sbx):
    sbx.inject_fault("commit_then_drop", drop="502", path="/customer", method="POST")
    resp = api.post("customer", {"DisplayName": "Gateway Lost"})
    assert resp.status_code == 502
    assert any(c["DisplayName"] == "Gateway Lost" for c in sbx.entities(api.realm, "Customer"))


def test_token_endpoint_faults(sbx):
    sbx.inject_fault("503", path="/oauth2/v1/tokens/bearer")
    resp = requests.post(
        f"{sbx.base_url}/oauth2/v1/tokens/bearer", data={"grant_type": "refresh_token"}, timeout=10
    )
    assert resp.status_code == 503


def test_control_api_requires_secret(sbx):
    resp = requests.get(f"{sbx.base_url}/_sandbox/api/counters", timeout=10)
    assert resp.status_code == 401
    bad = requests.post(
        f"{sbx.base_url}/_sandbox/api/faults",
        json={"kind": "teapot"},
        headers={"X-Sandbox-Secret": sbx.control_secret},
        timeout=10,
    )
    assert bad.status_code == 400


def test_counters_track_requests_and_creates(api, sbx):
    sbx.reset_counters()
    api.create("Customer", {"DisplayName": "Counted"})
    api.get("customer/1")
    counters = sbx.counters()
    assert counters["requests"] == {"POST customer": 1, "GET customer/{id}": 1}
    assert counters["entities_created"] == {"Customer": 1}
