"""One fuzz target per response parser: what the tap does with a body (or header) a server
sends. A target may only end in the error the tap reports as a partition's failure; any
other exception is a crash.

Atheris is not imported here: `tests/test_fuzz_regressions.py` runs every target on its
seeds and on every input fuzzing ever crashed it with, in `make test`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import typing as t

import requests

from tap_convai.http import VendorError, retry_after_seconds
from tap_convai.jsonstream import BodyFormatError
from tap_convai.tap import TapConvAI
from tap_convai.transport import ResponseRefused
from tap_convai.windows import Window
from tests.keys import VENDOR_KEYS
from tests.support.config import sandbox_config

#: what a target may raise: a partition's failure, reported in one line
EXPECTED = (VendorError, ResponseRefused, BodyFormatError)
URL = "http://127.0.0.1:9"  # never contacted
DAY = Window(dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc),
             dt.datetime(2026, 10, 2, tzinfo=dt.timezone.utc))


@functools.cache
def _streams() -> dict[str, t.Any]:
    return dict(TapConvAI(config=sandbox_config(URL, vendors=VENDOR_KEYS)).streams)


def _stream(name: str, **partition: str) -> t.Any:
    stream = _streams()[name]
    stream.current_partition = {**partition, "_window": DAY}
    return stream


def answer(data: bytes, *, status: int = 200, streamed: bool = False,
           headers: dict[str, str] | None = None, method: str = "GET") -> requests.Response:
    """A response as the tap's session hands it over: read whole, or still to be read."""
    response = requests.Response()
    response.status_code = status
    response.url = f"{URL}/answer"
    response.request = requests.Request(method, response.url).prepare()
    response.headers.update(headers or {"Content-Type": "application/json"})
    if streamed:
        response.raw = io.BytesIO(data)
    else:
        response._content = data
    return response


def airgentic_day(data: bytes) -> None:
    stream = _stream("airgentic_records", service_id="web")
    for _ in stream.day_records(answer(data, streamed=True)):
        pass


def kore_page(data: bytes) -> None:
    stream = _stream("kore_interactions", stream_id="st")
    response = answer(data)
    for _ in stream.parse_response(response):
        pass
    paginator = stream.get_new_paginator()
    if not paginator.continue_if_empty(response):
        return
    paginator.advance(response)
    paginator.advance(response)  # the same page again brings nothing new


def agentx_page(data: bytes) -> None:
    stream = _stream("agentx_conversations", bot_name="b")
    response = answer(data)
    for _ in stream.parse_response(response):
        pass
    paginator = stream.get_new_paginator()
    if paginator.continue_if_empty(response):
        paginator.advance(response)


def aurion_insights(data: bytes) -> None:
    for _ in _stream("aurion_insights").parse_response(answer(data)):
        pass


def zendesk_signed_urls(data: bytes) -> None:
    _stream("zendesk_ai_conversations", bot_id="b").export_urls(answer(data, method="POST"))


def zendesk_file(data: bytes) -> None:
    stream = _stream("zendesk_ai_conversations", bot_id="b")
    parse = stream.file_parser({"bot_id": "b"}, DAY.first_day)
    for _ in parse(answer(data, streamed=True)):
        pass


def zendesk_file_gzip_encoded(data: bytes) -> None:
    """A file sent with `Content-Encoding: gzip` (decompressed by the tap, bounded)."""
    stream = _stream("zendesk_ai_conversations", bot_id="b")
    parse = stream.file_parser({"bot_id": "b"}, DAY.first_day)
    response = answer(data, streamed=True, headers={"Content-Encoding": "gzip"})
    with contextlib.suppress(requests.exceptions.ContentDecodingError):  # retried
        for _ in parse(response):
            pass


def error_bodies(data: bytes) -> None:
    """The error details read from 4xx bodies (only documented fields, clipped)."""
    for name, status in (("agentx_messages", 404), ("kore_interactions", 401),
                         ("aurion_insights", 422), ("aurion_insights", 403),
                         ("airgentic_records", 403)):
        stream = _stream(name)
        message = stream.response_error_message(answer(data, status=status))
        assert "\n" not in message
    storage = _stream("zendesk_ai_conversations", bot_id="b")
    assert "\n" not in storage.storage_error_message(answer(data, status=403, streamed=True))


def retry_after(data: bytes) -> None:
    value = data.decode("latin-1")
    if "\r" in value or "\n" in value:
        return  # not a header value
    delay = retry_after_seconds(answer(b"", headers={"Retry-After": value}),
                                now=dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc))
    assert delay is None or delay >= 0


TARGETS: dict[str, t.Callable[[bytes], None]] = {
    "airgentic_day": airgentic_day,
    "kore_page": kore_page,
    "agentx_page": agentx_page,
    "aurion_insights": aurion_insights,
    "zendesk_signed_urls": zendesk_signed_urls,
    "zendesk_file": zendesk_file,
    "zendesk_file_gzip_encoded": zendesk_file_gzip_encoded,
    "error_bodies": error_bodies,
    "retry_after": retry_after,
}


def run_one(target: str, data: bytes) -> None:
    """Run `target` on `data`; only a partition's failure may come out of it."""
    with contextlib.suppress(*EXPECTED):
        TARGETS[target](data)
