"""The shared HTTP layer: retries, Retry-After, give-up, timeouts, pacing, bad bodies."""

from __future__ import annotations

import itertools
import threading
import time

from tap_convai.http import RateLimiter
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


def test_retry_after_seconds_is_honoured(sandbox, tmp_path):
    sandbox.faults.add(vendor="airgentic", kind="status", status=429, retry_after="2")
    run = run_tap(one_day_config(sandbox), tmp_path)

    assert run.returncode == 0, run.stderr
    first, second = arrivals(sandbox)
    assert 2.0 <= second - first < 3.5
    assert airgentic_keys(run.records(STREAM)) == expected_keys(sandbox)
    assert "HTTP 429, retry 1 of 3 in 2.0 s" in run.stderr


def test_retry_after_http_date_is_honoured(sandbox, tmp_path):
    sandbox.faults.add(vendor="airgentic", kind="status", status=503, retry_after="http-date:3")
    run = run_tap(one_day_config(sandbox), tmp_path)

    assert run.returncode == 0, run.stderr
    first, second = arrivals(sandbox)
    assert second - first >= 2.0  # HTTP dates have whole seconds: 3 s ahead, minus < 1 s


def test_backoff_without_retry_after_grows(sandbox, tmp_path):
    sandbox.faults.add(vendor="airgentic", kind="status", status=500, count=3)
    run = run_tap(one_day_config(sandbox, retry_initial_delay=0.2), tmp_path)

    assert run.returncode == 0, run.stderr
    times = arrivals(sandbox)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(gaps) == 3
    # equal jitter: the n-th wait lies in [d/2, d] with d = 0.2 * 2**n
    for n, gap in enumerate(gaps):
        assert 0.1 * 2**n <= gap <= 0.2 * 2**n + 0.25


def test_gives_up_after_max_retries(sandbox, tmp_path):
    sandbox.faults.add(vendor="airgentic", kind="status", status=502, count=None)
    run = run_tap(one_day_config(sandbox, max_retries=2), tmp_path)

    assert run.returncode == 1
    assert len(arrivals(sandbox)) == 3
    assert "HTTP 502 for GET" in run.stderr
    assert "(gave up after 3 tries)" in run.stderr
    assert "Traceback" not in run.stderr


def test_dropped_and_cut_connections_are_retried(sandbox, tmp_path):
    sandbox.faults.add(vendor="airgentic", kind="drop")
    sandbox.faults.add(vendor="airgentic", kind="cut")
    run = run_tap(one_day_config(sandbox), tmp_path)

    assert run.returncode == 0, run.stderr
    assert len(arrivals(sandbox)) == 3
    assert airgentic_keys(run.records(STREAM)) == expected_keys(sandbox)


def test_a_slow_response_times_out_and_is_retried(sandbox, tmp_path):
    sandbox.faults.add(vendor="airgentic", kind="latency", seconds=3)
    run = run_tap(one_day_config(sandbox, request_timeout=1), tmp_path)

    assert run.returncode == 0, run.stderr
    assert "ReadTimeout, retry 1 of 3" in run.stderr
    assert airgentic_keys(run.records(STREAM)) == expected_keys(sandbox)


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


def test_rate_limiter_spaces_requests_at_the_limit():
    limiter = RateLimiter(per_second=20)
    started = time.monotonic()
    stamps = []
    for _ in range(11):
        limiter.wait()
        stamps.append(time.monotonic())
    elapsed = stamps[-1] - started
    rate = 10 / (stamps[-1] - stamps[0])
    assert 18.5 <= rate <= 20.0  # never above the limit, at least ~95% of it
    assert elapsed >= 10 / 20


def test_rate_limiter_is_shared_by_threads():
    limiter = RateLimiter(per_second=50)
    stamps: list[float] = []
    lock = threading.Lock()

    def worker():
        for _ in range(10):
            limiter.wait()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stamps.sort()
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert min(gaps) >= 0.02 * 0.95  # evenly spaced, whatever thread asks
