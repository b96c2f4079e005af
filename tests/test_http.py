"""The shared HTTP layer: retries, Retry-After, give-up, timeouts, pacing, bad bodies."""

from __future__ import annotations

import datetime as dt
import email.utils
import itertools
import random
import re
import threading
import time

import pytest
import requests

from tap_convai.http import MAX_BACKOFF, backoff_delay, retry_after_seconds
from tap_convai.pacing import JITTER, RateLimiter, Turn
from tests.keys import airgentic_keys
from tests.support.config import sandbox_config
from tests.support.runner import run_tap

STREAM = "airgentic_records"
ENDPOINT = "airgentic.raw"
ONE_DAY = {"start_date": "2026-10-01", "end_date": "2026-10-01"}


def one_day_config(sandbox, **overrides):
    return sandbox_config(sandbox.url, airgentic={"service_ids": ["web"]}, **{**ONE_DAY,
                                                                             **overrides})


def arrivals(sandbox) -> list[float]:
    (entry,) = [v for k, v in sandbox.stats.snapshot().items() if k.startswith("airgentic")]
    return entry["times"]


def expected_keys(sandbox):
    return airgentic_keys(sandbox.truth(STREAM, "2026-10-01", "2026-10-02", service_id="web"))


@pytest.mark.e2e
def test_retry_after_seconds_is_honoured(sandbox, tmp_path):
    sandbox.faults.add(vendor="airgentic", kind="status", status=429, retry_after="2")
    run = run_tap(one_day_config(sandbox), tmp_path)

    assert run.returncode == 0, run.stderr
    first, second = arrivals(sandbox)
    assert second - first >= 2.0  # waited at least what the server asked
    assert airgentic_keys(run.records(STREAM)) == expected_keys(sandbox)
    assert "HTTP 429, retry 1 of 3 in 2.0 s" in run.stderr


@pytest.mark.e2e
def test_retry_after_http_date_is_honoured(sandbox, tmp_path):
    sandbox.faults.add(vendor="airgentic", kind="status", status=503, retry_after="http-date:3")
    run = run_tap(one_day_config(sandbox), tmp_path)

    assert run.returncode == 0, run.stderr
    first, second = arrivals(sandbox)
    assert second - first >= 2.0  # HTTP dates have whole seconds: 3 s ahead, minus < 1 s


@pytest.mark.e2e
def test_backoff_without_retry_after_grows(sandbox, tmp_path):
    sandbox.faults.add(vendor="airgentic", kind="status", status=500, count=3)
    run = run_tap(one_day_config(sandbox, retry_initial_delay=0.2), tmp_path)

    assert run.returncode == 0, run.stderr
    times = arrivals(sandbox)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(gaps) == 3
    # equal jitter: the n-th wait is at least d/2 with d = 0.2 * 2**n (bounds: below)
    for n, gap in enumerate(gaps):
        assert gap >= 0.1 * 2**n
    waits = [float(w) for w in re.findall(r"HTTP 500, retry \d of 3 in ([\d.]+) s", run.stderr)]
    assert len(waits) == 3
    for n, wait in enumerate(waits):
        assert 0.1 * 2**n - 0.05 <= wait <= 0.2 * 2**n + 0.05  # as logged, rounded to 0.1


