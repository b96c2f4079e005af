"""Tap configs that point at a sandbox, one block per vendor."""

from __future__ import annotations

import copy
from typing import Any

from tests.sandbox.credentials import SANDBOX

#: the demo's (and most tests') fixed, finished date range
START, END = "2026-10-01", "2026-10-07"


def vendor_block(vendor: str, url: str) -> dict[str, Any]:
    creds = SANDBOX[vendor]
    blocks: dict[str, dict[str, Any]] = {
        "airgentic": {
            "api_key": creds.get("api_key"),
            "account_id": creds.get("account_id"),
            "service_ids": ["web", "support"],
        },
        "kore": {
            "stream_id": creds.get("stream_id"),
            "account_id": creds.get("account_id"),
            "jwt": creds.get("jwt"),
        },
        "agentx": {"api_key": creds.get("api_key"), "bot_names": ["r3-218210", "helpdesk"]},
        "aurion": {"token": creds.get("token")},
        "zendesk_ai": {
            "api_key": creds.get("api_key"),
            "organization_id": creds.get("organization_id"),
            "bot_ids": ["98174e8d635471c383b9ec7b"],
        },
    }
    return {**blocks[vendor], "base_url": url}


def sandbox_config(
    url: str,
    vendors: tuple[str, ...] = ("airgentic",),
    *,
    start_date: str = START,
    end_date: str | None = END,
    **overrides: Any,
) -> dict[str, Any]:
    """A complete tap config for `vendors` against the sandbox at `url`.

    `overrides` replace top-level settings; a dict value for a vendor key is merged
    into that vendor's block.
    """
    config: dict[str, Any] = {
        "start_date": start_date,
        "retry_initial_delay": 0.05,
        "max_retries": 3,
        "request_timeout": 10,
    }
    if end_date:
        config["end_date"] = end_date
    for vendor in vendors:
        config[vendor] = vendor_block(vendor, url)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    return copy.deepcopy(config)
