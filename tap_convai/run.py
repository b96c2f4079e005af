"""The services one run shares among its streams, typed: the seam hands them to streams.

A run has one of each: its settings and clock, the in-flight slots (`max_concurrency`),
one limiter per endpoint, the byte budget of fetched records waiting to be written, the
progress line, and the failed partitions, which make the run exit non-zero at its end.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import typing as t
from dataclasses import dataclass, field

from tap_convai.concurrency import Budget, Progress
from tap_convai.pacing import InFlight, RateLimiter
from tap_convai.timestamps import DAY, UTC, parse_timestamp, utc_now

FAR_FUTURE = dt.datetime(9999, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class RunSettings:
    """The parsed common settings of a run."""

    start: dt.datetime
    end: dt.datetime  # exclusive
    max_concurrency: int = 8

    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any]) -> RunSettings:
        start = parse_timestamp(config["start_date"])
        end_value = config.get("end_date")
        if not end_value:
            end = FAR_FUTURE
        else:
            end = parse_timestamp(end_value)
            if len(str(end_value).strip()) == 10:  # a date alone
                end += DAY  # a date is inclusive: extract through its last instant
        return cls(start=start, end=end,
                   max_concurrency=int(config.get("max_concurrency") or 8))


@dataclass(frozen=True)
class Failure:
    """A partition that failed: the run goes on and exits non-zero at its end."""

    stream: str
    #: the partition and window as in messages, e.g. "[bot_id=b1] window 2026-10-01"
    partition: str
    #: the one line logged for it: vendor, stream, partition, request and what happened
    message: str
    #: the HTTP status of the answer that failed it, when an answer did
    status: int | None = None


@dataclass
class Run:
    """One run's shared services."""

    settings: RunSettings
    logger: logging.Logger
    #: the run's "now" (aware UTC): where windows end, which days are complete
    clock: t.Callable[[], dt.datetime] = utc_now
    #: called with each failure as it happens (e.g. the Airbyte face's error messages)
    on_failure: list[t.Callable[[Failure], None]] = field(default_factory=list)
    _failures: list[Failure] = field(default_factory=list, init=False)
    _limiters: dict[str, RateLimiter] = field(default_factory=dict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.in_flight = InFlight(self.settings.max_concurrency)
        self.budget = Budget()
        self.progress = Progress(self.in_flight, self.logger)

    def rate_limiter(self, key: str, per_second: float | None, window: float = 1.0
                     ) -> RateLimiter:
        """The one limiter of an endpoint, shared by all its streams' partitions."""
        with self._lock:
            if key not in self._limiters:
                self._limiters[key] = RateLimiter(per_second, window)
            return self._limiters[key]

    def record_failure(self, failure: Failure) -> None:
        with self._lock:
            self._failures.append(failure)
        for listener in self.on_failure:
            listener(failure)

    @property
    def failures(self) -> list[Failure]:
        with self._lock:
            return list(self._failures)
