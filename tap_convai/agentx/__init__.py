"""AgentX: the Export API (conversations and messages)."""

from __future__ import annotations

from singer_sdk import typing as th

from tap_convai.agentx.streams import (
    DEFAULT_REQUESTS_PER_SECOND,
    AgentXConversationsStream,
    AgentXMessagesStream,
    AgentXStream,
)
from tap_convai.settings import Vendor, base_url_property, id_list_property

DEFAULT_BASE_URL = AgentXStream.default_base_url
STREAMS = (AgentXConversationsStream, AgentXMessagesStream)

VENDOR = Vendor(
    key="agentx",
    title="AgentX",
    description="AgentX Export API (conversations, messages). Present = enabled.",
    settings=th.ObjectType(
        th.Property("api_key", th.StringType, required=True, secret=True,
                    description="Export API key (Account > API), sent as `x-api-key`."),
        id_list_property("bot_names", "Bot names or ids to export"),
        base_url_property(DEFAULT_BASE_URL),
        th.Property("requests_per_second", th.NumberType, default=DEFAULT_REQUESTS_PER_SECOND,
                    description="Client-side limit per endpoint, default 3 (the documented "
                    "limit)."),
        additional_properties=False,
    ),
    streams=STREAMS,
)
