"""Kore.ai AgentAssist: the Raw Data API v2 (interactions)."""

from __future__ import annotations

import typing as t
from collections.abc import Iterator

from singer_sdk import typing as th

from tap_convai.kore.streams import KoreInteractionsStream
from tap_convai.pacing import Pace
from tap_convai.settings import Vendor, base_url_property, pace_property

STREAMS = (KoreInteractionsStream,)
#: Kore's published limit for analytics APIs: 60 requests per minute
PACE = Pace("requests_per_minute", window=60.0, default=60)


def check(block: dict[str, t.Any]) -> Iterator[str]:
    """Exactly one auth form: a ready JWT, or client id + secret to mint them."""
    has_jwt = bool(block.get("jwt"))
    has_id, has_secret = bool(block.get("client_id")), bool(block.get("client_secret"))
    if has_jwt and (has_id or has_secret):
        yield "jwt: give either jwt or client_id + client_secret, not both"
    elif not has_jwt and not (has_id or has_secret):
        yield "jwt: required, or client_id + client_secret to mint tokens"
    elif not has_jwt and not has_id:
        yield "client_id: required with client_secret"
    elif not has_jwt and not has_secret:
        yield "client_secret: required with client_id"


VENDOR = Vendor(
    key="kore",
    title="Kore.ai",
    description="Kore.ai AgentAssist Raw Data API v2. Present = enabled.",
    settings=th.ObjectType(
        base_url_property(None, "https://platform.kore.ai"),
        th.Property("stream_id", th.StringType, required=True,
                    description="AgentAssist stream id (st-...); one partition."),
        th.Property("account_id", th.StringType, required=True,
                    description="Account id, sent as the `accountId` header."),
        th.Property("jwt", th.StringType, secret=True,
                    description="A ready JWT for the `auth` header (or client_id + "
                    "client_secret)."),
        th.Property("client_id", th.StringType,
                    description="App client id: the tap mints HS256 JWTs with this `appId` "
                    "claim and renews them before they expire."),
        th.Property("client_secret", th.StringType, secret=True,
                    description="App client secret that signs the minted JWTs."),
        th.Property("include_agentic_data", th.BooleanType, default=False,
                    description="Adds includeAgenticData=true (agenticActivities). "
                    "Default false."),
        th.Property("session_ids", th.ArrayType(th.StringType),
                    description="Only these session ids: requests become POST with "
                    '{"sessionIds": [...]}.'),
        pace_property(PACE, "Client-side pacing, default 60 (Kore's published limit "
                      "for analytics APIs)."),
        additional_properties=False,
    ),
    streams=STREAMS,
    partition_setting="stream_id",
    partition_key="stream_id",
    pace=PACE,
    check=check,
)
