"""Kore.ai AgentAssist Raw Data API v2: interactions (segments), one partition per stream id.

`GET {base}/agentassist/api/v1/public/{streamId}/v2/agentassistinteractions`
(`POST` with `{"sessionIds": [...]}` when `kore.session_ids` is set), walked in UTC day
windows with `offset`/`limit` paging.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from functools import cached_property
from pathlib import Path
from urllib.parse import quote

import msgspec
from singer_sdk import SchemaDirectory, StreamSchema
from singer_sdk.pagination import OffsetPaginator

from tap_convai.http import json_body, paging_never_ends
from tap_convai.kore.auth import KoreAuth, auth_from_config
from tap_convai.timestamps import format_timestamp, parse_timestamp
from tap_convai.windows import Window, WindowedStream, window_of

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context

SCHEMAS = SchemaDirectory(Path(__file__).parent / "schemas")

PAGE_SIZE = 100  # the documented maximum of `limit`
PARAM_FORMAT = "%Y-%m-%d %H:%M:%S"  # `from`/`to`, UTC (docs/vendors/kore.md)


class KorePaginator(OffsetPaginator):
    """`offset` += `limit` while the page says `hasMore`; a page without `hasMore` has
    more after it when it is full (`numResults == limit`).

    Paging ends: a page that says there is more but brings no record not seen before in
    this window (empty, or the same records again) is an error, never a loop."""

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen: set[str] = set()  # segment ids of the window (ids only: small)

    def says_more(self, page: dict) -> bool:
        if isinstance(page.get("hasMore"), bool):
            return page["hasMore"]
        served = page.get("numResults")
        if not isinstance(served, int):
            served = len(page.get("data") or ())
        return served >= self.page_size

    def has_more(self, response: requests.Response) -> bool:
        page = _page(response)
        new = 0
        for record in page.get("data") or ():
            segment = record.get("segmentID") if isinstance(record, dict) else None
            if not isinstance(segment, str):
                new += 1  # not comparable (parse_response refuses it)
            elif segment not in self.seen:
                self.seen.add(segment)
                new += 1
        more = self.says_more(page)
        if more and not new:
            self.endless(response)
        return more

    def continue_if_empty(self, response: requests.Response) -> bool:
        # parse_response drops records outside the window, so a page of data can yield
        # nothing; the page's own size decides whether to go on
        page = _page(response)
        if not page.get("data") and self.says_more(page):
            self.endless(response)
        return bool(page.get("data"))

    def endless(self, response: requests.Response) -> t.NoReturn:
        raise paging_never_ends(
            response,
            f"the page at offset {self.current_value} says there is more but brings no new "
            "record",
        )


def _page(response: requests.Response) -> dict:
    """The page as decoded for its records (parse_response has refused unusable ones)."""
    try:
        body = json_body(response)
    except msgspec.DecodeError:
        return {}
    return body if isinstance(body, dict) else {}


def param_time(value: dt.datetime, *, round_up: bool = False) -> str:
    """A `from`/`to` value: UTC, whole seconds (rounded down, or up for `to`)."""
    value = value.astimezone(dt.timezone.utc)
    if round_up and value.microsecond:
        value += dt.timedelta(seconds=1)
    return value.strftime(PARAM_FORMAT)


class KoreInteractionsStream(WindowedStream):
    """Agent AI interactions (one record per conversation segment) of one AgentAssist
    stream, by `segmentStartTime`.

    Each UTC day window [start, end) is requested with `from` = start and `to` = end: the
    API takes both ends inclusive at whole seconds, so records at or after the window end
    (they belong to the next window, which requests them too) are dropped here. Records
    are emitted page by page, in the API's order (segmentID).
    """

    name = "kore_interactions"
    path = "/agentassist/api/v1/public/{stream_id}/v2/agentassistinteractions"
    schema = StreamSchema(SCHEMAS)
    primary_keys = ("segmentID",)
    replication_key = "segmentStartTime"
    limiter_key = "kore.interactions"
    payload_as_json = True
    align_to_day = True
    error_meanings = {
        400: "the request is invalid (from/to must be YYYY-MM-DD HH:MM:SS, from <= to, "
        "limit 0..100, sessionIds an array of strings)",
        401: "the auth JWT or the accountId header was rejected (invalid or expired "
        "token, wrong client secret, or the app's appId does not belong to this account)",
        403: "the app is not associated with the AgentAssist Analytics API scope for "
        "this stream",
        404: "the stream id was not found",
        429: "Kore's rate limit for analytics APIs was exceeded (60 requests per minute "
        "is published; lower kore.requests_per_minute)",
        500: "Kore.ai could not serve the interactions (server error)",
        502: "Kore.ai gateway error",
        503: "Kore.ai is temporarily unavailable",
        504: "Kore.ai gateway timeout",
    }

    # -- auth -------------------------------------------------------------------------

    @cached_property
    def kore_auth(self) -> KoreAuth:
        return auth_from_config(self.vendor_config)

    @property
    def authenticator(self) -> KoreAuth:
        return self.kore_auth

    @property
    def http_headers(self) -> dict[str, str]:
        return {
            "accountId": self.vendor_config["account_id"],
            "Accept": "application/json",
            "Content-Type": "application/json",
        }

    # -- the request --------------------------------------------------------------------

    @property
    def session_ids(self) -> list[str] | None:
        return self.vendor_config.get("session_ids") or None

    @property  # type: ignore[misc]  # the SDK's is a plain attribute
    def http_method(self) -> str:
        return "POST" if self.session_ids else "GET"

    def get_url(self, context: Context | None) -> str:
        stream_id = quote(str((context or {})["stream_id"]), safe="")
        return self.url_base + self.path.replace("{stream_id}", stream_id)

    def get_new_paginator(self) -> KorePaginator:
        return KorePaginator(start_value=0, page_size=PAGE_SIZE)

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        window = window_of(context)
        params: dict[str, t.Any] = {
            "from": param_time(window.start),
            "to": param_time(window.end, round_up=True),
            "offset": next_page_token or 0,
            "limit": PAGE_SIZE,
        }
        if self.vendor_config.get("include_agentic_data"):
            params["includeAgenticData"] = "true"
        return params

    def prepare_request_payload(
        self, context: Context | None, next_page_token: t.Any
    ) -> dict[str, t.Any] | None:
        if self.session_ids:
            return {"sessionIds": list(self.session_ids)}
        return None

    # -- the response -------------------------------------------------------------------

    def error_detail(self, response: requests.Response) -> str | None:
        """Which credential a 401 refused (the docs show no error body to read)."""
        if response.status_code == 401:
            return f"auth: {self.kore_auth.description}"
        return None

    def parse_response(self, response: requests.Response) -> t.Iterator[dict]:
        _, records = self.data_array(response)
        window: Window | None = (self.current_partition or {}).get("_window")
        for record in records:
            if not isinstance(record, dict) or not record.get("segmentID"):
                raise self.malformed(response, "a record without segmentID")
            try:
                started = parse_timestamp(record["segmentStartTime"])
            except (KeyError, TypeError, ValueError):
                raise self.malformed(
                    response, f"record {record['segmentID']}: no usable segmentStartTime"
                ) from None
            if window is not None and not window.start <= started < window.end:
                continue  # the neighbouring window's record (inclusive `from`/`to`)
            record["segmentStartTime"] = format_timestamp(started)
            yield record
