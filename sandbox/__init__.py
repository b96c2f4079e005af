"""Local emulator ("sandbox") of the five vendor APIs tap-convai reads.

    from sandbox import Sandbox, SANDBOX
    with Sandbox(seed=7, per_day=12) as sb:
        sb.url, sb.faults.add(vendor="agentx", status=503), sb.stats.snapshot(), sb.truth(...)

See docs/sandbox-spec.md.
"""

from .core import (
    FaultList,
    FaultRule,
    Request,
    Response,
    Route,
    Sandbox,
    Stats,
    VendorEmulator,
    json_response,
    load_vendors,
)
from .credentials import SANDBOX, SECRETS

__all__ = [
    "SANDBOX",
    "SECRETS",
    "FaultList",
    "FaultRule",
    "Request",
    "Response",
    "Route",
    "Sandbox",
    "Stats",
    "VendorEmulator",
    "json_response",
    "load_vendors",
]
