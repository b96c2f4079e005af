"""Zendesk AI export files, read as a stream: peak memory does not grow with file size.

A file is a JSON array of conversation objects or JSON Lines (told apart by its first
non-whitespace byte), possibly gzip-compressed. `requests` undoes a `Content-Encoding:
gzip` while streaming; a body that still starts with the gzip magic (an object stored
compressed without that header) is decompressed here. Both are refused when they inflate
past reason, and a file nested too deep is refused before it is parsed (jsonstream.py).
"""

from __future__ import annotations

import io
import typing as t

import ijson

from tap_convai.jsonstream import (
    BodyFormatError,
    guard_nesting,
    json_error,
    maybe_gunzip,
    reader,
)

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

_BOM = b"\xef\xbb\xbf"
_WHITESPACE = b" \t\r\n"


class FileFormatError(BodyFormatError):
    """The file is neither a JSON array of objects nor JSON Lines of objects.

    The message never quotes the file's content (it holds personal data).
    """


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


def read_objects(chunks: Iterable[bytes]) -> Iterator[dict[str, t.Any]]:
    """The objects of one export file, in file order, parsed incrementally."""
    try:
        body = reader(guard_nesting(maybe_gunzip(chunks)))
        first = _first_byte(body)
        if not first:
            return  # an empty file: no conversations
        if first == b"[":
            items = ijson.items(body, "item", use_float=True)
        elif first == b"{":
            items = ijson.items(body, "", multiple_values=True, use_float=True)
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
        raise json_error(exc) from None
