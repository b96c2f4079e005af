"""Concurrency: the windows of every stream are fetched together, and written in order.

The SDK writes streams one after another, and a stream's partitions one after another.
That order is kept for the output, so the state stays as exact as a sequential run's: a
partition's bookmark moves only once its window has been written, and never past a window
that failed. What runs concurrently is the fetching. When a run starts, every selected
stream lays out its work — (partition, window) units, in the order they will be written —
and worker threads fetch them ahead:

- at most `max_concurrency` requests are in flight across the whole run (`InFlight`),
  taken *after* the endpoint's rate limiter gave the request its turn, so a request
  waiting for its vendor's pace never holds a slot another vendor could use;
- fetched records wait in memory, bounded in bytes of response (`Budget`), not in records:
  a worker stops reading (and starts no new window) while the budget is spent; the one
  window being written always goes on, so the run cannot stall;
- a failed window fails its partition alone: the partition's later units are cancelled;
- killed at any point, a run re-reads at most the windows that were fetched ahead
  (in flight) and not yet written, plus the lookback.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
import typing as t

from tap_convai.pacing import InFlight, bytes_read

if t.TYPE_CHECKING:
    from collections.abc import Callable, Hashable, Iterable, Iterator

    from singer_sdk.helpers.types import Context

#: bytes of fetched responses that may wait in memory to be written, across the run
BUDGET_BYTES = 2 * 1024 * 1024
#: a hand-over from a worker to the writer: this many response bytes or records
CHUNK_BYTES = 64 * 1024
CHUNK_RECORDS = 500

class WorkerStopped(Exception):
    """A worker ended abruptly (a BaseException) while fetching a window."""


class Unit:
    """One window of one partition: its records as they are fetched.

    The window is the stream's own (this module never looks inside it)."""

    def __init__(self, partition: Hashable, context: dict, window: t.Any) -> None:
        self.partition = partition
        self.context = context  # the partition plus `_window`
        self.window = window
        self.chunks: collections.deque[tuple[list[dict], int]] = collections.deque()
        self.done = False
        self.error: BaseException | None = None
        self.cancelled = False
        self.seconds = 0.0

    @classmethod
    def failed(cls, partition: Hashable, context: dict, error: BaseException) -> Unit:
        """A partition that failed before any window (e.g. a corrupt bookmark)."""
        unit = cls(partition, context, None)
        unit.done, unit.error = True, error
        return unit


class Budget:
    """Bytes of fetched records waiting to be written; one per run.

    One condition guards every unit's chunks, so a writer waiting for its window and a
    worker waiting for room wake each other.
    """

    def __init__(self, limit: int = BUDGET_BYTES) -> None:
        self.limit = limit
        self.used = 0
        self.peak = 0
        self.head: Unit | None = None  # the unit being written
        self.cond = threading.Condition()

    def _room(self, unit: Unit, size: int) -> bool:
        if unit.cancelled:
            return True
        if self.used + size <= self.limit:
            return True
        return unit is self.head and not unit.chunks  # the writer waits for it: go on

    def wait_to_start(self, unit: Unit) -> None:
        """A worker starts a new window only while there is room (or it is awaited)."""
        with self.cond:
            while not self._room(unit, 1):
                self.cond.wait()

    def put(self, unit: Unit, records: list[dict], size: int) -> None:
        with self.cond:
            while not self._room(unit, size):
                self.cond.wait()
            if unit.cancelled:
                return
            unit.chunks.append((records, size))
            self.used += size
            self.peak = max(self.peak, self.used)
            self.cond.notify_all()

    def finish(self, unit: Unit, error: BaseException | None = None) -> None:
        with self.cond:
            unit.done, unit.error = True, error
            self.cond.notify_all()

    def take(self, unit: Unit) -> list[dict] | None:
        """The writer's next chunk of `unit`; None once the unit is complete. Raises the
        unit's error after its last chunk."""
        with self.cond:
            if self.head is not unit:
                self.head = unit
                self.cond.notify_all()
            while not unit.chunks and not unit.done:
                self.cond.wait()
            if unit.chunks:
                records, size = unit.chunks.popleft()
                self.used -= size
                self.cond.notify_all()
                return records
            if unit.error is not None:
                raise unit.error
            if unit.cancelled:  # never taken for complete: its bookmark must not move
                raise RuntimeError(f"window {unit.window} was cancelled before it was read")
            return None

    def cancel(self, units: t.Iterable[Unit]) -> None:
        with self.cond:
            for unit in units:
                unit.cancelled = True
                self.used -= sum(size for _, size in unit.chunks)
                unit.chunks.clear()
            self.cond.notify_all()


