"""Throttles: 500/min per realm, 10 concurrent per realm+app, batch 40/min and 120/min (§5)."""

from __future__ import annotations

import threading

import requests

from qbo_sandbox.testing import run_sandbox

from .conftest import Api


def throttle_error(resp: requests.Response) -> dict:
    assert resp.status_code == 429, resp.text
    return resp.json()["fault"]["error"][0]


def test_per_realm_minute_window_and_clock_reset():
    with run_sandbox({"limits": {"per_realm_per_minute": 5}}) as sbx:
        api = Api(sbx, sbx.mint_tokens(sbx.REALM_1)["access_token"], sbx.REALM_1)
        assert all(api.get("customer/1").status_code == 200 for _ in range(5))
        err = throttle_error(api.get("customer/1"))
        assert err["message"] == "message=ThrottleExceeded; errorCode=003001; statusCode=429"
        assert err["code"] == "3001" and err["detail"] == "The request limit was reached."
        other = Api(sbx, sbx.mint_tokens(sbx.REALM_2)["access_token"], sbx.REALM_2)
        assert other.get(f"companyinfo/{sbx.REALM_2}").status_code == 200
        sbx.advance_clock(61)
        assert api.get("customer/1").status_code == 200
        assert sbx.counters()["throttled_total"] == 1


def test_default_limit_is_500_per_minute():
    with run_sandbox() as sbx:
        api = Api(sbx, sbx.mint_tokens(sbx.REALM_1)["access_token"], sbx.REALM_1)
        codes = [api.get("preferences").status_code for _ in range(501)]
        assert codes.count(200) == 500 and codes[-1] == 429


def test_batch_limits_per_app_and_realm():
    with run_sandbox(
        {"limits": {"batch_per_realm_app_per_minute": 2, "batch_per_realm_per_minute": 3}}
    ) as sbx:
        sbx.register_app("second-app", "second-secret", [])
        one = Api(sbx, sbx.mint_tokens(sbx.REALM_1)["access_token"], sbx.REALM_1)
        two = Api(
            sbx, sbx.mint_tokens(sbx.REALM_1, client_id="second-app")["access_token"], sbx.REALM_1
        )
        batch = {"BatchItemRequest": [{"bId": "q", "Query": "select * from Item"}]}
        assert [one.post("batch", batch).status_code for _ in range(3)] == [200, 200, 429]
        assert [two.post("batch", batch).status_code for _ in range(2)] == [200, 429]
        assert one.get("customer/1").status_code == 200  # plain calls unaffected


def test_concurrency_limit_per_realm_and_app():
    with run_sandbox({"limits": {"concurrent_per_realm_app": 2}, "latency_ms": 400}) as sbx:
        api = Api(sbx, sbx.mint_tokens(sbx.REALM_1)["access_token"], sbx.REALM_1)
        barrier = threading.Barrier(4)
        codes: list[int] = []

        def call() -> None:
            barrier.wait()
            codes.append(api.get("customer/1").status_code)

        threads = [threading.Thread(target=call) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(codes) == [200, 200, 429, 429]


def test_time_scale_shrinks_latency():
    with run_sandbox({"latency_ms": 20000, "time_scale": 1000}) as sbx:
        api = Api(sbx, sbx.mint_tokens(sbx.REALM_1)["access_token"], sbx.REALM_1)
        resp = api.get("customer/1")
        assert resp.status_code == 200 and resp.elapsed.total_seconds() < 5
