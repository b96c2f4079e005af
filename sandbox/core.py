"""Sandbox framework: one threaded HTTP server routing requests to vendor emulators.

See docs/sandbox-spec.md. Standard library only.
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import importlib
import json
import os
import random
import re
import socket
import sys
import threading
import time
import traceback
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

UTC = timezone.utc
ONE_DAY = timedelta(days=1)

# --------------------------------------------------------------------------------------------
# Requests and responses
# --------------------------------------------------------------------------------------------


@dataclass
class Request:
    """One HTTP request as a vendor handler sees it."""

    method: str
    path: str  # percent-decoded path, no query string
    query: dict[str, str]  # first value per key
    headers: Any  # case-insensitive mapping (http.client.HTTPMessage): headers.get("api-key")
    body: bytes
    match: re.Match | None  # the route pattern's fullmatch on path
    target: str = ""  # the raw request target (path?query) as received
    query_all: dict[str, list[str]] = field(default_factory=dict)  # every value per key

    def json(self) -> Any:
        """The body parsed as JSON (None when empty); raises ValueError when malformed."""
        if not self.body:
            return None
        return json.loads(self.body)


@dataclass
class Response:
    """A handler's answer. An iterable body is sent with Transfer-Encoding: chunked."""

    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response (compact, UTF-8)."""
    body = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    all_headers = {"Content-Type": "application/json"}
    all_headers.update(headers or {})
    return Response(status, body, all_headers)


def status_response(
    status: int, text: str = "", headers: dict[str, str] | None = None
) -> Response:
    """An error answer whose body is no more than the vendor's docs show: empty where they
    show none, or a bare phrase as plain text (Zendesk AI: `401 | Unauthorized`)."""
    all_headers = {"Content-Type": "text/plain; charset=utf-8"} if text else {}
    all_headers.update(headers or {})
    return Response(status, text.encode("utf-8"), all_headers)


@dataclass
class Route:
    method: str
    pattern: str  # regex, fullmatch on the percent-decoded path
    handler: Callable[[Request], Response]
    endpoint: str  # stats label, e.g. "agentx.conversations"


# --------------------------------------------------------------------------------------------
# Time helpers shared by the vendor modules
# --------------------------------------------------------------------------------------------


def to_utc(value: Any) -> datetime:
    """A date, datetime, Unix number or ISO string (date or date-time) as an aware UTC datetime.

    Naive values are taken as UTC; a date means its midnight UTC.
    """
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return to_utc(date.fromisoformat(text))
        if text.endswith(("z", "Z")):
            text = text[:-1] + "+00:00"
        return to_utc(datetime.fromisoformat(text))
    raise TypeError(f"cannot read a time from {value!r}")


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def days_overlapping(start: datetime, end: datetime) -> list[date]:
    """The UTC days whose [00:00, 24:00) intersects [start, end), oldest first."""
    if end <= start:
        return []
    first = start.date()
    last = (end - timedelta(microseconds=1)).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def rng_uuid(rng: random.Random) -> str:
    """A version-4 UUID string drawn from rng (deterministic)."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"