def test_backoff_delay_doubles_with_equal_jitter_and_is_capped():
    rng = random.Random(3)
    for attempt in range(10):
        ceiling = min(MAX_BACKOFF, 0.5 * 2**attempt)
        delays = [backoff_delay(attempt, 0.5, rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert max(delays) - min(delays) > ceiling / 4  # jittered, not fixed
    assert backoff_delay(30, 0.5, rng) <= MAX_BACKOFF


def _answer(headers: dict[str, str]) -> requests.Response:
    response = requests.Response()
    response.status_code = 429
    response.headers.update(headers)
    return response


def test_retry_after_in_seconds_or_as_an_http_date():
    now = dt.datetime(2026, 10, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
    assert retry_after_seconds(_answer({"Retry-After": "7"}), now) == 7.0
    assert retry_after_seconds(_answer({"Retry-After": " 1.5 "}), now) == 1.5
    date = email.utils.format_datetime(now + dt.timedelta(seconds=42), usegmt=True)
    assert retry_after_seconds(_answer({"Retry-After": date}), now) == 42.0
    past = email.utils.format_datetime(now - dt.timedelta(seconds=42), usegmt=True)
    assert retry_after_seconds(_answer({"Retry-After": past}), now) == 0.0
    assert retry_after_seconds(_answer({"Retry-After": "soon"}), now) is None
    assert retry_after_seconds(_answer({}), now) is None
    assert retry_after_seconds(None, now) is None


@pytest.mark.e2e
def test_gives_up_after_max_retries(sandbox, tmp_path):
    sandbox.faults.add(vendor="airgentic", kind="status", status=502, count=None)
    run = run_tap(one_day_config(sandbox, max_retries=2), tmp_path)

    assert run.returncode == 1
    assert len(arrivals(sandbox)) == 3
    assert "HTTP 502 for GET" in run.stderr
    assert "(gave up after 3 tries)" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.e2e
def test_dropped_and_cut_connections_are_retried(sandbox, tmp_path):
    sandbox.faults.add(vendor="airgentic", kind="drop")
    sandbox.faults.add(vendor="airgentic", kind="cut")
    run = run_tap(one_day_config(sandbox), tmp_path)

    assert run.returncode == 0, run.stderr
    assert len(arrivals(sandbox)) == 3
    assert airgentic_keys(run.records(STREAM)) == expected_keys(sandbox)


@pytest.mark.e2e
def test_a_slow_response_times_out_and_is_retried(sandbox, tmp_path):
    sandbox.faults.add(vendor="airgentic", kind="latency", seconds=3)
    run = run_tap(one_day_config(sandbox, request_timeout=1), tmp_path)

    assert run.returncode == 0, run.stderr
    assert "ReadTimeout, retry 1 of 3" in run.stderr
    assert airgentic_keys(run.records(STREAM)) == expected_keys(sandbox)


@pytest.mark.e2e
def test_malformed_body_is_an_error_naming_stream_and_request(sandbox, tmp_path):
    sandbox.faults.add(vendor="airgentic", kind="malformed")
    run = run_tap(one_day_config(sandbox), tmp_path)

    assert run.returncode == 1
    assert (
        "Airgentic: airgentic_records [service_id=web] window 2026-10-01: malformed response "
        "to GET http://127.0.0.1"
    ) in run.stderr
    assert run.records(STREAM) == []
    assert "Traceback" not in run.stderr


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def start(limiter: RateLimiter) -> Turn:
    turn = limiter.try_start()
    assert isinstance(turn, Turn), f"expected to start, got {turn!r}"
    return turn


def test_rate_limiter_spaces_starts_at_the_rate():
    clock = FakeClock()
    limiter = RateLimiter(per_second=20, clock=clock)
    for _ in range(10):
        limiter.answered(start(limiter))
        assert limiter.try_start() == pytest.approx(0.05)  # the next start: 1/20 s later
        clock.now += 0.05


def test_rate_limiter_holds_the_nth_request_until_the_first_was_answered():
    clock = FakeClock()
    limiter = RateLimiter(per_second=3, clock=clock)  # 3 per 1 s, starts 1/3 s apart
    assert limiter.burst == 3 and limiter.window == pytest.approx(1.0)
    first = start(limiter)
    clock.now += 1 / 3
    second = start(limiter)
    clock.now += 1 / 3
    third = start(limiter)
    clock.now += 1 / 3
    assert limiter.try_start() is None  # the first is still in flight: wait for its answer
    clock.now += 0.5
    limiter.answered(first)  # answered at +1.5 s
    assert limiter.try_start() == pytest.approx(1.0)  # not before +2.5 s
    clock.now += 1.0
    fourth = start(limiter)
    for turn in (second, third, fourth):
        limiter.answered(turn)


def test_rate_limiter_is_strict_while_round_trips_are_within_the_jitter():
    clock = FakeClock()
    limiter = RateLimiter(per_second=3, clock=clock)
    for _ in range(3):
        turn = start(limiter)
        clock.now += 0.01
        limiter.answered(turn)  # 10 ms round trips (loopback)
        clock.now += 1 / 3 - 0.01
    # now +1.0 s; the fourth waits for 1 s after the first's answer (+1.01 s), strictly
    assert limiter.try_start() == pytest.approx(0.01)


def run_back_to_back(limiter, clock, trips, count=30) -> list[float]:
    """Start `count` requests as soon as the limiter lets them, each answered after the
    next of `trips` seconds; their start times."""
    in_flight: list[tuple[float, Turn]] = []  # (answer time, turn)
    starts: list[float] = []
    trips = iter(trips)
    while len(starts) < count:
        for due, turn in [x for x in in_flight if x[0] <= clock.now]:
            limiter.answered(turn)
            in_flight.remove((due, turn))
        turn = limiter.try_start()
        if isinstance(turn, Turn):
            starts.append(clock.now)
            in_flight.append((clock.now + next(trips), turn))
        else:
            clock.now += 0.001
    for due, turn in sorted(in_flight, key=lambda x: x[0]):  # all answered before returning
        clock.now = max(clock.now, due)
        limiter.answered(turn)
    return starts


def rate_of(starts: list[float]) -> float:
    return (len(starts) - 1) / (starts[-1] - starts[0])


def test_rate_limiter_keeps_the_full_rate_at_real_world_latency():
    clock = FakeClock()
    limiter = RateLimiter(per_second=3, clock=clock)
    starts = run_back_to_back(limiter, clock, itertools.repeat(0.2))  # 200 ms round trips
    assert rate_of(starts) >= 0.95 * 3
    # any N = 3 starts: at least W apart, less what the fastest round trip allows
    closest = min(b - a for a, b in zip(starts, starts[3:], strict=False))
    assert closest >= 1.0 - (0.2 - JITTER) - 0.002


def test_rate_limiter_is_strict_when_round_trips_spread_or_after_a_refusal():
    clock = FakeClock()
    spread = RateLimiter(per_second=3, clock=clock)  # a loaded machine: 100..400 ms
    starts = run_back_to_back(spread, clock, itertools.cycle((0.1, 0.4, 0.25, 0.3)))
    strict_gap = min(b - a for a, b in zip(starts, starts[3:], strict=False))
    assert strict_gap >= 1.0 + 0.1 - 1e-6  # W after an answer, nothing taken off

    clock = FakeClock()
    refused = RateLimiter(per_second=3, clock=clock)
    run_back_to_back(refused, clock, itertools.repeat(0.2))
    refused.pause(0.0)  # a 429 (with a Retry-After already over)
    after = run_back_to_back(refused, clock, itertools.repeat(0.2), count=12)
    # the strict rule: the 4th starts 1 s after the 1st was answered, 200 ms after its start
    assert min(b - a for a, b in zip(after, after[3:], strict=False)) >= 1.2 - 1e-6


def test_rate_limiter_per_minute_counts_from_the_answer_of_the_nth_request_back():
    clock = FakeClock()
    limiter = RateLimiter(per_second=2 / 60, window=60, clock=clock)  # 2 per minute
    assert limiter.burst == 2 and limiter.window == pytest.approx(60)
    limiter.answered(start(limiter))  # an instant answer: no round trip to take off
    clock.now += 30
    slow = start(limiter)
    clock.now += 50
    limiter.answered(slow)  # a slow request: answered 50 s after it started
    clock.now += 10  # +90 s; the third may start 60 s after the first's answer: now
    third = start(limiter)
    clock.now += 30
    limiter.answered(third)
    assert limiter.try_start() == pytest.approx(20)  # +140 s: 60 s after `slow` answered


def test_rate_limiter_pause_holds_every_worker_for_retry_after():
    clock = FakeClock()
    limiter = RateLimiter(per_second=10, clock=clock)
    limiter.answered(start(limiter))
    clock.now += 1
    limiter.pause(5)
    assert limiter.try_start() == pytest.approx(5)
    clock.now += 5
    limiter.answered(start(limiter))
    limiter.pause(1)
    limiter.pause(0.5)  # a shorter pause never shortens a longer one
    assert limiter.try_start() == pytest.approx(1)


def test_rate_limiter_is_shared_by_threads():
    """Threads waiting in `slot` take turns one at a time: never more in flight than the
    burst, each turn answered before the one `burst` places later starts."""
    limiter = RateLimiter(per_second=1000, window=0.002)  # burst of 2
    in_flight, most = 0, 0
    lock = threading.Lock()

    def worker():
        nonlocal in_flight, most
        for _ in range(20):
            with limiter.slot():
                with lock:
                    in_flight += 1
                    most = max(most, in_flight)
                time.sleep(0.001)
                with lock:
                    in_flight -= 1

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most <= limiter.burst
    assert in_flight == 0
