"""Shared HTTP behaviour of every vendor stream, in one place.

- retries of 429 / 5xx / connection errors / timeouts: exponential backoff with jitter,
  honouring `Retry-After` (seconds or HTTP date) up to `max_retry_wait`, `max_retries`;
- client-side pacing: one limiter per vendor endpoint, shared by its partitions;
- what a request may take and bring back (no redirect, deadlines, body bounds): transport.py;
- errors: one line naming vendor, stream, partition, request and the vendor's documented
  meaning of the status; response bodies, query strings and secrets are never echoed.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import random
import threading
import time
import typing as t
from functools import cached_property

import msgspec
import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_convai.drift import DriftReporter
from tap_convai.output import RecordOutputStream
from tap_convai.redaction import one_line, redact
from tap_convai.run import Failure
from tap_convai.transport import (
    PacedSession,
    RequestTimedOut,
    ResponseRefused,
    describe_url,
    redirect_host,
)

if t.TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterator

    from tap_convai.pacing import Pace, RateLimiter

__all__ = ["ConvaiStream", "VendorError", "describe_url"]

MAX_BACKOFF = 60.0
DEFAULT_MAX_RETRY_WAIT = 900.0
#: a failure of a streamed body worth another try of the same request
RETRYABLE = (
    RetriableAPIError,
    ConnectionResetError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


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
    if when.tzinfo is None:  # "-0000": UTC, source unknown (RFC 5322)
        when = when.replace(tzinfo=dt.timezone.utc)
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


def paging_never_ends(response: requests.Response, page: str) -> ResponseRefused:
    """The error of a page after which paging would go on forever (the partition fails:
    `describe_failure` adds vendor, stream and partition)."""
    return ResponseRefused(
        f"malformed response to {response.request.method} {describe_url(response.url)}: "
        f"{page}: paging would never end"
    )


def clip(text: str, limit: int = 200) -> str:
    """A vendor's text as one printable line of at most `limit` characters, its secrets
    masked before it is cut (a secret cut in two would no longer be recognised)."""
    text = one_line(redact(text))
    return text if len(text) <= limit else text[: limit - 1] + "…"


class VendorError(Exception):
    """A failure of one partition, with a one-line message safe to log."""


class RefusedAnswer(FatalAPIError):
    """A 3xx or 4xx answer, which no retry changes; its status travels with the line."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def failure_status(exc: BaseException) -> int | None:
    """The HTTP status of the answer that failed a partition, when an answer did."""
    if isinstance(exc, RefusedAnswer):
        return exc.status
    response = getattr(exc, "response", None)
    return response.status_code if isinstance(response, requests.Response) else None


class RetryAfterTooLong(VendorError):
    """The server asks for a longer wait than `max_retry_wait`: the partition fails now."""


