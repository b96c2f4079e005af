"""AgentX: the Export API (conversations and messages)."""

from __future__ import annotations

from singer_sdk import typing as th

from tap_convai.agentx.streams import (
    AgentXConversationsStream,
    AgentXMessagesStream,
    AgentXStream,
)
from tap_convai.pacing import Pace
from tap_convai.settings import Vendor, base_url_property, id_list_property, pace_property

DEFAULT_BASE_URL = AgentXStream.default_base_url
STREAMS = (AgentXConversationsStream, AgentXMessagesStream)
#: the documented limit: 3 requests per second per endpoint
PACE = Pace("requests_per_second", window=1.0, default=3)

VENDOR = Vendor(
    key="agentx",
    title="AgentX",
    description="AgentX Export API (conversations, messages). Present = enabled.",
    settings=th.ObjectType(
        th.Property("api_key", th.StringType, required=True, secret=True,
                    description="Export API key (Account > API), sent as `x-api-key`."),
        id_list_property("bot_names", "Bot names or ids to export"),
        base_url_property(DEFAULT_BASE_URL),
        pace_property(PACE, "Client-side limit per endpoint, default 3 (the documented "
                      "limit)."),
        additional_properties=False,
    ),
    streams=STREAMS,
    partition_setting="bot_names",
    partition_key="bot_name",
    pace=PACE,
)
