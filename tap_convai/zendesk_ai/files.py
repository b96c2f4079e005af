"""Zendesk AI export files, read as a stream: peak memory does not grow with file size.

A file is a JSON array of conversation objects or JSON Lines (told apart by its first
non-whitespace byte), possibly gzip-compressed. `requests` undoes a `Content-Encoding:
gzip` while streaming; a body that still starts with the gzip magic (an object stored
compressed without that header) is decompressed here. Records are parsed one at a time
by `ijson` (C backend, floats rather than Decimals).
"""

from __future__ import annotations

import gzip
import io
import typing as t
import zlib

import ijson

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

#: bytes per network read and parser buffer
CHUNK_BYTES = 64 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"
_WHITESPACE = b" \t\r\n"


class FileFormatError(Exception):
    """The file is neither a JSON array of objects nor JSON Lines of objects.

    The message never quotes the file's content (it holds personal data).
    """


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


def _first_byte(reader: io.BufferedReader) -> bytes:
    """Skip a BOM and leading whitespace; the first significant byte (b"" if none)."""
    if reader.peek(3)[:3] == _BOM:
        reader.read(3)
    while True:
        head = reader.peek(1)
        if not head:
            return b""
        stripped = head.lstrip(_WHITESPACE)
        if stripped:
            reader.read(len(head) - len(stripped))
            return stripped[:1]
        reader.read(len(head))


def _decompressed(reader: io.BufferedReader) -> io.BufferedReader:
    if reader.peek(2)[:2] == _GZIP_MAGIC:
        return io.BufferedReader(gzip.GzipFile(fileobj=reader, mode="rb"), CHUNK_BYTES)
    return reader


def _json_error(exc: Exception) -> FileFormatError:
    # yajl's message quotes the input after its first line: keep only the first line
    first = (str(exc).splitlines() or [type(exc).__name__])[0]
    return FileFormatError(f"not valid JSON ({first[:120]})")


def read_objects(chunks: Iterable[bytes]) -> Iterator[dict[str, t.Any]]:
    """The objects of one export file, in file order, parsed incrementally."""
    reader = _decompressed(io.BufferedReader(ChunkReader(chunks), CHUNK_BYTES))
    try:
        first = _first_byte(reader)
        if not first:
            return  # an empty file: no conversations
        if first == b"[":
            items = ijson.items(reader, "item", use_float=True)
        elif first == b"{":
            items = ijson.items(reader, "", multiple_values=True, use_float=True)
        else:
            raise FileFormatError(
                "neither a JSON array nor JSON Lines (first byte is not '[' or '{')"
            )
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise FileFormatError(
                    f"item {index} is a {type(item).__name__}, not a JSON object"
                )
            yield item
    except ijson.JSONError as exc:
        raise _json_error(exc) from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise FileFormatError(f"not a valid gzip stream ({type(exc).__name__})") from None