class ConvaiStream(RecordOutputStream):
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
    #: name of the endpoint's rate limiter (shared by all partitions)
    limiter_key: t.ClassVar[str | None] = None
    #: context key and the vendor setting listing the partitions, e.g. service_id(s)
    partition_key: t.ClassVar[str | None] = None
    partition_setting: t.ClassVar[str | None] = None
    #: the vendor's published rate limit (from its descriptor); None: unpaced
    pace: t.ClassVar[Pace | None] = None
    #: never: a vendor credential stays with its host (see transport.py)
    allow_redirects = False

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
    def timeout(self) -> float:  # type: ignore[override]  # the SDK says int; seconds may be fractional
        return float(self.config.get("request_timeout", 300))

    def requests_per_second(self) -> float | None:
        """The client-side pace of this stream's endpoint; None = unpaced."""
        return self.pace.per_second(self.vendor_config) if self.pace else None

    @cached_property
    def limiter(self) -> RateLimiter:
        """The endpoint's limiter, shared by all its partitions and workers: it paces the
        vendors that publish a rate, and holds every request back after a Retry-After."""
        window = self.pace.window if self.pace else 1.0  # the server's counting window
        return self.run.rate_limiter(self.limiter_key or self.name, self.requests_per_second(),
                                     window)

    @property
    def requests_session(self) -> requests.Session:
        session = self.installed_session
        if not isinstance(session, PacedSession):
            session = PacedSession(self.limiter, self.run.in_flight, self.vendor)
            self.install_session(session)
        return session

    # -- retries --------------------------------------------------------------------

    def backoff_max_tries(self) -> int:
        return int(self.config.get("max_retries", 8)) + 1

    def backoff_jitter(self, value: float) -> float:
        return value  # jitter is applied in backoff_wait_generator, not to Retry-After

    def backoff_wait_generator(self) -> Generator[float, t.Any, None]:
        """Waits between tries: `Retry-After` when the server gives one (and the endpoint's
        limiter pauses every worker for it), else `backoff_delay`. A Retry-After above
        `max_retry_wait` (a quota spent for the day) fails the partition at once."""
        initial = float(self.config.get("retry_initial_delay", 1.0))
        longest = float(self.config.get("max_retry_wait", DEFAULT_MAX_RETRY_WAIT))
        attempt = 0
        exc = yield  # type: ignore[misc]  # primed by backoff with the first exception
        while True:
            response = getattr(exc, "response", None)
            delay = retry_after_seconds(response)
            if delay is None or response is None:
                delay = backoff_delay(attempt, initial)
            else:
                if delay > longest:
                    raise RetryAfterTooLong(
                        f"{self.where()}: HTTP {response.status_code} for "
                        f"{response.request.method} {describe_url(response.url)} asks to "
                        f"wait {delay:.0f} s (Retry-After), longer than max_retry_wait "
                        f"({longest:g} s): not retried"
                    )
                self.limiter.pause(delay)
            attempt += 1
            exc = yield delay

    def backoff_handler(self, details: t.Any) -> None:
        exc = details.get("exception")
        response = getattr(exc, "response", None)
        if response is not None:
            reason = f"HTTP {response.status_code}"
        elif isinstance(exc, RequestTimedOut):  # cut off by the whole-request deadline
            reason = "ReadTimeout"
        else:
            reason = type(exc).__name__
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

    def prepare_record(self, record: dict[str, t.Any]) -> dict[str, t.Any]:
        """`DriftReporter` instead of the SDK's generic type conformance (see drift.py)."""
        return self.drift.check(record)

    def record_unwritable(self, exc: Exception) -> None:
        """A record that cannot be written (e.g. nested too deep to serialise) fails its
        partition: noted here, in the writing thread, and raised by `raise_unwritable`
        where the partition's records are taken, after the chunk it came in."""
        self._thread.unwritable = VendorError(
            f"{self.where()}: a record cannot be written ({type(exc).__name__}: "
            f"{clip(str(exc), 120)})"
        )

    def raise_unwritable(self) -> None:
        failure = getattr(self._thread, "unwritable", None)
        if failure is not None:
            self._thread.unwritable = None
            raise failure

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

    def redirect_message(self, response: requests.Response, what: str = "") -> str:
        """A 3xx, which is never followed: where it pointed (host only), and why."""
        request = response.request
        method = request.method if request is not None else self.http_method
        return (
            f"{self.where()}: HTTP {response.status_code} for {method} "
            f"{describe_url(response.url)}{what} redirects to {redirect_host(response)}: "
            "redirects are not followed (a vendor credential stays with its host)"
        )

    def validate_response(self, response: requests.Response) -> None:
        status = response.status_code
        if 300 <= status < 400:
            raise RefusedAnswer(self.redirect_message(response), status)
        if status == 429 or status >= 500:
            raise RetriableAPIError(self.response_error_message(response), response)
        if status >= 400:
            raise RefusedAnswer(self.response_error_message(response), status)

    def malformed(self, response: requests.Response, problem: str) -> VendorError:
        """The error for a response body the tap cannot use."""
        content = response.__dict__.get("_content")  # None while a body is streamed
        size = f" ({len(content)} bytes)" if isinstance(content, bytes) else ""
        return VendorError(
            f"{self.where()}: malformed response to {response.request.method} "
            f"{describe_url(response.url)}{size}: {problem}"
        )

    def decode_json(self, response: requests.Response) -> t.Any:
        """Decode a JSON body; a malformed one is an error naming stream and request."""
        try:
            return json_body(response)
        except msgspec.DecodeError as exc:
            raise self.malformed(response, str(exc)) from None
        except RecursionError:
            raise self.malformed(response, "nested too deep to read") from None

    def streamed_records(
        self,
        key: str,
        progress: dict[str, int],
        open_body: Callable[[], requests.Response],
        parse: Callable[[requests.Response], Iterator[dict]],
    ) -> Iterator[dict]:
        """Records parsed from a body as it arrives (`open_body` sends the request with
        `stream=True` and validates the status).

        A body broken off, or refused with a retryable status, is requested again; its
        first `progress[key]` records were emitted already and are skipped, so the body
        must be the same at every read (an export file; a past day's records, newest
        first: what a re-read finds at its front is new, and read by the next run).
        """
        wait = self.backoff_wait_generator()
        next(wait)
        tries = 0
        while True:
            tries += 1
            skip = progress.get(key, 0)
            if skip:
                self.logger.info(
                    "%s: reading %s again, skipping its %d records already emitted",
                    self.where(), key, skip,
                )
            try:
                with open_body() as response:
                    for index, record in enumerate(parse(response)):
                        if index < skip:
                            continue
                        progress[key] = index + 1
                        yield record
                return
            except RETRYABLE as exc:
                if tries >= self.backoff_max_tries():
                    raise
                delay = wait.send(exc)
                self.backoff_handler({"exception": exc, "tries": tries, "wait": delay})
                time.sleep(delay)

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
        elif isinstance(exc, ResponseRefused):
            text = f"{self.where()}: {exc}"
        elif isinstance(exc, requests.RequestException):
            request = exc.request
            where = (
                f" for {request.method} {describe_url(request.url)}"
                if request is not None and request.url
                else ""
            )
            what = str(exc) if isinstance(exc, RequestTimedOut) else type(exc).__name__
            text = f"{self.where()}: {what}{where}"
        else:
            text = f"{self.where()}: {type(exc).__name__}: {clip(str(exc))}"
        if isinstance(exc, (RetriableAPIError, requests.RequestException)):
            text += f" (gave up after {self.backoff_max_tries()} tries)"
        return text

    def log_failure(self, exc: BaseException) -> None:
        message = self.describe_failure(exc)
        self.logger.error("%s", message)
        self.logger.debug("Failure detail", exc_info=exc)
        self.run.record_failure(Failure(self.name, self.partition_label(self.current_partition),
                                        message, failure_status(exc)))


def quiet_urllib3() -> None:
    """urllib3 logs retried URLs (with query strings) at WARNING: keep it quiet."""
    logging.getLogger("urllib3").setLevel(logging.ERROR)
