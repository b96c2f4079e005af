"""AurionAI: conversation insights, one record per UTC day."""

from __future__ import annotations

from singer_sdk import typing as th

from tap_convai.aurion.streams import AurionInsightsStream
from tap_convai.settings import Vendor, base_url_property, lookback_property

STREAMS = (AurionInsightsStream,)

VENDOR = Vendor(
    key="aurion",
    title="AurionAI",
    description="AurionAI analytics API (conversation insights). Present = enabled.",
    settings=th.ObjectType(
        base_url_property(None, "https://api.aurion.example"),
        th.Property("token", th.StringType, required=True, secret=True,
                    description="Bearer token for the `Authorization` header."),
        lookback_property(1, "to pick up late corrections of finished days"),
        additional_properties=False,
    ),
    streams=STREAMS,
)
