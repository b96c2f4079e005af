"""Airgentic Insights API: raw analytics records, one partition per service id."""

from __future__ import annotations

import typing as t
from pathlib import Path

from singer_sdk import SchemaDirectory, StreamSchema

from tap_convai.jsonstream import BodyFormatError, array_items
from tap_convai.timestamps import normalize_timestamp
from tap_convai.transport import body_chunks
from tap_convai.windows import Window, WindowedStream, window_of

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    import requests
    from singer_sdk.helpers.types import Context

SCHEMAS = SchemaDirectory(Path(__file__).parent / "schemas")


class AirgenticRecordsStream(WindowedStream):
    """`GET /api/insights/raw`: every record of one service for one UTC day.

    The API has no paging: a day window is one request, whose body (all of the day's
    records) is parsed as it arrives. Dates are inclusive at both ends and records come
    newest first; they are emitted in that order.
    """

    name = "airgentic_records"
    default_base_url = "https://admin.airgentic.com"
    path = "/api/insights/raw"
    schema = StreamSchema(SCHEMAS)
    primary_keys = ("partition_id", "thread_id", "date_time")
    replication_key = "date_time"
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

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        window = window_of(context)
        return {
            "account_id": self.vendor_config["account_id"],
            "service_id": (context or {})["service_id"],
            "start_date": window.first_day.isoformat(),
            "end_date": window.last_day.isoformat(),
        }

    def get_new_paginator(self) -> None:
        return None  # one request per window

    def window_records(self, context: dict, window: Window) -> Iterator[dict]:
        prepared = self.prepare_request(context, None)

        def open_body() -> requests.Response:
            response = self.requests_session.send(prepared, timeout=self.timeout, stream=True)
            try:
                self.validate_response(response)
            except Exception:
                response.close()
                raise
            return response

        yield from self.streamed_records(f"day {window}", {}, open_body, self.day_records)

    def day_records(self, response: requests.Response) -> Iterator[dict]:
        """The records of one day's body, parsed as it arrives."""
        try:
            for record in array_items(body_chunks(response), "data"):
                if not isinstance(record, dict):
                    raise BodyFormatError("a `data` item is not an object")
                try:
                    record["date_time"] = normalize_timestamp(record["date_time"])
                except (KeyError, TypeError, ValueError, OverflowError, OSError):
                    raise BodyFormatError("a record has no usable `date_time`") from None
                yield record
        except BodyFormatError as exc:
            raise self.malformed(response, str(exc)) from None
