"""Airgentic Insights API: raw analytics records, one partition per service id."""

from __future__ import annotations

import typing as t
from pathlib import Path

from singer_sdk import SchemaDirectory, StreamSchema

from tap_convai.timestamps import normalize_timestamp
from tap_convai.windows import Window, WindowedStream

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.streams.rest import PageContext  # noqa: F401

SCHEMAS = SchemaDirectory(Path(__file__).parent / "schemas")


class AirgenticRecordsStream(WindowedStream):
    """`GET /api/insights/raw`: every record of one service for one UTC day.

    The API has no paging: a day window is one request. Dates are inclusive at both
    ends and records come newest first; the window is sorted before it is emitted.
    """

    name = "airgentic_records"
    default_base_url = "https://admin.airgentic.com"
    path = "/api/insights/raw"
    schema = StreamSchema(SCHEMAS)
    primary_keys = ("partition_id", "thread_id", "date_time")
    replication_key = "date_time"
    partition_key = "service_id"
    partition_setting = "service_ids"
    default_lookback_days = 3
    error_meanings = {
        400: "a date parameter is invalid (YYYY-MM-DD expected)",
        401: "the api-key header is missing or invalid",
        403: "the Insights API is not enabled for this service",
        404: "the account/service combination was not found",
        500: "Airgentic could not retrieve the records",
    }

    @property
    def http_headers(self) -> dict[str, str]:
        return {"api-key": self.vendor_config["api_key"], "Accept": "application/json"}

    def get_url_params(self, context: dict | None, next_page_token: t.Any) -> dict[str, t.Any]:
        window: Window = context["_window"]
        return {
            "account_id": self.vendor_config["account_id"],
            "service_id": context["service_id"],
            "start_date": window.first_day.isoformat(),
            "end_date": window.last_day.isoformat(),
        }

    def get_new_paginator(self) -> None:
        return None  # one request per window

    def parse_response(self, response: requests.Response) -> t.Iterator[dict]:
        _, records = self.data_array(response)
        for record in records:
            record["date_time"] = normalize_timestamp(record["date_time"])
            yield record
