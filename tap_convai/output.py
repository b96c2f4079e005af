"""Singer output: the message writer, and the direct path of records to it."""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import errno
import os
import sys
import typing as t
from functools import cached_property

from singer_sdk.contrib.msgspec import MsgSpecWriter, serialize_jsonl
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib import SingerMessageType

from tap_convai.sdk import SeamStream


class OutputClosed(BaseException):
    """The loader stopped reading: stdout is closed. Derived from BaseException so that no
    partition's error handling takes it for its own failure."""


class StateFlushingWriter(MsgSpecWriter):
    """The msgspec writer with its own output buffer, written out at each STATE (and
    every 64 KiB), instead of one write system call per message.

    One system call per record was the largest cost of a sync (stdout is unbuffered
    under PYTHONUNBUFFERED, as schedulers often set). Records stay in order and are all
    out before the STATE that covers them; a killed run loses only records after its
    last STATE, which the next run reads again. The rest is written at exit.

    Once stdout is closed, nothing more is written (`OutputClosed` is raised once).
    """

    FLUSH_AT = 1 << 16

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending = bytearray()
        self.closed = False
        atexit.register(self._flush_at_exit)

    def write_message(self, message: t.Any) -> None:
        self._pending += self.format_message(message)
        if message.type == SingerMessageType.STATE or len(self._pending) >= self.FLUSH_AT:
            self.flush()

    def write_record(self, stream: str, record: dict, version: int | None) -> None:
        """A RECORD message straight from its parts, the bytes `write_message` would
        write for a `RecordMessage` (the SDK's serialiser), without building one."""
        message: dict[str, t.Any] = {"type": "RECORD", "stream": stream, "record": record}
        if version is not None:
            message["version"] = version
        message["time_extracted"] = dt.datetime.now(dt.timezone.utc)
        self._pending += serialize_jsonl(message)
        if len(self._pending) >= self.FLUSH_AT:
            self.flush()

    def flush(self) -> None:
        if self.closed:
            self._pending.clear()
            return
        try:
            if self._pending:
                sys.stdout.buffer.write(self._pending)
                self._pending.clear()
            sys.stdout.flush()
        except (BrokenPipeError, ValueError) as exc:  # ValueError: the file is closed
            self._closed()
            raise OutputClosed from exc
        except OSError as exc:
            if exc.errno not in (errno.EPIPE, errno.EBADF):
                raise
            self._closed()
            raise OutputClosed from exc

    def _flush_at_exit(self) -> None:
        with contextlib.suppress(OutputClosed):  # the loader that stopped reading is gone
            self.flush()

    def _closed(self) -> None:
        self.closed = True
        self._pending.clear()
        # the interpreter flushes stdout once more at exit: let that write go nowhere,
        # instead of printing "Exception ignored ... BrokenPipeError"
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)


class RecordOutputStream(SeamStream):
    """A stream whose records, in the usual case, skip the SDK's per-record message path:
    serialised straight from their parts (the same bytes, tested), about twice as fast."""

    @cached_property
    def _everything_selected(self) -> bool:
        return all(self.mask.values())

    @cached_property
    def direct_writer(self) -> StateFlushingWriter | None:
        """The tap's writer when records go out as they are (one stream map, no map config,
        no flattening); None: the SDK's message path runs."""
        maps, writer = self.stream_maps, self.message_writer
        plain = (len(maps) == 1 and type(maps[0]) is SameRecordTransform
                 and maps[0].stream_alias == self.name and not maps[0].flattening_enabled)
        return writer if plain and isinstance(writer, StateFlushingWriter) else None

    def write_record_directly(self, record: dict[str, t.Any]) -> bool:
        writer = self.direct_writer
        if writer is None:
            return False
        if not self._everything_selected:
            self.drop_deselected(record)
        writer.write_record(self.name, record, self.stream_version)
        self.mark_state_unflushed()
        return True
