"""Shared HTTP behaviour of every vendor stream, in one place.

- retries of 429 / 5xx / connection errors / timeouts: exponential backoff with jitter,
  honouring `Retry-After` (seconds or HTTP date), `max_retries` from config;
- client-side pacing: one limiter per vendor endpoint, shared by its partitions;
- errors: one line naming vendor, stream, partition, request and the vendor's documented
  meaning of the status; response bodies, query strings and secrets are never echoed.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import random
import threading
import typing as t
from functools import cached_property
from urllib.parse import urlsplit

import msgspec
import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform

from tap_convai.drift import DriftReporter
from tap_convai.output import StateFlushingWriter
from tap_convai.pacing import PacedSession
from tap_convai.sdk import SeamStream

if t.TYPE_CHECKING:
    from collections.abc import Generator

    from tap_convai.pacing import RateLimiter

MAX_RETRY_AFTER = 900.0  # a Retry-After longer than this is capped (and logged)
MAX_BACKOFF = 60.0


def describe_url(url: str) -> str:
    """A URL as it may appear in logs: scheme, host and path, never the query string.

    Query strings can carry signatures (signed export URLs) or personal data.
    """
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def retry_after_seconds(
    response: requests.Response | None, now: dt.datetime | None = None
) -> float | None:
    """Seconds the server asked us to wait, from `Retry-After` (seconds or HTTP date)."""
    if response is None:
        return None
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    now = now or dt.datetime.now(dt.timezone.utc)
    return max(0.0, (when - now).total_seconds())


def backoff_delay(attempt: int, initial: float, rng: random.Random | None = None) -> float:
    """The wait before retry `attempt` (0-based) without a Retry-After: exponential from
    `initial`, capped at MAX_BACKOFF, with equal jitter (in [ceiling/2, ceiling])."""
    ceiling = min(MAX_BACKOFF, initial * 2**attempt)
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


MAX_ERROR_BODY = 8192  # larger error bodies are never read for a detail


def json_body(response: requests.Response) -> t.Any:
    """The response's JSON body, decoded once: records and paginators both need it."""
    body = response.__dict__.get("_convai_json", _NOT_DECODED)
    if body is _NOT_DECODED:
        body = msgspec.json.decode(response.content)
        response._convai_json = body  # type: ignore[attr-defined]
    return body


_NOT_DECODED = object()


def error_json(response: requests.Response) -> t.Any:
    """A small error body as JSON, None when it is large or not JSON: error bodies are
    only read for a documented field, never echoed."""
    if len(response.content) > MAX_ERROR_BODY:
        return None
    try:
        return json_body(response)
    except msgspec.DecodeError:
        return None


def clip(text: str, limit: int = 200) -> str:
    """A vendor's text as one printable line of at most `limit` characters."""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class VendorError(Exception):
    """A failure of one partition, with a one-line message safe to log."""


