"""What a request takes from the run before it is sent, and what its answer is counted in.

- a turn of its endpoint's limiter (client-side pacing, one limiter per vendor endpoint,
  shared by every worker), then one of the run's in-flight slots (`InFlight`);
- the bytes of its answer, counted per worker thread for the byte budget (`count_bytes`).

Kept apart from the HTTP stack so it can be tested with an injected clock.
"""

from __future__ import annotations

import collections
import contextlib
import math
import threading
import time
import typing as t
from collections import deque
from dataclasses import dataclass

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator


#: round trips shorter than this are local (loopback, same network): the strict rule
NETWORK_TRIP = 0.1
#: how far the server's counting point may move between requests (scheduling, network)
JITTER = 0.03
#: round trips the credit is computed from
RECENT_TRIPS = 16


@dataclass(frozen=True)
class Pace:
    """A vendor's published rate limit as a setting: at most `setting` requests per
    `window` seconds (1 for a per-second limit, 60 for a per-minute one), `default` when
    the setting is not given."""

    setting: str
    window: float
    default: float

    def per_second(self, block: t.Mapping[str, t.Any]) -> float:
        return float(block.get(self.setting) or self.default) / self.window


class Turn:
    """One request's place in its limiter: when it started, and was answered."""

    __slots__ = ("answered_at", "started_at")

    def __init__(self, started_at: float) -> None:
        self.started_at = started_at
        self.answered_at: float | None = None


class RateLimiter:
    """Keeps "at most N requests in any W seconds" as the *server* counts them.

    The server counts a request at some instant between the start of our send and the end
    of its response, and network or scheduling delays move that instant: evenly spaced
    starts with a fixed safety margin are refused as soon as one request is delayed more
    than the margin. So request k+N starts no earlier than W after request k was
    *answered*: their instants are then >= W apart whatever the delays (the strict rule).

    At real-world latency the strict rule loses a round trip per N requests (83% of 3/s
    at 200 ms). When recent round trips are all network-long (>= NETWORK_TRIP) and steady,
    a credit is taken off: the shortest recent round trip, less JITTER and less their
    spread (median - shortest). If the server counts each request at about the same point
    of its round trip, k's instant is at most its answer and k+N's at least its start plus
    that share of a round trip >= the shortest, so they stay >= W apart. A loaded machine
    (spread) or a local server (short trips) gets the strict rule, and after a 429 the
    endpoint keeps the strict rule for the rest of the run.

    N = floor(rate * window) (at least 1), W = N / rate: with the default 1 s window,
    3/s -> 3 per 1 s, 0.5/s -> 1 per 2 s; a per-minute limit passes window=60.

    The limiter starts empty: requests of an earlier process still inside the server's
    window are not known here, so a run started right after another may meet one 429.
    It is honoured: `pause` holds every worker of the endpoint for the Retry-After.
    """

    def __init__(
        self, per_second: float | None, window: float = 1.0, *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_second is None:  # unpaced: only `pause` holds requests back
            self.interval, self.burst, self.window = 0.0, 0, 0.0
        else:
            self.interval = 1.0 / per_second
            self.burst = max(1, math.floor(per_second * window + 1e-9))
            self.window = self.burst * self.interval
        self._clock = clock
        self._next = 0.0
        self._paused_until = 0.0
        self._trips: deque[float] = deque(maxlen=RECENT_TRIPS)  # recent round trips
        self._strict = False  # after a refusal: no credit
        self._recent: deque[Turn] = deque(maxlen=self.burst)
        self._cond = threading.Condition()

    def try_start(self) -> Turn | float | None:
        """A turn if a request may start now; else the seconds to wait, or None while the
        request N places back is still unanswered (wait for it)."""
        with self._cond:
            return self._try_start()

    def _try_start(self) -> Turn | float | None:
        now = self._clock()
        at = max(self._next, self._paused_until)
        if self.burst and len(self._recent) == self.burst:
            answered = self._recent[0].answered_at
            if answered is None:
                return None
            at = max(at, answered + self.window - self._credit)
        if at > now:
            return at - now
        self._next = now + self.interval
        turn = Turn(now)
        if self.burst:
            self._recent.append(turn)
        return turn

    @property
    def _credit(self) -> float:
        """What may be taken off the strict rule (see the class doc)."""
        if self._strict or len(self._trips) < self.burst:
            return 0.0
        trips = sorted(self._trips)
        shortest, median = trips[0], trips[len(trips) // 2]
        if shortest < NETWORK_TRIP:
            return 0.0
        return max(0.0, shortest - JITTER - (median - shortest))

    def answered(self, turn: Turn) -> None:
        with self._cond:
            turn.answered_at = self._clock()
            self._trips.append(turn.answered_at - turn.started_at)
            self._cond.notify_all()

    def pause(self, seconds: float) -> None:
        """No request of this endpoint starts for `seconds` (the server's Retry-After),
        and the strict rule holds from now on."""
        with self._cond:
            self._paused_until = max(self._paused_until, self._clock() + seconds)
            self._strict = True

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """Wait for the turn of one request, and hold it until the request is answered."""
        with self._cond:
            while not isinstance(turn := self._try_start(), Turn):
                self._cond.wait(turn)
        try:
            yield
        finally:
            self.answered(turn)


class InFlight:
    """The most requests in flight at once across the run, and how many are now."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._slots = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self.by_vendor: collections.Counter[str] = collections.Counter()

    def __call__(self, vendor: str) -> t.ContextManager[None]:
        return _Slot(self, vendor)


class _Slot:
    __slots__ = ("owner", "vendor")

    def __init__(self, owner: InFlight, vendor: str) -> None:
        self.owner, self.vendor = owner, vendor

    def __enter__(self) -> None:
        self.owner._slots.acquire()
        with self.owner._lock:
            self.owner.by_vendor[self.vendor] += 1

    def __exit__(self, *exc: object) -> None:
        with self.owner._lock:
            self.owner.by_vendor[self.vendor] -= 1
        self.owner._slots.release()


_counter = threading.local()


def count_bytes(size: int) -> None:
    """Note `size` bytes of response read by this thread (for the budget)."""
    _counter.bytes = getattr(_counter, "bytes", 0) + size


def bytes_read() -> int:
    return getattr(_counter, "bytes", 0)