def rng_hex32(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def rng_hex(rng: random.Random, n: int = 24) -> str:
    """n hex digits drawn from rng (Mongo-style ids are 24)."""
    return f"{rng.getrandbits(4 * n):0{n}x}"


def rng_between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A millisecond instant in [start, end] drawn from rng."""
    span_ms = max(0, int((end - start).total_seconds() * 1000))
    return start + timedelta(milliseconds=rng.randint(0, span_ms))


def http_date(seconds_ahead: float = 0.0) -> str:
    return email.utils.formatdate(time.time() + seconds_ahead, usegmt=True)


def encode_cursor(obj: Any) -> str:
    """An opaque cursor: urlsafe base64 of compact JSON, unpadded."""
    raw = json.dumps(obj, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    """The value of encode_cursor(); raises ValueError on anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return json.loads(raw)
    except Exception as exc:  # binascii.Error, UnicodeDecodeError, JSONDecodeError
        raise ValueError(f"bad cursor {cursor!r}") from exc


class DayCache:
    """Thread-safe LRU of generated values (e.g. one partition-day), bounded by total size.

    Generation is deterministic, so two threads racing on one key just compute it twice.
    """

    def __init__(self, max_size: int = 300_000) -> None:
        self.max_size = max_size
        self._data: OrderedDict[Any, tuple[int, Any]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: Any, factory: Callable[[], Any], size: Callable[[Any], int] = len) -> Any:
        with self._lock:
            hit = self._data.get(key)
            if hit is not None:
                self._data.move_to_end(key)
                return hit[1]
        value = factory()
        n = max(1, size(value))
        with self._lock:
            if key not in self._data:
                self._data[key] = (n, value)
                self._size += n
                while self._size > self.max_size and len(self._data) > 1:
                    _, (old_n, _) = self._data.popitem(last=False)
                    self._size -= old_n
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._size = 0


# --------------------------------------------------------------------------------------------
# Vendor emulators
# --------------------------------------------------------------------------------------------


class VendorEmulator:
    """Base class of one vendor's emulator (routes, deterministic data, truth)."""

    name: str = ""
    streams: tuple[str, ...] = ()  # the tap stream names this vendor owns

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def routes(self) -> list[Route]:
        return []

    @property
    def options(self) -> dict[str, Any]:
        return self.sandbox.options

    @property
    def per_day(self) -> int:
        """Records per partition per day; option `<vendor>_per_day` overrides the global one."""
        return int(self.sandbox.options.get(f"{self.name}_per_day", self.sandbox.per_day))

    def now(self) -> datetime:
        return self.sandbox.now()

    def rng(self, partition: str, day: date | str) -> random.Random:
        """The generator of (vendor, partition, UTC day): same inputs, same records."""
        day_text = day.isoformat() if isinstance(day, date) else str(day)
        return random.Random(f"{self.sandbox.seed}:{self.name}:{partition}:{day_text}")

    def day_count(self, rng: random.Random) -> int:
        """How many records a partition has on a day: usually in [per_day//2, per_day*3//2],
        zero on about one day in twelve (so empty windows occur)."""
        per_day = self.per_day
        if per_day <= 0 or rng.random() < 1 / 12:
            return 0
        return rng.randint(per_day // 2, per_day * 3 // 2)

    def truth(self, stream: str, start: Any, end: Any, **partition: Any) -> list[dict]:
        raise NotImplementedError(f"{self.name} has no truth for {stream!r}")

    def truth_keys(self, stream: str, start: Any, end: Any, **partition: Any) -> set[tuple]:
        raise NotImplementedError(f"{self.name} has no truth keys for {stream!r}")


_PACKAGE = __name__.rpartition(".")[0] or "sandbox"


def load_vendors() -> tuple[list[type[VendorEmulator]], dict[str, str]]:
    """The emulator of each vendor of the tap's registry (module sandbox/<key>.py, in
    the registry's order), and {vendor: why missing} for absent ones.

    Imported lazily, so the vendor modules can import this one.
    """
    from tap_convai.tap import VENDORS as TAP_VENDORS

    classes: list[type[VendorEmulator]] = []
    missing: dict[str, str] = {}
    for vendor in TAP_VENDORS:
        full = f"{_PACKAGE}.{vendor.key}"
        try:
            module = importlib.import_module(full)
        except ModuleNotFoundError as exc:
            if exc.name != full:
                raise
            missing[vendor.key] = f"module {full} does not exist (sandbox/{vendor.key}.py)"
            continue
        classes.append(next(
            value for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, VendorEmulator)
            and getattr(value, "name", None) == vendor.key
        ))
    return classes, missing


def stream_vendors() -> dict[str, str]:
    """Each stream of the tap's registry and its vendor."""
    from tap_convai.tap import VENDORS as TAP_VENDORS

    return {stream.name: vendor.key for vendor in TAP_VENDORS for stream in vendor.streams}


def __getattr__(name: str) -> Any:  # module attribute VENDORS, resolved lazily
    if name == "VENDORS":
        return load_vendors()[0]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------------

FAULT_KINDS = ("status", "drop", "cut", "latency", "malformed")
MALFORMED_BODY = b'{"data": [ {"broken"'


@dataclass
class FaultRule:
    vendor: str = "*"  # vendor name of the route, or "*"
    kind: str = "status"  # status | drop | cut | latency | malformed
    status: int = 503  # for kind "status"
    count: int | None = 1  # matching requests it fires for; None = forever
    path: str | None = None  # substring of the raw request target (path?query)
    retry_after: str | None = None  # "2" -> Retry-After: 2; "http-date:2" -> HTTP-date 2 s ahead
    seconds: float | None = None  # for kind "latency"
    body: Any = None  # for kind "status": JSON body instead of {"error": ...}
    fired: int = 0

    def matches(self, vendor: str, target: str) -> bool:
        if self.vendor not in ("*", vendor):
            return False
        return self.path is None or self.path in target

    def retry_after_header(self) -> str | None:
        if self.retry_after is None:
            return None
        if self.retry_after.startswith("http-date:"):
            return http_date(float(self.retry_after.split(":", 1)[1]))
        return self.retry_after

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class FaultList:
    """Fault rules applied before vendor handlers, first match wins, spent after `count`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def add(
        self,
        vendor: str = "*",
        kind: str = "status",
        status: int = 503,
        count: int | None = 1,
        path: str | None = None,
        retry_after: str | int | float | None = None,
        seconds: float | None = None,
        body: Any = None,
    ) -> FaultRule:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(FAULT_KINDS)}")
        if kind == "latency" and seconds is None:
            raise ValueError("a latency fault needs seconds")
        if count is not None and int(count) < 1:
            raise ValueError("count must be >= 1 (or None for forever)")
        if retry_after is not None and not isinstance(retry_after, str):
            retry_after = f"{retry_after:g}" if isinstance(retry_after, float) else str(retry_after)
        rule = FaultRule(
            vendor=vendor,
            kind=kind,
            status=int(status),
            count=None if count is None else int(count),
            path=path,
            retry_after=retry_after,
            seconds=None if seconds is None else float(seconds),
            body=body,
        )
        with self._lock:
            self._rules.append(rule)
        return rule

    def extend(self, rules: Iterable[dict[str, Any]]) -> list[FaultRule]:
        return [self.add(**rule) for rule in rules]

    def clear(self) -> int:
        with self._lock:
            n = len(self._rules)
            self._rules.clear()
            return n

    def take(self, vendor: str, target: str) -> FaultRule | None:
        """The first live rule matching this request (its count is consumed), or None."""
        with self._lock:
            for i, rule in enumerate(self._rules):
                if rule.matches(vendor, target):
                    rule.fired += 1
                    if rule.count is not None and rule.fired >= rule.count:
                        del self._rules[i]
                    return rule
        return None

    @property
    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def __len__(self) -> int:
        with self._lock:
            return len(self._rules)

    def __iter__(self) -> Iterator[FaultRule]:
        return iter(self.rules)


# --------------------------------------------------------------------------------------------
# Stats
# --------------------------------------------------------------------------------------------

UNROUTED = "sandbox.unrouted"


class InFlightGauge:
    """Requests being handled at once, and the most so far (a client's concurrency as the
    server sees it).

    `enter(hold=N)` holds the first requests until N are in flight together (or 10 s
    passed), once: a test proves N requests overlap without depending on timing.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.now = 0
        self.peak = 0
        self.gathered = False  # the hold was met: N requests were in flight together
        self._released = False

    def enter(self, hold: int = 0, timeout: float = 10.0) -> None:
        with self._cond:
            self.now += 1
            self.peak = max(self.peak, self.now)
            self._cond.notify_all()
            if hold and not self._released:
                met = self._cond.wait_for(lambda: self.now >= hold or self._released, timeout)
                if not self._released:
                    self.gathered = bool(met) and self.now >= hold
                self._released = True
                self._cond.notify_all()

    def exit(self) -> None:
        with self._cond:
            self.now -= 1

    def reset(self) -> None:
        with self._cond:
            self.peak = self.now
            self.gathered = self._released = False


class Stats:
    """Per endpoint: requests, statuses ({code: n}; "drop" for dropped connections), refused
    (429 answers), times (time.monotonic() of each arrival) and faults ({kind: n})."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, dict[str, Any]] = {}

    def _entry(self, endpoint: str) -> dict[str, Any]:
        entry = self._data.get(endpoint)
        if entry is None:
            entry = {"requests": 0, "statuses": {}, "refused": 0, "times": [], "faults": {}}
            self._data[endpoint] = entry
        return entry

    def arrival(self, endpoint: str) -> None:
        with self._lock:
            entry = self._entry(endpoint)
            entry["requests"] += 1
            entry["times"].append(time.monotonic())

    def status(self, endpoint: str, status: int | str) -> None:
        with self._lock:
            entry = self._entry(endpoint)
            entry["statuses"][status] = entry["statuses"].get(status, 0) + 1
            if status == 429:
                entry["refused"] += 1

    def fault(self, endpoint: str, kind: str) -> None:
        with self._lock:
            faults = self._entry(endpoint)["faults"]
            faults[kind] = faults.get(kind, 0) + 1

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {
                name: {
                    "requests": e["requests"],
                    "statuses": dict(e["statuses"]),
                    "refused": e["refused"],
                    "times": list(e["times"]),
                    "faults": dict(e["faults"]),
                }
                for name, e in self._data.items()
            }

    def reset(self) -> None:
        with self._lock:
            self._data.clear()


class RateLimiter:
    """Sliding-window limiter: at most `limit` admitted requests per key in any `window` s.

    Refused requests do not count toward the window.
    """

    def __init__(self, window: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self.clock = clock  # tests of the limiter itself fix it
        self._lock = threading.Lock()
        self._hits: dict[Any, deque[float]] = {}

    def admit(self, key: Any, limit: int) -> bool:
        now = self.clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= limit:
                return False
            hits.append(now)
            return True


# --------------------------------------------------------------------------------------------
# HTTP server
# --------------------------------------------------------------------------------------------

_DISCONNECTS = (ConnectionError, TimeoutError)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128
    sandbox: Sandbox

    def __init__(self, address: tuple[str, int], sandbox: Sandbox, foreign: Any = None) -> None:
        self.sandbox = sandbox
        self.foreign = foreign  # the hostile module's foreign listener (records requests)
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], _DISCONNECTS):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        with self.connections_lock:
            conns = list(self.connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "convai-sandbox/1.0"
    sys_version = ""
    timeout = 120  # idle keep-alive connections are closed after this
    server: _Server

    def setup(self) -> None:
        super().setup()
        # headers and body go out in separate writes: without NODELAY, Nagle + delayed ACK
        # add ~40 ms to every response
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(_DISCONNECTS):
            super().finish()

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.sandbox.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    # -- dispatch ---------------------------------------------------------------------------

    def _dispatch(self) -> None:
        sb = self.server.sandbox
        self._counted = not self.path.startswith("/_sandbox")
        if self._counted:
            sb.in_flight.enter(int(sb.options.get("hold_until_in_flight") or 0))
        try:
            self._handle(sb)
        except _DISCONNECTS:
            self.close_connection = True
        except Exception as exc:  # a sandbox bug outside a vendor handler
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            with contextlib.suppress(Exception):
                self._send(json_response({"error": f"sandbox error: {exc!r}"}, 500))
        finally:
            self._answered()

    def _answered(self) -> None:
        """The request leaves the in-flight count as its answer starts (once): the client
        cannot send its next request before, so the count never exceeds the client's."""
        if getattr(self, "_counted", False):
            self._counted = False
            self.server.sandbox.in_flight.exit()

    def _handle(self, sb: Sandbox) -> None:
        method = self.command.upper()
        split = urlsplit(self.path)
        path = unquote(split.path)
        query_all = parse_qs(split.query, keep_blank_values=True)
        query = {key: values[0] for key, values in query_all.items()}
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            self._send(json_response({"error": "bad Content-Length"}, 400))
            return
        body = self.rfile.read(length) if length > 0 else b""

        if path == "/_sandbox" or path.startswith("/_sandbox/"):
            self._send(_control(sb, method, path, query, body))
            return

        found = sb._match(method, path)
        if found is None:
            sb.stats.arrival(UNROUTED)
            sb.stats.status(UNROUTED, 404)
            self._send(json_response({"error": "not found", "method": method, "path": path}, 404))
            return
        route, emulator, match = found
        endpoint = route.endpoint
        if self.server.foreign is not None:
            self.server.foreign.record(method, self.path, self.headers)
        sb.stats.arrival(endpoint)
        latency = float(sb.options.get("latency") or 0)
        if latency:  # a real API's round trip (benchmarks)
            time.sleep(latency)

        cut = False
        rule = sb.faults.take(emulator.name, self.path)
        if rule is not None:
            sb.stats.fault(endpoint, rule.kind)
            if rule.kind == "latency":
                time.sleep(rule.seconds or 0.0)
            elif rule.kind == "drop":
                sb.stats.status(endpoint, "drop")
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            elif rule.kind == "status":
                headers = {}
                retry_after = rule.retry_after_header()
                if retry_after is not None:
                    headers["Retry-After"] = retry_after
                fault_body = rule.body
                if fault_body is None:
                    fault_body = {"error": f"sandbox fault: HTTP {rule.status}"}
                sb.stats.status(endpoint, rule.status)
                if isinstance(fault_body, bytes):  # sent as is, e.g. a truncated document
                    headers["Content-Type"] = "application/json"
                    self._send(Response(rule.status, fault_body, headers))
                else:
                    self._send(json_response(fault_body, rule.status, headers))
                return
            elif rule.kind == "malformed":
                sb.stats.status(endpoint, 200)
                self._send(Response(200, MALFORMED_BODY, {"Content-Type": "application/json"}))
                return
            elif rule.kind == "cut":
                cut = True

        request = Request(
            method=method,
            path=path,
            query=query,
            headers=self.headers,
            body=body,
            match=match,
            target=self.path,
            query_all=query_all,
        )
        try:
            hostile = None if self.server.foreign else sb.hostile.handle(self, request, route)
            response = route.handler(request) if hostile is None else hostile
        except Exception as exc:  # a sandbox bug: say so loudly, answer 500
            traceback.print_exc(file=sys.stderr)
            response = json_response({"error": f"sandbox handler error: {exc!r}"}, 500)
        if not response.status:  # a hostile switch left the request unanswered
            self.close_connection = True
            return
        sb.stats.status(endpoint, response.status)
        self._send(response, cut=cut)

    # -- output -----------------------------------------------------------------------------

    def _send(self, response: Response, cut: bool = False) -> None:
        self._answered()
        body = response.body
        self.send_response(response.status)
        for key, value in response.headers.items():
            if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(key, value)
        if isinstance(body, (bytes, bytearray, memoryview)):
            data = bytes(body)
            self.send_header("Content-Length", str(len(data)))
            if cut:
                self.send_header("Connection", "close")
            self.end_headers()
            if cut:
                self.wfile.write(data[: len(data) // 2])
                self._close_now()
            else:
                self.wfile.write(data)
            return
        # Iterable body: chunked transfer encoding.
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for chunk in body:
                if not chunk:
                    continue
                if cut:  # announce the first chunk in full, send half of it, hang up
                    self.wfile.write(b"%X\r\n" % len(chunk) + bytes(chunk[: len(chunk) // 2]))
                    self._close_now()
                    return
                self.wfile.write(b"%X\r\n%s\r\n" % (len(chunk), bytes(chunk)))
            if cut:
                self._close_now()
                return
            self.wfile.write(b"0\r\n\r\n")
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    def _close_now(self) -> None:
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _control(sb: Sandbox, method: str, path: str, query: dict[str, str], body: bytes) -> Response:
    """The /_sandbox/ control API."""
    try:
        if path == "/_sandbox/faults":
            if method == "POST":
                rules = json.loads(body or b"[]")
                if isinstance(rules, dict):
                    rules = [rules]
                added = sb.faults.extend(rules)
                return json_response({"added": [rule.to_dict() for rule in added]})
            if method == "DELETE":
                return json_response({"cleared": sb.faults.clear()})
            if method == "GET":
                return json_response([rule.to_dict() for rule in sb.faults])
        elif path == "/_sandbox/stats":
            if method == "GET":
                return json_response(sb.stats.snapshot())
            if method == "DELETE":
                sb.stats.reset()
                return json_response({"reset": True})
        elif path == "/_sandbox/truth" and method == "GET":
            params = dict(query)
            stream = params.pop("stream", None)
            start = params.pop("start", None)
            end = params.pop("end", None)
            if not stream or not start or not end:
                return json_response({"error": "stream, start and end are required"}, 400)
            return json_response(sb.truth(stream, start, end, **params))
        elif path == "/_sandbox/health" and method == "GET":
            return json_response(
                {"ok": True, "vendors": sorted(sb._emulators), "missing": sb._missing}
            )
    except (TypeError, ValueError, KeyError, ImportError) as exc:
        return json_response({"error": f"{type(exc).__name__}: {exc}"}, 400)
    return json_response({"error": "unknown sandbox control path", "path": path}, 404)


# --------------------------------------------------------------------------------------------
# The sandbox
# --------------------------------------------------------------------------------------------


class Sandbox:
    """All vendor emulators behind one local HTTP server.

    Options (free-form, read at request time, so a test may change sb.options mid-run):
    now (ISO string or datetime: a fixed "now"), latency (seconds added to every request, as
    a real API's round trip), <vendor>_per_day, and the vendor switches
    documented in each vendor module.
    """

    def __init__(
        self,
        seed: int = 7,
        per_day: int = 12,
        host: str = "127.0.0.1",
        port: int = 0,
        **options: Any,
    ) -> None:
        self.seed = seed
        self.per_day = per_day
        self.host = host
        self.port = port
        self.options: dict[str, Any] = options
        self.faults = FaultList()
        self.stats = Stats()
        self.in_flight = InFlightGauge()
        self.verbose = os.environ.get("SANDBOX_VERBOSE", "") not in ("", "0")
        from .hostile import Hostile  # imports this module

        self.hostile = Hostile(self)  # misbehaviour switches, off by default (hostile.py)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

        classes, self._missing = load_vendors()
        self._emulators: dict[str, VendorEmulator] = {}
        self._routes: list[tuple[re.Pattern[str], Route, VendorEmulator]] = []
        self._streams: dict[str, VendorEmulator] = {}
        for cls in classes:
            emulator = cls(self)
            self._emulators[emulator.name] = emulator
            for route in emulator.routes():
                self._routes.append((re.compile(route.pattern), route, emulator))
            for stream in emulator.streams:
                self._streams[stream] = emulator

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox is not started (use start() or `with Sandbox()`)")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), self)
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True,
            name=f"sandbox:{self.port}",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.hostile.stop()
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    # -- data -------------------------------------------------------------------------------

    def now(self) -> datetime:
        """Aware UTC now; option `now` fixes it (ISO string or datetime)."""
        fixed = self.options.get("now")
        if fixed is not None:
            return to_utc(fixed)
        return datetime.now(UTC)

    def vendor(self, name: str) -> VendorEmulator:
        emulator = self._emulators.get(name)
        if emulator is not None:
            return emulator
        if name in self._missing:
            raise ImportError(f"sandbox vendor {name!r} is unavailable: {self._missing[name]}")
        raise KeyError(f"unknown sandbox vendor {name!r}; known: {', '.join(self._emulators)}")

    def _owner(self, stream: str) -> VendorEmulator:
        emulator = self._streams.get(stream)
        if emulator is not None:
            return emulator
        vendor = stream_vendors().get(stream)
        if vendor is not None:
            return self.vendor(vendor)  # raises ImportError when that module is missing
        raise KeyError(f"unknown stream {stream!r}; known: {', '.join(sorted(self._streams))}")

    def truth(self, stream: str, start: Any, end: Any, **partition: Any) -> list[dict]:
        """The records one partition of a stream has in [start, end), as the vendor serves
        them (after its documented filtering; nothing later than now)."""
        return self._owner(stream).truth(stream, start, end, **partition)

    def truth_keys(self, stream: str, start: Any, end: Any, **partition: Any) -> set[tuple]:
        """The primary-key tuples of truth(), in the tap's output form."""
        return self._owner(stream).truth_keys(stream, start, end, **partition)

    def _match(self, method: str, path: str) -> tuple[Route, VendorEmulator, re.Match] | None:
        for pattern, route, emulator in self._routes:
            if route.method.upper() != method:
                continue
            match = pattern.fullmatch(path)
            if match is not None:
                return route, emulator, match
        return None