class StreamFetcher:
    """The units of one stream, fetched ahead by worker threads in the order written.

    The stream lays its units out (partition by partition, in writing order) and gives
    `fetch`, which reads one unit's records in a worker thread."""

    def __init__(self, name: str, by_partition: dict[Hashable, list[Unit]],
                 fetch: Callable[[Unit], Iterable[dict]], budget: Budget,
                 workers: int) -> None:
        self.budget = budget
        self.by_partition = by_partition
        self._fetch_records = fetch
        pending = [unit for units in by_partition.values() for unit in units if not unit.done]
        self.total = len(pending)
        self.written = 0
        self._pending = collections.deque(pending)
        self._lock = threading.Lock()
        self._taken: set[Hashable] = set()
        for number in range(min(workers, len(pending))):
            threading.Thread(target=self._work, name=f"{name}-{number}", daemon=True).start()

    def take_partition(self, context: Context | None) -> list[Unit] | None:
        """The units of a partition, once: a second sync of it needs a new fetcher."""
        key = context_key(context)
        if key in self._taken:
            return None
        self._taken.add(key)
        return self.by_partition.get(key)

    def cancel(self, units: list[Unit]) -> None:
        self.budget.cancel(units)

    def _next(self) -> Unit | None:
        with self._lock:
            return self._pending.popleft() if self._pending else None

    def _work(self) -> None:
        while (unit := self._next()) is not None:
            self.budget.wait_to_start(unit)
            if unit.cancelled:
                self.budget.finish(unit)
                continue
            started = time.monotonic()
            try:
                self._fetch(unit)
            except Exception as exc:  # handed to the writer, raised there
                self.cancel_after(unit)
                self.budget.finish(unit, exc)
            except BaseException as exc:  # e.g. a library's sys.exit(): the writer must
                # not wait for this unit forever, nor for the units this worker would fetch
                self.cancel_after(unit)
                self.budget.finish(unit, WorkerStopped(f"{type(exc).__name__} in a worker"))
            else:
                self.budget.finish(unit)
            finally:
                unit.seconds = time.monotonic() - started

    def cancel_after(self, failed: Unit) -> None:
        """A failed window ends its partition: its later units are not fetched."""
        units = self.by_partition.get(failed.partition) or []
        later = units[units.index(failed) + 1:]
        if later:
            self.budget.cancel(later)

    def _fetch(self, unit: Unit) -> None:
        # records are handed over as they are read (never a whole window first), so the
        # budget counts the bytes of every record that waits
        chunk: list[dict] = []
        mark = bytes_read()
        for record in self._fetch_records(unit):
            if unit.cancelled:
                return
            chunk.append(record)
            size = bytes_read() - mark
            if size >= CHUNK_BYTES or len(chunk) >= CHUNK_RECORDS:
                self.budget.put(unit, chunk, max(size, len(chunk)))
                chunk, mark = [], bytes_read()
        if chunk:
            self.budget.put(unit, chunk, max(bytes_read() - mark, len(chunk)))

    def units_left(self) -> int:
        return self.total - self.written


def context_key(context: Context | None) -> Hashable:
    return tuple(sorted((context or {}).items()))


class Progress:
    """A periodic line per vendor on a long run: records/s, requests in flight, windows
    left. Reported from a daemon thread every `every` seconds."""

    def __init__(self, in_flight: InFlight, logger: logging.Logger, every: float = 30.0,
                 clock: t.Callable[[], float] = time.monotonic) -> None:
        self.in_flight = in_flight
        self.logger = logger
        self.every = every
        self.clock = clock
        self.fetchers: dict[str, list[StreamFetcher]] = collections.defaultdict(list)
        self.records: collections.Counter[str] = collections.Counter()
        self._last = clock()
        self._last_records: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()

    def add(self, vendor: str, fetcher: StreamFetcher) -> None:
        with self._lock:
            self.fetchers[vendor].append(fetcher)

    def written(self, vendor: str, fetcher: StreamFetcher, records: int) -> None:
        with self._lock:
            self.records[vendor] += records
            fetcher.written += 1

    def lines(self) -> list[str]:
        """One line per vendor with work left or done since the last report."""
        now = self.clock()
        with self._lock:
            seconds = max(now - self._last, 1e-9)
            out = []
            for vendor, fetchers in self.fetchers.items():
                left = sum(f.units_left() for f in fetchers)
                new = self.records[vendor] - self._last_records[vendor]
                if not left and not new:
                    continue
                out.append(
                    f"progress {vendor}: {new / seconds:.0f} records/s, "
                    f"{self.in_flight.by_vendor[vendor]} requests in flight, "
                    f"{left} windows left, {self.records[vendor]} records written"
                )
            self._last, self._last_records = now, collections.Counter(self.records)
        return out

    def start(self) -> None:
        def report() -> None:
            while True:
                time.sleep(self.every)
                for line in self.lines():
                    self.logger.info("%s", line)

        threading.Thread(target=report, name="progress", daemon=True).start()


def iter_written(budget: Budget, unit: Unit) -> Iterator[list[dict]]:
    """The chunks of `unit` as the writer takes them."""
    while (records := budget.take(unit)) is not None:
        yield records
