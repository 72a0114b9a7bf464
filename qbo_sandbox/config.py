"""Configuration: one dict of defaults, overridden by a JSON file and/or a dict.

Every setting is named here once. Nested dicts (``limits``) merge key by key so a test can
turn one limit off without restating the others.
"""

from __future__ import annotations

import copy
import json
from typing import Any

DEV_APP: dict[str, Any] = {
    "client_id": "sandbox-client-id",
    "client_secret": "sandbox-client-secret",
    "name": "Practice Portal (dev)",
    "redirect_uris": [
        "http://127.0.0.1:5000/integrations/quickbooks/callback",
        "http://localhost:5000/integrations/quickbooks/callback",
        "https://developer.intuit.com/v2/OAuth2Playground/RedirectUrl",
    ],
    "webhook_url": None,
    "verifier_token": "sandbox-verifier-token",
}

DEFAULTS: dict[str, Any] = {
    "secret_key": None,  # Flask session key for the consent pages; random per process if unset
    "control_secret": "sandbox-secret",  # X-Sandbox-Secret for /_sandbox/api (dev default)
    "db": ":memory:",
    "seed": True,  # create the demo user + companies on an empty store
    "time_scale": 1.0,
    "clock_offset_seconds": 0.0,
    "company_offset": "-08:00",  # UTC offset used for MetaData/time of seeded companies
    "apps": [DEV_APP],
    "access_token_lifetime": 3600,
    "refresh_token_lifetime": 8726400,  # 101 days, as Intuit's examples show
    "refresh_hard_lifetime": 5 * 365 * 86400,
    "refresh_rotation_seconds": 86400,  # same refresh token returned inside this window
    "refresh_grace_seconds": 0,  # how long a rotated-away refresh token still works
    "auth_code_lifetime": 600,
    "limits": {
        "enabled": True,
        "per_realm_per_minute": 500,
        "concurrent_per_realm_app": 10,
        "batch_per_realm_app_per_minute": 40,
        "batch_per_realm_per_minute": 120,
    },
    "batch_max_items": 30,
    "latency_ms": 0,  # sandbox milliseconds added to every API request
    "batch_item_latency_ms": 0,  # and to every batch item
    "hang_seconds": 30,  # sandbox seconds a "hang" fault waits before dropping
    "max_body_bytes": 4 * 1024 * 1024,
    "replay_errors": False,  # replay stored 4xx answers for a reused requestid too (UNCONFIRMED)
    "cdc_lookback_days": 30,
    "cdc_max_objects": 1000,
}


def merge(base: dict[str, Any], override: dict[str, Any] | None) -> dict[str, Any]:
    """Deep-merge ``override`` into a copy of ``base``."""
    out = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load(config: dict[str, Any] | None = None, path: str | None = None) -> dict[str, Any]:
    """Defaults <- JSON file <- dict. Extra ``extra_apps`` are appended to ``apps``."""
    cfg = copy.deepcopy(DEFAULTS)
    if path:
        with open(path, encoding="utf-8") as fh:
            cfg = merge(cfg, json.load(fh))
    cfg = merge(cfg, config)
    cfg["apps"] = list(cfg.get("apps") or []) + list(cfg.pop("extra_apps", None) or [])
    return cfg