class ConvaiStream(SeamStream):
    """Base class of every tap-convai stream: the vendor's block of config, HTTP policy."""

    #: records come from JSON and are JSON types already; drift.py reports what the
    #: schema lacks instead of the SDK's per-value conformance (2x the speed)
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    #: key of the vendor's settings block, e.g. "airgentic"
    vendor: t.ClassVar[str]
    #: human name of the vendor for messages
    vendor_title: t.ClassVar[str]
    default_base_url: t.ClassVar[str | None] = None
    #: HTTP status -> the vendor's documented meaning, used in error messages
    error_meanings: t.ClassVar[dict[int, str]] = {}
    #: name of the endpoint's rate limiter (shared by all partitions), and its rate
    limiter_key: t.ClassVar[str | None] = None
    #: the server's counting window in seconds: at most rate x window requests in any one
    limiter_window: t.ClassVar[float] = 1.0

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        self._thread = threading.local()  # windows are fetched in worker threads
        super().__init__(*args, **kwargs)

    @property
    def current_partition(self) -> dict[str, t.Any] | None:
        """The partition (plus window) this thread works on, for messages."""
        return getattr(self._thread, "partition", None)

    @current_partition.setter
    def current_partition(self, value: dict[str, t.Any] | None) -> None:
        self._thread.partition = value

    # -- config ---------------------------------------------------------------------

    @property
    def vendor_config(self) -> dict[str, t.Any]:
        return self.config.get(self.vendor) or {}

    @property
    def url_base(self) -> str:
        return (self.vendor_config.get("base_url") or self.default_base_url or "").rstrip("/")

    @property
    def timeout(self) -> float:
        return float(self.config.get("request_timeout", 300))

    def requests_per_second(self) -> float | None:
        """The client-side pace of this stream's endpoint; None = unpaced."""
        return None

    @cached_property
    def limiter(self) -> RateLimiter:
        """The endpoint's limiter, shared by all its partitions and workers: it paces the
        vendors that publish a rate, and holds every request back after a Retry-After."""
        return self.tap.rate_limiter(
            self.limiter_key or self.name, self.requests_per_second(), self.limiter_window
        )

    @property
    def requests_session(self) -> requests.Session:
        session = self.installed_session
        if not isinstance(session, PacedSession):
            session = PacedSession(self.limiter, self.tap.in_flight, self.vendor)
            self.install_session(session)
        return session

    # -- retries --------------------------------------------------------------------

    def backoff_max_tries(self) -> int:
        return int(self.config.get("max_retries", 8)) + 1

    def backoff_jitter(self, value: float) -> float:
        return value  # jitter is applied in backoff_wait_generator, not to Retry-After

    def backoff_wait_generator(self) -> Generator[float, t.Any, None]:
        """Waits between tries: `Retry-After` when the server gives one (and the endpoint's
        limiter pauses every worker for it), else `backoff_delay`."""
        initial = float(self.config.get("retry_initial_delay", 1.0))
        attempt = 0
        exc = yield  # type: ignore[misc]  # primed by backoff with the first exception
        while True:
            delay = retry_after_seconds(getattr(exc, "response", None))
            if delay is None:
                delay = backoff_delay(attempt, initial)
            else:
                if delay > MAX_RETRY_AFTER:
                    self.logger.warning(
                        "%s: Retry-After of %.0f s capped to %.0f s", self.name, delay,
                        MAX_RETRY_AFTER,
                    )
                    delay = MAX_RETRY_AFTER
                self.limiter.pause(delay)
            attempt += 1
            exc = yield delay

    def backoff_handler(self, details: t.Any) -> None:
        exc = details.get("exception")
        response = getattr(exc, "response", None)
        reason = f"HTTP {response.status_code}" if response is not None else type(exc).__name__
        self.logger.warning(
            "%s %s: %s, retry %d of %d in %.1f s",
            self.name,
            self.partition_label(self.current_partition),
            reason,
            details.get("tries", 0),
            self.backoff_max_tries() - 1,
            details.get("wait", 0.0),
        )

    # -- records ----------------------------------------------------------------------

    @cached_property
    def drift(self) -> DriftReporter:
        return DriftReporter(self.name, self.schema, self.logger)

    @cached_property
    def _everything_selected(self) -> bool:
        return all(self.mask.values())

    def prepare_record(self, record: dict[str, t.Any]) -> dict[str, t.Any]:
        """`DriftReporter` instead of the SDK's generic type conformance (see drift.py)."""
        return self.drift.check(record)

    @cached_property
    def _plain_output(self) -> bool:
        """Records go out as they are: one stream map, no map config, no flattening."""
        maps = self.stream_maps
        return (
            len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and maps[0].stream_alias == self.name
            and not maps[0].flattening_enabled
            and isinstance(self.tap.message_writer, StateFlushingWriter)
        )

    def write_record_directly(self, record: dict[str, t.Any]) -> bool:
        """Without stream maps or flattening (the usual case), the record is serialised
        straight from its parts; otherwise the SDK's message path runs."""
        if not self._plain_output:
            return False
        if not self._everything_selected:
            self.drop_deselected(record)
        self.tap.message_writer.write_record(self.name, record, self.stream_version)
        self.mark_state_unflushed()
        return True

    # -- errors ---------------------------------------------------------------------

    def partition_label(self, context: t.Mapping[str, t.Any] | None) -> str:
        shown = {k: v for k, v in (context or {}).items() if not k.startswith("_")}
        if not shown:
            return "[all]"
        return "[" + ", ".join(f"{k}={v}" for k, v in shown.items()) + "]"

    def where(self) -> str:
        """Vendor, stream and partition (with window) of the work under way."""
        return f"{self.vendor_title}: {self.name} {self.partition_label(self.current_partition)}"

    def error_detail(self, response: requests.Response) -> str | None:
        """A safe, short detail from an error body (override per vendor); None = none."""
        return None

    def response_error_message(self, response: requests.Response) -> str:
        meaning = self.error_meanings.get(response.status_code) or response.reason or ""
        detail = self.error_detail(response)
        if detail:
            meaning = f"{meaning} ({detail})" if meaning else detail
        request = response.request
        method = request.method if request is not None else self.http_method
        return (
            f"{self.where()}: "
            f"HTTP {response.status_code} for {method} {describe_url(response.url)}"
            + (f": {meaning}" if meaning else "")
        )

    def validate_response(self, response: requests.Response) -> None:
        status = response.status_code
        if status == 429 or status >= 500:
            raise RetriableAPIError(self.response_error_message(response), response)
        if status >= 400:
            raise FatalAPIError(self.response_error_message(response))

    def malformed(self, response: requests.Response, problem: str) -> VendorError:
        """The error for a response body the tap cannot use."""
        return VendorError(
            f"{self.where()}: malformed response to {response.request.method} "
            f"{describe_url(response.url)} ({len(response.content)} bytes): {problem}"
        )

    def decode_json(self, response: requests.Response) -> t.Any:
        """Decode a JSON body; a malformed one is an error naming stream and request."""
        try:
            return json_body(response)
        except msgspec.DecodeError as exc:
            raise self.malformed(response, str(exc)) from None

    def data_array(self, response: requests.Response, key: str = "data") -> tuple[dict, list]:
        """The body (an object) and its list of records under `key`."""
        body = self.decode_json(response)
        records = body.get(key) if isinstance(body, dict) else None
        if not isinstance(records, list):
            raise self.malformed(response, f"no `{key}` array")
        return body, records

    def describe_failure(self, exc: BaseException) -> str:
        """One line for a partition that failed; never a body, query string or secret."""
        if isinstance(exc, (FatalAPIError, RetriableAPIError, VendorError)):
            text = str(exc)
        elif isinstance(exc, requests.RequestException):
            request = exc.request
            where = (
                f" for {request.method} {describe_url(request.url)}"
                if request is not None and request.url
                else ""
            )
            text = (
                f"{self.where()}: "
                f"{type(exc).__name__}{where}"
            )
        else:
            text = (
                f"{self.where()}: "
                f"{type(exc).__name__}: {exc}"
            )
        if isinstance(exc, (RetriableAPIError, requests.RequestException)):
            text += f" (gave up after {self.backoff_max_tries()} tries)"
        return text

    def log_failure(self, exc: BaseException) -> None:
        message = self.describe_failure(exc)
        self.logger.error("%s", message)
        self.logger.debug("Failure detail", exc_info=exc)
        self.tap.record_failure(message)


def quiet_urllib3() -> None:
    """urllib3 logs retried URLs (with query strings) at WARNING: keep it quiet."""
    logging.getLogger("urllib3").setLevel(logging.ERROR)
