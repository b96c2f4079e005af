"""Singer output: the message writer."""

from __future__ import annotations

import atexit
import datetime as dt
import sys
import typing as t

from singer_sdk.contrib.msgspec import MsgSpecWriter, serialize_jsonl
from singer_sdk.singerlib import SingerMessageType


class StateFlushingWriter(MsgSpecWriter):
    """The msgspec writer with its own output buffer, written out at each STATE (and
    every 64 KiB), instead of one write system call per message.

    One system call per record was the largest cost of a sync (stdout is unbuffered
    under PYTHONUNBUFFERED, as schedulers often set). Records stay in order and are all
    out before the STATE that covers them; a killed run loses only records after its
    last STATE, which the next run reads again. The rest is written at exit.
    """

    FLUSH_AT = 1 << 16

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending = bytearray()
        atexit.register(self.flush)

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
        if self._pending:
            sys.stdout.buffer.write(self._pending)
            self._pending.clear()
        sys.stdout.flush()
