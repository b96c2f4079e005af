"""Zendesk AI agents: the daily data-export files."""

from __future__ import annotations

from singer_sdk import typing as th

from tap_convai.settings import Vendor, id_list_property, lookback_property
from tap_convai.zendesk_ai.streams import REGION_URLS, ZendeskAIConversationsStream

STREAMS = (ZendeskAIConversationsStream,)

VENDOR = Vendor(
    key="zendesk_ai",
    title="Zendesk AI agents",
    description="Zendesk AI agents Data Export API. Present = enabled.",
    settings=th.ObjectType(
        th.Property("api_key", th.StringType, required=True, secret=True,
                    description="Data-export API key, sent as the `authorization` header "
                    "as is."),
        th.Property("organization_id", th.StringType, required=True,
                    description="Organization id (Organization management URL)."),
        id_list_property("bot_ids", "AI agent bot ids to export"),
        th.Property("region", th.StringType, default="eu", allowed_values=sorted(REGION_URLS),
                    description="eu (default, https://api.ultimate.ai) or us "
                    "(https://api.us.ultimate.ai)."),
        th.Property("base_url", th.StringType,
                    description="Overrides the region's URL, e.g. "
                    "https://{subdomain}.zendesk.com/ai-agents/api. https:// only (http:// "
                    "for a loopback host)."),
        lookback_property(3, "completed days (a day's file has been seen to grow after "
                          "midnight)"),
        additional_properties=False,
    ),
    streams=STREAMS,
    partition_setting="bot_ids",
    partition_key="bot_id",
)

__all__ = ["REGION_URLS", "STREAMS", "VENDOR", "ZendeskAIConversationsStream"]
