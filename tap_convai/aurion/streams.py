"""AurionAI analytics API: conversation insights, one aggregate record per UTC day."""

from __future__ import annotations

import re
import typing as t
from pathlib import Path

from singer_sdk import SchemaDirectory, StreamSchema

from tap_convai.http import clip, error_json
from tap_convai.timestamps import DAY, format_timestamp
from tap_convai.windows import Window, WindowedStream, window_of

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    import requests
    from singer_sdk.helpers.types import Context

SCHEMAS = SchemaDirectory(Path(__file__).parent / "schemas")

#: the documented top-level keys of the insights object
INSIGHT_KEYS = frozenset({
    "agent_performance", "aggregation_health", "busiest_hours", "csat",
    "email_channel_metrics", "help_center_deflection", "metadata", "sla_breach_trend",
    "team_performance", "top_topics",
})
#: locations a validation error's `loc` starts with (FastAPI style); not part of the name
_LOC_KINDS = {"query", "body", "path", "header", "cookie"}
_SAFE_NAME = re.compile(r"[A-Za-z0-9_.\-\[\]]{1,64}")
_PREVIEW = "the analytics endpoint is in preview for this plan: not available to API keys yet"


def validation_errors(detail: t.Any) -> str | None:
    """A 422 body's `detail[]` (`loc`, `msg`, `type`) as "<field>: <msg>; ..."."""
    if not isinstance(detail, list):
        return None
    parts = []
    for item in detail[:5]:
        if not isinstance(item, dict) or not isinstance(item.get("msg"), str):
            continue
        loc = item.get("loc")
        names = [str(p) for p in loc if isinstance(p, (str, int))] if isinstance(loc, list) else []
        if names and names[0] in _LOC_KINDS:
            names = names[1:]
        field = ".".join(names)
        message = clip(item["msg"], 160)
        parts.append(f"{field}: {message}" if _SAFE_NAME.fullmatch(field) else message)
    return "; ".join(parts) or None


def says_api_keys_not_permitted(detail: t.Any) -> bool:
    if not isinstance(detail, str):
        return False
    text = detail.lower()
    return "api key" in text and "not permitted" in text


class AurionInsightsStream(WindowedStream):
    """`GET /api/v2/analytics/conversations/insights`: one aggregate object per UTC day.

    The endpoint aggregates whatever window it is asked for, so every request covers
    exactly one UTC day, [00:00:00Z, next 00:00:00Z), and the day's object becomes one
    record keyed by `window_start`. Only days that have ended are read (a day's figures
    are final once it is over); `lookback_days` re-reads the latest ones for late
    corrections. There are no partitions: the bookmark is the stream's.
    """

    name = "aurion_insights"
    default_base_url = None
    path = "/api/v2/analytics/conversations/insights"
    schema = StreamSchema(SCHEMAS)
    primary_keys = ("window_start",)
    replication_key = "window_start"
    partition_key = None
    default_lookback_days = 1
    complete_days_only = True
    error_meanings = {
        401: "the bearer token is missing, invalid or expired",
        403: "this token may not read conversation insights",
        422: "the request's query parameters were rejected",
        429: "too many requests",
    }

    @property
    def http_headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.vendor_config['token']}",
            "Accept": "application/json",
        }

    def windows(self, context: Context | None) -> Iterator[Window]:
        """Whole UTC days only: an `end_date` given as a date-time inside a day stops
        before that day rather than emitting a partial aggregate under the day's key."""
        for window in super().windows(context):
            if window.end - window.start == DAY:
                yield window
            else:
                self.logger.info(
                    "%s: skipping %s, not a whole UTC day (end_date falls inside it)",
                    self.name, window,
                )

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        window = window_of(context)
        return {
            "date_from": format_timestamp(window.start),
            "date_to": format_timestamp(window.end),
        }

    def get_new_paginator(self) -> None:
        return None  # one request per day

    def parse_response(self, response: requests.Response) -> t.Iterator[dict]:
        body = self.decode_json(response)
        if not isinstance(body, dict):
            raise self.malformed(response, "not a JSON object")
        if not INSIGHT_KEYS.intersection(body):
            raise self.malformed(response, "none of the documented insights fields")
        yield body

    def window_records(self, context: dict, window: Window) -> t.Iterable[dict]:
        """The day's insights object, keyed by the day it covers."""
        for record in super().window_records(context, window):
            record["window_start"] = format_timestamp(window.start)
            record["window_end"] = format_timestamp(window.end)
            yield record

    def error_detail(self, response: requests.Response) -> str | None:
        """The detail of the two documented error bodies; nothing else is echoed.

        - 422 `{"detail": [{"loc": [...], "msg": ..., "type": ...}]}` -> "date_from: msg"
        - 403 `{"detail": "API keys are not permitted ... in preview"}` -> the preview note
        """
        status = response.status_code
        if status not in (403, 422):
            return None
        body = error_json(response)
        detail = body.get("detail") if isinstance(body, dict) else None
        if status == 403:
            return _PREVIEW if says_api_keys_not_permitted(detail) else None
        return validation_errors(detail)
