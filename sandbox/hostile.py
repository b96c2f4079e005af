"""Hostile servers: switches that make the sandbox misbehave the way real networks and
broken (or malicious) servers do. Each is off by default and named for what it does.

A switch's value says which requests it applies to: `true` (every vendor request) or a
text found in the request as received — its method and target (`GET /path?query`), or one
of its headers written `name: value` — e.g. "service_id=support", "bot_name=helpdesk",
"/public/st-x/", "botId: bad-bot", "/files/bad-bot/".

- `hostile_redirect`: answer `hostile_redirect_status` (default 302) with a `Location` on
  the foreign listener, same path and query;
- `hostile_stall`: read the request and never answer (until the client hangs up);
- `hostile_drip`: send the answer one byte every `hostile_drip_seconds` (default 0.5);
- `hostile_cursor_cycle`: AgentX pages whose cursors cycle A, B, A… (each page serves the
  window's first page);
- `hostile_more_forever`: Kore pages all say `hasMore: true` (past the end they are empty);
- `hostile_offset_ignored`: Kore serves the first page at every offset, with `hasMore: true`;
- `hostile_deep_nesting`: the answer's first record (its first `data` item, an export file's
  first conversation, or Aurion's object) gets a field `hostile_nesting` of
  `hostile_nesting_depth` (default 5000) nested arrays;
- `hostile_gzip_bomb`: the answer becomes `Content-Encoding: gzip` data inflating to
  `hostile_gzip_bomb_mb` (default 256) MB of valid JSON: an object with an empty `data`
  array (an empty array for export files), mostly whitespace;
- `hostile_signed_urls`: get-signed-urls answers list their files on
  `hostile_signed_url_base` (default `foreign`: the foreign listener; or any base URL, e.g.
  `http://[::ffff:127.0.0.1]:PORT`) instead of the sandbox.

A 429 with a Retry-After of a day is a fault rule: `sb.faults.add(status=429,
retry_after="86400", count=None, path=...)`.

The foreign listener (`sb.hostile.foreign`, started on first use): a second server on
127.0.0.2 — another host to a client — that answers like the sandbox (no hostile switch
applies there) and records the method, target and headers of every request it receives
(`received`), so a test can see what a client let out to another host.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import select
import socket
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from .core import Request, Response, Route

if TYPE_CHECKING:
    from .core import Sandbox, _Handler

FOREIGN_HOST = "127.0.0.2"
#: a handler's answer that was never sent (the connection is left to the client)
NO_ANSWER = Response(status=0)
_NESTING = '"__hostile_nesting__"'
_PAD_MB = 16
_pad_member: bytes | None = None


class Foreign:
    """The foreign listener: another host, recording every request it receives."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.received: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> Foreign:
        from .core import _Server

        with self._lock:
            if self._server is None:
                self._server = _Server((FOREIGN_HOST, 0), self.sandbox, foreign=self)
                self._thread = threading.Thread(
                    target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                    daemon=True, name="sandbox:foreign",
                )
                self._thread.start()
        return self

    @property
    def port(self) -> int:
        return self.start()._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{FOREIGN_HOST}:{self.port}"

    def record(self, method: str, target: str, headers: Any) -> None:
        with self._lock:
            self.received.append(
                {"method": method, "target": target, "headers": dict(headers.items())}
            )

    def stop(self) -> None:
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.close_connections()
            server.server_close()


