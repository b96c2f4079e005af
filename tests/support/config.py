"""Tap configs that point at a sandbox, one block per vendor."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

from sandbox.credentials import vendor_module
from tap_convai.tap import VENDORS

PROJECT = Path(__file__).resolve().parents[2]
#: the demo's (and most tests') fixed, finished date range
START, END = "2026-10-01", "2026-10-07"


def vendor_block(vendor: str, url: str) -> dict[str, Any]:
    """A vendor's settings block against the sandbox at `url` (from its sandbox module)."""
    return {**vendor_module(vendor).tap_settings(), "base_url": url}


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


def every_vendor_config(
    url: str, start_date: str, end_date: str, *, one_partition: bool = False, **overrides: Any
) -> dict[str, Any]:
    """A config with every vendor of the registry, quick to run: no lookback, unpaced where
    the sandbox does not limit (a vendor module's FAST), and with `one_partition` only the
    first partition of each vendor. `overrides` as in `sandbox_config`."""
    blocks: dict[str, dict[str, Any]] = {}
    for vendor in VENDORS:
        module = vendor_module(vendor.key)
        block = dict(getattr(module, "FAST", {}))
        if "lookback_days" in vendor.settings.to_dict()["properties"]:
            block["lookback_days"] = 0
        if one_partition and vendor.partition_setting and vendor.partition_is_list:
            ids = module.tap_settings()[vendor.partition_setting]
            block[vendor.partition_setting] = ids[:1]
        blocks[vendor.key] = {**block, **overrides.pop(vendor.key, {})}
    return sandbox_config(url, vendors=tuple(blocks), start_date=start_date,
                          end_date=end_date, **blocks, **overrides)


def meltano_sandbox_config(url: str) -> dict[str, Any]:
    """The tap config of meltano.yml's `sandbox` environment, as `meltano run` gets it
    (its URL and its secrets from the environment): what a Meltano run's truth is."""
    project = yaml.safe_load((PROJECT / "meltano.yml").read_text())
    (environment,) = [e for e in project["environments"] if e["name"] == "sandbox"]
    (extractor,) = [p for p in environment["config"]["plugins"]["extractors"]
                    if p["name"] == "tap-convai"]
    config = json.loads(json.dumps(extractor["config"]).replace("${SANDBOX_URL}", url))
    for vendor, block in config.items():
        if isinstance(block, dict):
            module = vendor_module(vendor)
            block.update({name: module.CREDENTIALS[name] for name in module.MELTANO_SECRETS})
    return config
