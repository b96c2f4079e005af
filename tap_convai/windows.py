"""UTC date windows, and the stream that walks them with a checkpoint per window."""

from __future__ import annotations

import datetime as dt
import typing as t
from collections.abc import Hashable, Iterator
from dataclasses import dataclass

from tap_convai.concurrency import StreamFetcher, Unit, context_key, iter_written
from tap_convai.http import ConvaiStream, VendorError
from tap_convai.timestamps import (
    DAY,
    format_timestamp,
    normalize_timestamp,
    parse_timestamp,
    start_of_day,
)

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


@dataclass(frozen=True)
class Window:
    """A half-open UTC interval [start, end) of one request series."""

    start: dt.datetime
    end: dt.datetime

    @property
    def first_day(self) -> dt.date:
        return self.start.date()

    @property
    def last_day(self) -> dt.date:
        """The last calendar day the window touches (for APIs with inclusive dates)."""
        return (self.end - dt.timedelta(microseconds=1)).date()

    def __str__(self) -> str:
        if self.start == start_of_day(self.start) and self.end - self.start == DAY:
            return self.start.date().isoformat()
        return f"{format_timestamp(self.start)}..{format_timestamp(self.end)}"


def iter_windows(
    start: dt.datetime, end: dt.datetime, size: dt.timedelta = DAY
) -> Iterator[Window]:
    """Consecutive windows of `size` covering [start, end); the last one is clipped."""
    cursor = start
    while cursor < end:
        nxt = min(cursor + size, end)
        yield Window(cursor, nxt)
        cursor = nxt


def window_of(context: Context | None) -> Window:
    """The window a request's context carries (every request of a windowed stream has one)."""
    window = (context or {}).get("_window")
    if not isinstance(window, Window):
        raise TypeError("a windowed stream's request context has no window")
    return window