class Hostile:
    """The hostile switches of one sandbox (read from its options at request time)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.foreign = Foreign(sandbox)
        self.stopping = threading.Event()

    def stop(self) -> None:
        self.stopping.set()
        self.foreign.stop()

    # -- matching ---------------------------------------------------------------------

    def _on(self, switch: str, request: Request) -> bool:
        wanted = self.sandbox.options.get(switch)
        if not wanted:
            return False
        if wanted is True:
            return True
        seen = f"{request.method} {request.target}\n" + "\n".join(
            f"{name}: {value}" for name, value in request.headers.items()
        )
        return str(wanted) in seen

    # -- the hook -----------------------------------------------------------------------

    def handle(self, handler: _Handler, request: Request, route: Route) -> Response | None:
        """The hostile answer to a vendor request, or None: the vendor's own answer."""
        on = [name for name in _SWITCHES if self._on(name, request)]
        if not on:
            return None
        options = self.sandbox.options
        if "hostile_redirect" in on:
            status = int(options.get("hostile_redirect_status") or 302)
            return Response(status, b"", {"Location": self.foreign.url + request.target})
        if "hostile_stall" in on:
            self._stall(handler.connection)
            return NO_ANSWER
        cycle = "hostile_cursor_cycle" in on
        if cycle:
            cursor = request.query.get("cursor", "")
            following = {"hostile-cycle-A": "hostile-cycle-B"}.get(cursor, "hostile-cycle-A")
            request = _without(request, "cursor")
        if "hostile_offset_ignored" in on:
            request = _without(request, "offset")
        response = route.handler(request)
        if response.status == 200:
            response = self._rewrite(response, route, on, following if cycle else None)
        if "hostile_drip" in on:
            response = self._drip(response)
        return response

    def _rewrite(self, response: Response, route: Route, on: list[str],
                 cursor: str | None) -> Response:
        options = self.sandbox.options
        is_file = route.endpoint == "zendesk_ai.files"
        if "hostile_gzip_bomb" in on:
            return _gzip_bomb(float(options.get("hostile_gzip_bomb_mb") or 256), is_file)
        if is_file:
            if "hostile_deep_nesting" in on:
                return _nested_file(response, int(options.get("hostile_nesting_depth") or 5000))
            return response
        body = json.loads(_bytes(response.body))
        if cursor is not None and isinstance(body, dict) and "cursor" in body:
            body["cursor"] = cursor
        if ("hostile_more_forever" in on or "hostile_offset_ignored" in on) and (
            isinstance(body, dict) and "hasMore" in body
        ):
            body["hasMore"] = True
        if "hostile_signed_urls" in on and isinstance(body, dict):
            base = options.get("hostile_signed_url_base") or "foreign"
            base = self.foreign.url if base == "foreign" else str(base).rstrip("/")
            for key in ("urls", "signed_urls"):
                if isinstance(body.get(key), list):
                    body[key] = [base + url[len(self.sandbox.url):] for url in body[key]]
        depth = int(options.get("hostile_nesting_depth") or 5000)
        nested = "hostile_deep_nesting" in on and _add_nesting(body)
        text = json.dumps(body, separators=(",", ":"))
        if nested:
            text = text.replace(_NESTING, "[" * depth + "]" * depth, 1)
        return Response(200, text.encode(), {"Content-Type": "application/json"})

    # -- behaviours -------------------------------------------------------------------------

    def _stall(self, connection: socket.socket) -> None:
        """Hold the request unanswered until the client hangs up or the sandbox stops."""
        while not self.stopping.is_set():
            readable, _, _ = select.select([connection], [], [], 0.2)
            if readable:
                try:
                    if not connection.recv(1, socket.MSG_PEEK):
                        return
                except OSError:
                    return

    def _drip(self, response: Response) -> Response:
        body = _bytes(response.body)
        seconds = float(self.sandbox.options.get("hostile_drip_seconds") or 0.5)
        stopping = self.stopping

        def drip() -> Iterator[bytes]:
            for index in range(len(body)):
                if stopping.wait(seconds):
                    return
                yield body[index:index + 1]

        return Response(response.status, drip(), response.headers)


_SWITCHES = (
    "hostile_redirect", "hostile_stall", "hostile_drip", "hostile_cursor_cycle",
    "hostile_more_forever", "hostile_offset_ignored", "hostile_deep_nesting",
    "hostile_gzip_bomb", "hostile_signed_urls",
)


def _bytes(body: Any) -> bytes:
    return bytes(body) if isinstance(body, (bytes, bytearray, memoryview)) else b"".join(body)


def _without(request: Request, name: str) -> Request:
    """The request as if its query had no `name` parameter."""
    query_all = {k: v for k, v in request.query_all.items() if k != name}
    split = urlsplit(request.target)
    target = split.path + ("?" + urlencode(query_all, doseq=True) if query_all else "")
    return dataclasses.replace(
        request, query={k: v[0] for k, v in query_all.items()}, query_all=query_all,
        target=target,
    )


def _add_nesting(body: Any) -> bool:
    """Put the nesting placeholder in the body's first record; whether there was one."""
    if isinstance(body, dict):
        data = body.get("data")
        if isinstance(data, list):
            if data and isinstance(data[0], dict):
                data[0]["hostile_nesting"] = _NESTING.strip('"')
                return True
            return False
        body["hostile_nesting"] = _NESTING.strip('"')
        return True
    return False


def _nested_file(response: Response, depth: int) -> Response:
    """An export file as a JSON array whose first conversation nests `depth` deep."""
    raw = _bytes(response.body)
    if response.headers.get("Content-Encoding") == "gzip" or raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    text = raw.decode().strip()
    if text.startswith("["):
        records = json.loads(text)
    else:
        records = [json.loads(line) for line in text.splitlines() if line.strip()]
    if records:
        records[0]["hostile_nesting"] = _NESTING.strip('"')
    out = json.dumps(records).replace(_NESTING, "[" * depth + "]" * depth, 1)
    return Response(200, out.encode(), {"Content-Type": "application/json"})


def _gzip_bomb(megabytes: float, is_file: bool) -> Response:
    """gzip members inflating to about `megabytes` MB of JSON that holds no record."""
    global _pad_member
    if _pad_member is None:  # 16 MB of spaces: about 16 KB compressed
        _pad_member = gzip.compress(b" " * (_PAD_MB * 1024 * 1024), compresslevel=9, mtime=0)
    head, tail = (b"[", b"]") if is_file else (b'{"data":[', b"]}")
    pads = max(1, int(megabytes // _PAD_MB))

    def members() -> Iterator[bytes]:
        yield gzip.compress(head, mtime=0)
        for _ in range(pads):
            yield _pad_member  # type: ignore[misc]
        yield gzip.compress(tail, mtime=0)

    return Response(200, members(), {"Content-Type": "application/json",
                                     "Content-Encoding": "gzip"})


__all__ = ["FOREIGN_HOST", "NO_ANSWER", "Foreign", "Hostile"]
