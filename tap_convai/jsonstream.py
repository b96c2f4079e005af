"""JSON bodies parsed as they arrive: peak memory does not grow with the body's size.

Records are parsed one at a time by `ijson` (C backend, floats rather than Decimals). Two
guards stand before the parser, on the bytes:

- nesting: ijson keeps the path of every open level, so memory grows with the square of the
  depth (a body of 64 KiB of `[` would take gigabytes); a body nested deeper than
  MAX_NESTING levels is refused before the parser sees it;
- inflation: a gzip body (one stored compressed) is decompressed in bounded steps, and
  refused once it has inflated more than MAX_INFLATION times its compressed size.

The messages never quote the body (it holds personal data).
"""

from __future__ import annotations

import io
import itertools
import re
import typing as t
import zlib

import ijson

from tap_convai.transport import CHUNK_BYTES, Inflates, inflate

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

#: deepest nesting of arrays and objects read (the documented records need fewer than 10)
MAX_NESTING = 256
GZIP_MAGIC = b"\x1f\x8b"


class BodyFormatError(Exception):
    """The body is not the JSON the docs describe; the message never quotes it."""


def json_error(exc: Exception) -> BodyFormatError:
    # yajl's message quotes the input after its first line: keep only the first line
    first = (str(exc).splitlines() or [type(exc).__name__])[0]
    return BodyFormatError(f"not valid JSON ({first[:120]})")


class ChunkReader(io.RawIOBase):
    """A read-only file over an iterator of byte chunks (e.g. `response.iter_content`).

    Errors raised by the iterator (connection reset, truncated body…) propagate from
    `read`, so the caller can retry the download.
    """

    def __init__(self, chunks: Iterable[bytes]) -> None:
        super().__init__()
        self._chunks = iter(chunks)
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: t.Any) -> int:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = memoryview(chunk)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def reader(chunks: Iterable[bytes]) -> io.BufferedReader:
    return io.BufferedReader(ChunkReader(chunks), CHUNK_BYTES)


# -- nesting -----------------------------------------------------------------------------

# unrolled loops ("normal* (special normal*)*"): their parts never match the same byte,
# so a failed try gives back nothing worth retrying and matching stays linear (also on
# Python 3.10, which has no possessive quantifiers)
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)  # a whole string
_STRING_REST = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*', re.S)  # inside one, up to its end
_UP_TO_OPEN_STRING = re.compile(rb'(?:[^"]*"[^"\\]*(?:\\.[^"\\]*)*")*[^"]*', re.S)
_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class NestingGuard:
    """Follows the nesting depth of a JSON text chunk by chunk (strings skipped)."""

    def __init__(self, limit: int = MAX_NESTING) -> None:
        self.limit = limit
        self.depth = 0
        self.in_string = False
        self.escaped = False  # the last chunk ended inside a string, on a backslash

    def feed(self, chunk: bytes) -> None:
        start = 0
        if self.in_string:
            start = self._string_end(chunk, 1 if self.escaped else 0)
            if start < 0:
                return
        if b'\\"' in chunk or b"\\" in chunk[-1:]:
            structure = self._outside_strings(chunk, start)
        else:  # no escaped quote: every quote opens or closes a string
            parts = chunk[start:].split(b'"')
            self.in_string = len(parts) % 2 == 0
            structure = b"".join(parts[::2])
        self._count(structure.translate(_BRACKETS, _NOT_BRACKETS))

    def _string_end(self, chunk: bytes, start: int) -> int:
        """Where the string this chunk starts in ends (after its quote); -1: it goes on."""
        self.escaped = False
        end = _STRING_REST.match(chunk, start).end()  # type: ignore[union-attr]
        if end < len(chunk) and chunk[end:end + 1] == b'"':
            self.in_string = False
            return end + 1
        self.escaped = end < len(chunk)  # stopped on a final backslash
        return -1

    def _outside_strings(self, chunk: bytes, start: int) -> bytes:
        # complete strings up to where one runs past this chunk (if one does)
        end = _UP_TO_OPEN_STRING.match(chunk, start).end()  # type: ignore[union-attr]
        self.in_string = end < len(chunk)
        if self.in_string:
            self._string_end(chunk, end + 1)
        return _STRING.sub(b"", chunk[start:end])

    def _count(self, brackets: bytes) -> None:
        if not brackets:
            return
        opening = brackets.count(b"[")
        if self.depth + opening <= self.limit:  # cannot pass the limit in this chunk
            self.depth += 2 * opening - len(brackets)
            return
        depth = self.depth
        for byte in brackets:
            depth += 1 if byte == 0x5B else -1
            if depth > self.limit:
                raise BodyFormatError(f"nested deeper than {self.limit} levels")
        self.depth = depth


def guard_nesting(chunks: Iterable[bytes], limit: int = MAX_NESTING) -> Iterator[bytes]:
    """`chunks` unchanged, refused once they nest deeper than `limit` levels."""
    guard = NestingGuard(limit)
    for chunk in chunks:
        guard.feed(chunk)
        yield chunk


# -- compression -------------------------------------------------------------------------


def maybe_gunzip(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """`chunks`, decompressed when they start with the gzip magic (a body stored
    compressed, served without Content-Encoding)."""
    chunks = iter(chunks)
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= len(GZIP_MAGIC):
            break
    rest = itertools.chain([head], chunks)
    if not head.startswith(GZIP_MAGIC):
        yield from rest
        return
    try:
        yield from inflate(rest)
    except Inflates as exc:
        raise BodyFormatError(str(exc)) from None
    except zlib.error as exc:
        raise BodyFormatError(f"not a valid gzip stream ({exc})") from None


# -- parsing -----------------------------------------------------------------------------


def array_items(chunks: Iterable[bytes], key: str) -> Iterator[t.Any]:
    """The items of the array under `key` of a body that is one JSON object."""
    events = ijson.parse(reader(guard_nesting(chunks)), use_float=True)
    try:
        first = next(events, None)
        if first is None:
            raise BodyFormatError("the body is empty")
        if first[1] != "start_map":
            raise BodyFormatError("not a JSON object")
        for event in events:
            if event[0] == key:
                if event[1] != "start_array":
                    raise BodyFormatError(f"`{key}` is not an array")
                yield from ijson.items(itertools.chain([event], events), f"{key}.item")
                return
        raise BodyFormatError(f"no `{key}` array")
    except ijson.JSONError as exc:
        raise json_error(exc) from None
