"""What one HTTP request may take, and what its answer may bring back.

- No redirect is followed: a vendor's credential must stay with its host, and a hop would
  re-enter the session while the first request still holds its slot and limiter turn.
- An API request may wait on the network `request_timeout` seconds in all, from connect to
  last byte (`Deadline`): a stalled or drip-fed answer is cut off (its socket shut down by
  one watchdog thread) and retried. Time the tap spends elsewhere (a worker waiting for the
  byte budget while it streams a body) is not counted. An export-file download bounds only
  each wait for the next bytes (the socket timeout): a large file may take long.
- A body read whole is at most MAX_BODY_BYTES once decoded; a body never inflates more than
  MAX_INFLATION times its size on the wire (past INFLATION_FLOOR).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import typing as t
import zlib
from urllib.parse import urljoin, urlsplit

import requests
import requests.adapters
import urllib3
import urllib3.connection
import urllib3.exceptions
import urllib3.poolmanager

from tap_convai.pacing import InFlight, RateLimiter, count_bytes
from tap_convai.redaction import one_line

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

#: the largest body read whole (pages, signed-URL answers), once decoded
MAX_BODY_BYTES = 64 * 1024 * 1024
#: decoded bytes per byte on the wire beyond which a compressed body is refused
MAX_INFLATION = 200
#: decoded bytes always allowed before the inflation check applies
INFLATION_FLOOR = 16 * 1024 * 1024
#: bytes per read of a body
CHUNK_BYTES = 64 * 1024


def describe_url(url: str | bytes) -> str:
    """A URL as it may appear in logs: scheme, host and path, never the query string.

    Query strings can carry signatures (signed export URLs) or personal data.
    """
    parts = urlsplit(url.decode("utf-8", "replace") if isinstance(url, bytes) else url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


def redirect_host(response: requests.Response) -> str:
    """The host (and port) a 3xx answer points to, never its path or query."""
    location = response.headers.get("Location")
    if not location:
        return "no Location"
    target = urlsplit(urljoin(response.url or "", location))
    host = target.netloc.rpartition("@")[2]
    return one_line(host)[:100] or "no host"


class ResponseRefused(Exception):
    """An answer the tap will not read on: too large, or inflating past reason.

    The message names the request (never its query string) and fits on one line.
    """


class RequestTimedOut(requests.exceptions.ReadTimeout):
    """No complete answer within the whole-request deadline (retried like any timeout)."""


# -- the whole-request deadline --------------------------------------------------------

_waiting = threading.local()  # the deadline of the request this thread waits on


class Deadline:
    """Seconds one request may spend waiting on the network, from connect to last byte.

    Waits are marked with `waiting()`; between them the clock stops. The connections the
    request uses attach themselves while it waits, so the watchdog can shut them down.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._left = seconds
        self._since: float | None = None
        self._lock = threading.Lock()
        self._connections: list[urllib3.connection.HTTPConnection] = []

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        with self._lock:
            self._since = time.monotonic()
            due = self._since + self._left
        previous = getattr(_waiting, "deadline", None)
        _waiting.deadline = self
        WATCHDOG.watch(self, due)
        try:
            yield
        finally:
            WATCHDOG.unwatch(self)
            _waiting.deadline = previous
            with self._lock:
                self._left -= time.monotonic() - (self._since or 0.0)
                self._since = None

    def attach(self, connection: urllib3.connection.HTTPConnection) -> None:
        with self._lock:
            if connection not in self._connections:
                self._connections.append(connection)

    def expire(self) -> None:
        """The watchdog's call: end the wait under way by shutting its sockets down."""
        with self._lock:
            if self._since is None or time.monotonic() < self._since + self._left:
                return  # the wait ended (or is a later one) in the meantime
            self.expired = True
            connections = list(self._connections)
        for connection in connections:
            sock = getattr(connection, "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    # the plain socket's shutdown, also under TLS: the reader then fails
                    # with an error instead of finding its SSL object gone
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def timed_out(self, request: requests.PreparedRequest | None) -> RequestTimedOut:
        return RequestTimedOut(
            f"no complete answer within {self.seconds:g} s (request_timeout)", request=request
        )


class _Watchdog:
    """One daemon thread that expires the deadlines whose time is up."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._due: dict[Deadline, float] = {}
        self._thread: threading.Thread | None = None

    def watch(self, deadline: Deadline, due: float) -> None:
        with self._cond:
            self._due[deadline] = due
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="deadlines", daemon=True)
                self._thread.start()
            self._cond.notify()

    def unwatch(self, deadline: Deadline) -> None:
        with self._cond:
            self._due.pop(deadline, None)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._due:
                    self._cond.wait()
                deadline, due = min(self._due.items(), key=lambda item: item[1])
                left = due - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                del self._due[deadline]
            deadline.expire()


WATCHDOG = _Watchdog()


def _attach(connection: urllib3.connection.HTTPConnection) -> None:
    deadline = getattr(_waiting, "deadline", None)
    if deadline is not None:
        deadline.attach(connection)


class _WatchedHTTPConnection(urllib3.connection.HTTPConnection):
    def connect(self) -> None:
        _attach(self)
        super().connect()

    def request(self, *args: t.Any, **kwargs: t.Any) -> None:
        _attach(self)
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(urllib3.connection.HTTPSConnection):
    def connect(self) -> None:
        _attach(self)
        super().connect()

    def request(self, *args: t.Any, **kwargs: t.Any) -> None:
        _attach(self)
        super().request(*args, **kwargs)


class _WatchedHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class WatchedAdapter(requests.adapters.HTTPAdapter):
    """An adapter whose connections attach to the deadline of the request they carry."""

    def init_poolmanager(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_WATCHED_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: t.Any) -> t.Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if type(manager) is urllib3.poolmanager.ProxyManager:
            manager.pool_classes_by_scheme = dict(_WATCHED_POOLS)
        return manager


# -- bodies -----------------------------------------------------------------------------

_DEADLINE = "_convai_deadline"
#: the encodings the sessions ask for (Accept-Encoding), and their zlib window bits
ENCODINGS = {"gzip": 31, "x-gzip": 31, "deflate": 15}
GZIP = 31


class Inflates(Exception):
    """Compressed data that inflates more than MAX_INFLATION times its size."""


def inflate(chunks: Iterable[bytes], wbits: int = GZIP) -> Iterator[bytes]:
    """Decompress zlib or gzip data (gzip members one after another) at most CHUNK_BYTES
    per step, so a small body cannot fill the memory. Raises `Inflates` past
    MAX_INFLATION, `zlib.error` on data that is not what `wbits` says."""
    decompressor = zlib.decompressobj(wbits=wbits)
    started = False  # bytes of the current member were read
    wire = out = 0
    for chunk in chunks:
        wire += len(chunk)
        pending = chunk
        while pending or started:
            started = True
            piece = decompressor.decompress(pending, CHUNK_BYTES)
            out += len(piece)
            if out > INFLATION_FLOOR and out > MAX_INFLATION * wire:
                raise Inflates(f"inflates more than {MAX_INFLATION} times its compressed size")
            if piece:
                yield piece
            if decompressor.eof:  # another member may follow (zeros may pad the end)
                pending = decompressor.unused_data.lstrip(b"\x00")
                decompressor = zlib.decompressobj(wbits=wbits)
                started = False
                continue
            pending = decompressor.unconsumed_tail
            if not pending and len(piece) < CHUNK_BYTES:
                break  # this chunk is used up: the next one goes on
    if started:
        raise zlib.error("the compressed data ends before its end")


def body_chunks(response: requests.Response, size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """The decoded body of `response` as it arrives, counted for the byte budget: each
    wait for bytes under the request's deadline (if it has one), decompressed here in
    bounded steps (a body that inflates past MAX_INFLATION is refused)."""
    encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
    chunks = _wire_chunks(response, size)
    if encoding in ENCODINGS:
        chunks = _decoded(response, inflate(chunks, ENCODINGS[encoding]))
    elif encoding != "identity":
        response.close()
        raise ResponseRefused(
            f"the answer to {_request_line(response)} is encoded as {one_line(encoding)[:40]}, "
            "which the tap did not ask for"
        )
    for chunk in chunks:
        count_bytes(len(chunk))
        yield chunk


def _wire_chunks(response: requests.Response, size: int) -> Iterator[bytes]:
    """The body as sent (still compressed), each wait under the request's deadline;
    urllib3's errors as requests' (as `iter_content` raises them)."""
    deadline: Deadline | None = response.__dict__.get(_DEADLINE)
    raw = response.raw
    chunks: Iterator[bytes]
    if isinstance(raw, urllib3.HTTPResponse):
        chunks = raw.stream(size, decode_content=False)
    else:  # a file-like body (tests, fuzzing)
        chunks = iter(lambda: raw.read(size), b"")
    while True:
        try:
            with deadline.waiting() if deadline else contextlib.nullcontext():
                chunk = next(chunks, None)
        except Exception as exc:
            if deadline is not None and deadline.expired:
                raise deadline.timed_out(response.request) from None
            raise _as_requests_error(exc, response) from exc
        if chunk is None:
            response._content_consumed = True
            return
        if chunk:
            yield chunk


def _decoded(response: requests.Response, chunks: Iterator[bytes]) -> Iterator[bytes]:
    try:
        yield from chunks
    except Inflates as exc:
        response.close()
        raise ResponseRefused(f"the answer to {_request_line(response)} {exc}") from None
    except zlib.error as exc:
        raise requests.exceptions.ContentDecodingError(
            f"not valid {response.headers.get('Content-Encoding')} data ({exc})",
            request=response.request,
        ) from None


def _as_requests_error(exc: Exception, response: requests.Response) -> Exception:
    request = response.request
    if isinstance(exc, urllib3.exceptions.SSLError):
        return requests.exceptions.SSLError(exc, request=request)
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError):
        return requests.exceptions.ConnectionError(exc, request=request)
    if isinstance(exc, (urllib3.exceptions.ProtocolError, OSError)):
        return requests.exceptions.ChunkedEncodingError(exc, request=request)
    return exc


def read_whole(response: requests.Response, limit: int = MAX_BODY_BYTES) -> None:
    """Read the body into `response.content`, refusing one larger than `limit` bytes."""
    parts: list[bytes] = []
    size = 0
    for chunk in body_chunks(response):
        size += len(chunk)
        if size > limit:
            response.close()
            raise ResponseRefused(
                f"the answer to {_request_line(response)} is larger than "
                f"{limit // (1024 * 1024)} MiB once decoded"
            )
        parts.append(chunk)
    response._content = b"".join(parts)
    response._content_consumed = True


def _request_line(response: requests.Response) -> str:
    request = response.request
    method = request.method if request is not None else "GET"
    return f"{method} {describe_url(response.url or '')}"


# -- the session ------------------------------------------------------------------------


class PacedSession(requests.Session):
    """A requests session whose every send (retries included) takes a turn of its
    endpoint's limiter, then one of the run's in-flight slots (in that order: a request
    waiting for its vendor's pace holds no slot), never follows a redirect, and holds
    both only while its request can still finish.

    `whole_request`: `timeout` bounds the whole request (API requests); otherwise only
    each wait for bytes (export-file downloads).
    """

    def __init__(
        self, limiter: RateLimiter | None, in_flight: InFlight, vendor: str, *,
        whole_request: bool = True,
    ) -> None:
        super().__init__()
        self.limiter = limiter
        self.in_flight = in_flight
        self.vendor = vendor
        self.whole_request = whole_request
        self.headers["Accept-Encoding"] = ", ".join(name for name in ENCODINGS if "-" not in name)
        adapter = WatchedAdapter(pool_maxsize=max(10, in_flight.limit))
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def send(self, request: requests.PreparedRequest, **kwargs: t.Any) -> requests.Response:
        stream = kwargs.pop("stream", False)
        kwargs["allow_redirects"] = False  # whatever the caller (or the SDK) asked
        timeout = kwargs.get("timeout")
        deadline = (
            Deadline(float(timeout))
            if self.whole_request and isinstance(timeout, (int, float))
            else None
        )
        pace = self.limiter.slot() if self.limiter else contextlib.nullcontext()
        with pace, self.in_flight(self.vendor):
            try:
                with deadline.waiting() if deadline else contextlib.nullcontext():
                    response = super().send(request, stream=True, **kwargs)
            except requests.RequestException:
                if deadline is not None and deadline.expired:
                    raise deadline.timed_out(request) from None
                raise
            response.__dict__[_DEADLINE] = deadline
            if not stream:
                read_whole(response)
        return response