class WindowedStream(ConvaiStream):
    """A stream that walks each partition's date range in UTC windows.

    State: one bookmark per partition, the *watermark* — the end of the last window
    whose records were all emitted. It is written after every window, so a killed run
    resumes at the window it was in; it never moves backwards (lookback re-reads leave
    it alone) and never passes a window that failed. The SDK's per-record bookmark
    increment is switched off: records inside a window need not be sorted for this to
    be exact, and the SDK would otherwise move the bookmark back during lookback.
    """

    # the SDK resumes a sorted stream's partitions (state_partitioning_keys left None);
    # records inside a window come in the vendor's order, as they are read (holding a
    # window to sort it would hold all of it in memory)
    is_sorted = True
    check_sorted = False
    window_size: dt.timedelta = DAY
    #: windows start at UTC midnight (APIs that take dates)
    align_to_day: bool = True
    #: only windows that have ended before today (vendors that finalise by day)
    complete_days_only: bool = False
    #: default of the vendor's `lookback_days` setting
    default_lookback_days: int = 0
    @property
    def partitions(self) -> list[dict] | None:
        if not self.partition_key or not self.partition_setting:
            return None
        value = self.vendor_config[self.partition_setting]
        ids = value if isinstance(value, list) else [value]  # a list of ids, or one id
        return [{self.partition_key: id_} for id_ in ids]

    def get_replication_key_signpost(self, context: t.Any = None) -> None:
        return None  # the watermark is bounded by the window end, not by a signpost

    def compare_start_date(self, value: str, start_date_value: str) -> str:
        """SDK hook on the stored bookmark; a corrupt one is reported by `watermark`."""
        try:
            return super().compare_start_date(value, start_date_value)
        except (TypeError, ValueError):
            return value

    # -- the range and its windows ----------------------------------------------------

    def lookback(self) -> dt.timedelta:
        days = self.vendor_config.get("lookback_days", self.default_lookback_days)
        return dt.timedelta(days=int(days))

    def sync_range(self, context: Context | None) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) to extract for a partition: bookmark - lookback .. end_date/now."""
        settings = self.run.settings
        start = settings.start
        watermark = self.watermark(context)
        if watermark is not None:
            start = max(start, watermark - self.lookback())
        now = self.run.clock()
        end = min(settings.end, now)
        if self.complete_days_only:
            end = min(end, start_of_day(now))
        if self.align_to_day:
            start = start_of_day(start)
        return start, end

    def watermark(self, context: Context | None) -> dt.datetime | None:
        """The partition's bookmark; one of another replication key is ignored."""
        state = self.stored_state(context)
        value = state.get("replication_key_value")
        if not value or state.get("replication_key", self.replication_key) != self.replication_key:
            return None
        try:
            return parse_timestamp(value)
        except (TypeError, ValueError):
            raise VendorError(
                f"{self.where()}: the bookmark in the state ({value!r}) is not a timestamp; "
                "correct or remove it"
            ) from None

    def stored_state(self, context: Context | None) -> dict:
        """The partition's state as stored, read without adding an entry for it: windows
        are laid out at the start of a run, and an empty entry would show in its first
        STATE (the SDK adds the entry when the partition's sync begins)."""
        stream_state = self.tap_state.get("bookmarks", {}).get(self.name, {})
        if not context:
            return stream_state
        for partition in stream_state.get("partitions", ()):
            if partition.get("context") == context:
                return partition
        return {}

    def windows(self, context: Context | None) -> Iterator[Window]:
        start, end = self.sync_range(context)
        return iter_windows(start, end, self.window_size)

    # -- records ----------------------------------------------------------------------

    def window_context(self, context: Context | None, window: Window) -> dict:
        """The request context of one window: the partition plus the window bounds."""
        return {**(context or {}), "_window": window}

    def partition_label(self, context: t.Mapping[str, t.Any] | None) -> str:
        label = super().partition_label(context)
        window = (context or {}).get("_window")
        return f"{label} window {window}" if window else label

    def window_records(self, context: dict, window: Window) -> t.Iterable[dict]:
        """Records of one window (default: the paginated REST request series)."""
        return self.request_records(context)

    # -- fetching ahead, writing in order (see concurrency.py) --------------------------

    _fetcher: StreamFetcher | None = None

    def start_fetching(self) -> StreamFetcher:
        """Lay out this stream's (partition, window) units and start fetching them.

        Called in the main thread: it reads the state (bookmarks) and makes the shared
        HTTP session before any worker runs."""
        _ = self.requests_session
        run = self.run
        self._fetcher = StreamFetcher(self.name, self.lay_out_units(), self.fetch_unit,
                                      run.budget, run.settings.max_concurrency)
        run.progress.add(self.vendor, self._fetcher)
        return self._fetcher

    def lay_out_units(self) -> dict[Hashable, list[Unit]]:
        """Each partition's windows as units, in the order the SDK will write them; a
        partition whose range cannot be read (a corrupt bookmark) is one failed unit."""
        by_partition: dict[Hashable, list[Unit]] = {}
        contexts: list[dict | None] = [*(self.partitions or [])] or [None]
        for context in contexts:
            key = context_key(context)
            self.current_partition = context
            try:
                by_partition[key] = [Unit(key, self.window_context(context, window), window)
                                     for window in self.windows(context)]
            except Exception as exc:  # this partition fails alone, when it is written
                by_partition[key] = [Unit.failed(key, dict(context or {}), exc)]
            finally:
                self.current_partition = None
        return by_partition

    def fetch_unit(self, unit: Unit) -> Iterator[dict]:
        """The records of one unit, read in a worker thread."""
        self.current_partition = unit.context
        try:
            yield from self.window_records(unit.context, unit.window)
        finally:
            self.current_partition = None

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        fetcher = self._fetcher
        units = fetcher.take_partition(context) if fetcher else None
        if fetcher is None or units is None:  # not started with the run, or synced again
            fetcher = self.start_fetching()
            units = fetcher.take_partition(context) or []
        budget, progress = self.run.budget, self.run.progress
        try:
            for unit in units:
                self.current_partition = unit.context
                count = 0
                for chunk in iter_written(budget, unit):
                    count += len(chunk)
                    yield from chunk
                    self.raise_unwritable()
                self.checkpoint(context, unit.window, count, unit.seconds)
                progress.written(self.vendor, fetcher, count)
        except Exception as exc:  # isolation: one partition's failure ends only itself
            self.log_failure(exc)
        finally:
            fetcher.cancel(units)  # what is left of it: failed, or closed early
            self.current_partition = None

    def checkpoint(
        self, context: Context | None, window: Window, count: int, seconds: float
    ) -> None:
        """All of `window` is emitted: move the watermark to its end and write STATE."""
        state = self.get_context_state(context)
        previous = state.get("replication_key_value")
        value = format_timestamp(window.end)
        if previous is None or value > normalize_timestamp(previous):
            state["replication_key"] = self.replication_key
            state["replication_key_value"] = value
            self.write_state()
        rate = count / seconds if seconds > 0 else 0.0
        self.logger.info(
            "%s %s window %s: %d records in %.1f s (%.0f/s)",
            self.name,
            self.partition_label(context),
            window,
            count,
            seconds,
            rate,
        )
