"""Credentials the sandbox accepts, gathered from each vendor's sandbox module (constant,
distinctive values, so tests can grep outputs for leaks)."""

from __future__ import annotations

import importlib
import types

from tap_convai.redaction import secret_values
from tap_convai.tap import VENDORS, TapConvAI

from .kore import KORE_CLIENT_ID, KORE_CLIENT_SECRET, KORE_JWT


def vendor_module(vendor: str) -> types.ModuleType:
    """The sandbox module of a vendor of the tap's registry: sandbox/<key>.py."""
    return importlib.import_module(f"{__package__}.{vendor}")


SANDBOX: dict[str, dict[str, str]] = {v.key: vendor_module(v.key).CREDENTIALS for v in VENDORS}

#: every value of a setting the tap's schema marks secret, for leak checks
SECRETS: tuple[str, ...] = tuple(secret_values(SANDBOX, TapConvAI.config_jsonschema))

__all__ = ["KORE_CLIENT_ID", "KORE_CLIENT_SECRET", "KORE_JWT", "SANDBOX", "SECRETS",
           "vendor_module"]
