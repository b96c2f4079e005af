"""AgentX Support Export API: conversations and messages, one partition per bot name.

Both endpoints take the same query (`start_time`/`end_time` in Unix seconds, records in
[start_time, end_time), `bot_name`, `per_page` <= 1000, `cursor`), answer
`{"data": [...], "cursor": "..." | null}` ordered by `_id` (not by time), and are limited to
3 requests per second per endpoint: everything lives in `AgentXStream`, the two streams only
name their endpoint, replication key and timestamp fields.
"""

from __future__ import annotations

import math
import typing as t
from pathlib import Path

from singer_sdk import SchemaDirectory, StreamSchema
from singer_sdk.pagination import BaseAPIPaginator

from tap_convai.http import json_body, paging_never_ends
from tap_convai.timestamps import normalize_timestamp
from tap_convai.windows import Window, WindowedStream, window_of

if t.TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable, Iterator

    import requests
    from singer_sdk.helpers.types import Context

SCHEMAS = SchemaDirectory(Path(__file__).parent / "schemas")

def unix_seconds(value: dt.datetime) -> int:
    """A window bound as the API's integer Unix seconds, rounded down.

    Rounding both bounds down keeps consecutive windows [a, b), [b, c) contiguous in
    whole seconds, and never asks for a second that has not started yet.
    """
    return math.floor(value.timestamp())


class CursorPaginator(BaseAPIPaginator):
    """`cursor` until it is null; a page without records but with a cursor goes on.

    Paging ends: a cursor that repeats one of an earlier page of the window (A, B, A) is
    an error, never a loop."""

    def __init__(self) -> None:
        super().__init__(None)
        self.seen: set[str] = set()

    @staticmethod
    def cursor(response: requests.Response) -> str | None:
        body = json_body(response)  # already decoded for the records
        return body.get("cursor") if isinstance(body, dict) else None

    def get_next(self, response: requests.Response) -> str | None:
        cursor = self.cursor(response)
        if cursor is not None:
            if cursor in self.seen:
                raise paging_never_ends(
                    response, f"the cursor of page {len(self.seen) + 1} repeats an earlier page's"
                )
            self.seen.add(cursor)
        return cursor

    def continue_if_empty(self, response: requests.Response) -> bool:
        return bool(self.cursor(response))


class AgentXStream(WindowedStream):
    """One AgentX export endpoint: day windows per bot, each a cursor-paged request series.

    Timestamps the API sends as Unix seconds (int or fractional) or as naive ISO strings
    (UTC) are converted in place to the tap's canonical RFC 3339 UTC format.
    """

    default_base_url = "https://api.converseapps.com"
    schema = StreamSchema(SCHEMAS)
    primary_keys = ("_id",)
    # windows are whole UTC days: each run re-reads the day its bookmark is in, which picks
    # up conversations still in progress (new messages, lastActionAt) at the last run
    # records are emitted page by page in the API's _id order: the watermark moves per
    # window, so order inside a window does not matter, and memory stays one page
    #: records per request (the documented maximum); not a setting
    page_size: t.ClassVar[int] = 1000
    #: fields holding a vendor timestamp, converted in place; the replication key is required
    timestamp_fields: t.ClassVar[tuple[str, ...]] = ()
    error_meanings = {
        400: "a query parameter was refused (start_time/end_time must be Unix seconds, "
        "per_page 1 to 1000, cursor as returned by the previous page)",
        401: "the x-api-key header is missing or invalid (Account > API, site admins only)",
        403: "the Export API is not available on this pricing plan or for this bot",
        404: "the bot name or id was not found",
        429: "more than 3 requests per second to this endpoint",
        500: "AgentX could not export the records (server error)",
        502: "AgentX is unavailable (bad gateway)",
        503: "AgentX is unavailable (service unavailable)",
        504: "AgentX timed out (gateway timeout)",
    }

    # -- requests ---------------------------------------------------------------------

    @property
    def http_headers(self) -> dict[str, str]:
        return {"x-api-key": self.vendor_config["api_key"], "Accept": "application/json"}

    def get_new_paginator(self) -> CursorPaginator:
        return CursorPaginator()

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        window = window_of(context)
        return {
            "start_time": unix_seconds(window.start),
            "end_time": unix_seconds(window.end),
            "bot_name": (context or {})["bot_name"],
            "per_page": self.page_size,
            "cursor": next_page_token,  # None (first page) is dropped by the SDK
        }

    def window_records(self, context: dict, window: Window) -> Iterable[dict]:
        if unix_seconds(window.start) >= unix_seconds(window.end):
            return ()  # less than a whole second: nothing to ask (the next window has it)
        return self.request_records(context)

    # -- responses --------------------------------------------------------------------

    def parse_response(self, response: requests.Response) -> Iterator[dict]:
        body, records = self.data_array(response)
        cursor = body.get("cursor")
        if cursor is not None and not isinstance(cursor, str):
            raise self.malformed(response, "`cursor` is neither a string nor null")
        for record in records:
            if not isinstance(record, dict):
                raise self.malformed(response, "a `data` item is not an object")
            yield self.convert(record, response)

    def convert(self, record: dict, response: requests.Response) -> dict:
        """Vendor timestamps to the canonical string, in place."""
        if record.get(self.replication_key) is None:
            raise self.malformed(response, f"a record has no `{self.replication_key}`")
        for name in self.timestamp_fields:
            value = record.get(name)
            if value is None:
                continue
            try:
                record[name] = normalize_timestamp(value)
            except (TypeError, ValueError, OverflowError, OSError):
                raise self.malformed(response, f"`{name}` is not a timestamp") from None
        return record


class AgentXConversationsStream(AgentXStream):
    """`GET /conversations/export/v1/conversations`: conversations by `startTime`."""

    name = "agentx_conversations"
    path = "/conversations/export/v1/conversations"
    limiter_key = "agentx.conversations"
    replication_key = "startTime"
    timestamp_fields = ("startTime", "lastActionAt")


class AgentXMessagesStream(AgentXStream):
    """`GET /conversations/export/v1/messages`: messages by `time`."""

    name = "agentx_messages"
    path = "/conversations/export/v1/messages"
    limiter_key = "agentx.messages"
    replication_key = "time"
    timestamp_fields = ("time",)
