"""Concurrency: requests of windows, partitions, streams and vendors overlap, within
`max_concurrency` and the vendors' limits, and the output and the state stay exact."""

from __future__ import annotations

import datetime as dt
import logging
import threading

import pytest
import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_convai.concurrency import (
    CHUNK_BYTES,
    CHUNK_RECORDS,
    Budget,
    Progress,
    StreamFetcher,
    Unit,
    WorkerStopped,
    context_key,
    iter_written,
)
from tap_convai.pacing import InFlight, count_bytes
from tap_convai.tap import TapConvAI
from tap_convai.timestamps import parse_timestamp
from tests.keys import (
    REPLICATION_KEY,
    STREAMS,
    assert_runs_equal_truth,
    partitions,
    record_keys,
    truth_keys,
)
from tests.support.config import every_vendor_config, sandbox_config
from tests.support.runner import run_tap, run_tap_killed

START, END, END_EXCLUSIVE = "2026-10-01", "2026-10-07", "2026-10-08"


def all_vendors(url: str, **overrides) -> dict:
    return every_vendor_config(url, START, END, retry_initial_delay=0.05, **overrides)


def partition_of(stream: str, record: dict) -> tuple:
    key = STREAMS[stream][1]
    return (stream, record[key]) if key else (stream, None)


def bookmarks(state: dict) -> dict[tuple, str]:
    """(stream, partition value) -> bookmark, of one STATE."""
    out = {}
    for stream, entry in state.get("bookmarks", {}).items():
        key = STREAMS[stream][1]
        for part in entry.get("partitions") or [entry]:
            value = part.get("replication_key_value")
            if value:
                out[(stream, part["context"][key] if key else None)] = value
    return out


def assert_no_bookmark_passes_an_unwritten_record(run, sandbox, config) -> None:
    """At every STATE, each partition's records of the days before its bookmark (windows
    are UTC days) were all written before it."""
    day_keys: dict[tuple, list[tuple[dt.datetime, set]]] = {}
    first = dt.date.fromisoformat(START)
    for stream in STREAMS:
        for partition in partitions(stream, config):
            value = next(iter(partition.values()), None)
            day_keys[(stream, value)] = [
                (day_start(first + dt.timedelta(days=i + 1)), record_keys(stream, sandbox.truth(
                    stream, first + dt.timedelta(days=i), first + dt.timedelta(days=i + 1),
                    **partition)))
                for i in range(7)
            ]
    written: dict[tuple, set] = {}
    checked = 0
    for message in run.messages:
        if message["type"] == "RECORD":
            stream, record = message["stream"], message["record"]
            written.setdefault(partition_of(stream, record), set()).update(
                record_keys(stream, [record]))
        elif message["type"] == "STATE":
            for where, mark in bookmarks(message["value"]).items():
                due = set().union(*(keys for end, keys in day_keys[where]
                                    if end <= parse_timestamp(mark)))
                missing = due - written.get(where, set())
                assert not missing, (where, mark, len(missing))
                checked += 1
    assert checked > 20  # the check really ran over many STATE messages


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)


def timestamp(stream: str, record: dict) -> dt.datetime:
    """The replication key of an emitted record, as a time."""
    return parse_timestamp(record[REPLICATION_KEY[stream]])


# -- overlap and its bounds ---------------------------------------------------------------


@pytest.mark.e2e
def test_requests_overlap_up_to_max_concurrency_and_never_more(make_sandbox, tmp_path):
    # the sandbox holds the first requests until 4 are in flight together (once)
    sandbox = make_sandbox(hold_until_in_flight=4, latency=0.02)
    config = sandbox_config(sandbox.url, vendors=("airgentic", "aurion"), max_concurrency=4)
    run = run_tap(config, tmp_path)

    assert run.returncode == 0, run.stderr[-3000:]
    assert sandbox.in_flight.gathered  # 4 requests of windows/partitions/vendors overlapped
    assert sandbox.in_flight.peak == 4  # and never more than max_concurrency
    for stream in ("airgentic_records", "aurion_insights"):
        assert record_keys(stream, run.records(stream)) == truth_keys(
            sandbox, stream, config, START, END_EXCLUSIVE)


@pytest.mark.e2e
def test_max_concurrency_one_sends_one_request_at_a_time(make_sandbox, tmp_path):
    sandbox = make_sandbox(latency=0.01)
    config = all_vendors(sandbox.url, max_concurrency=1)
    run = run_tap(config, tmp_path)

    assert run.returncode == 0, run.stderr[-3000:]
    assert sandbox.in_flight.peak == 1
    assert_runs_equal_truth([run], sandbox, config, START, END_EXCLUSIVE)


@pytest.mark.e2e
def test_every_vendor_at_once_equals_a_sequential_run(sandbox, tmp_path):
    config = all_vendors(sandbox.url)
    sequential = run_tap({**config, "max_concurrency": 1}, tmp_path)
    concurrent = run_tap(config, tmp_path)

    assert sequential.returncode == concurrent.returncode == 0, concurrent.stderr[-3000:]
    assert_runs_equal_truth([concurrent], sandbox, config, START, END_EXCLUSIVE)
    assert concurrent.final_state == sequential.final_state
    for stream in STREAMS:  # each stream's SCHEMA comes before its records
        kinds = [m["type"] for m in concurrent.messages
                 if m.get("stream") == stream and m["type"] in ("SCHEMA", "RECORD")]
        assert kinds[0] == "SCHEMA" and "SCHEMA" not in kinds[1:], stream
    assert_no_bookmark_passes_an_unwritten_record(concurrent, sandbox, config)


# -- windows completing out of order ---------------------------------------------------------


def slow_first_window(sandbox) -> None:
    """The first day of service `web` answers late: the later days complete before it."""
    sandbox.faults.add(vendor="airgentic", kind="latency", seconds=1.5,
                       path="service_id=web&start_date=2026-10-01")


@pytest.mark.e2e
def test_a_slow_window_holds_its_bookmark_while_later_windows_finish(sandbox, tmp_path):
    slow_first_window(sandbox)
    config = all_vendors(sandbox.url)
    run = run_tap(config, tmp_path)

    assert run.returncode == 0, run.stderr[-3000:]
    assert_runs_equal_truth([run], sandbox, config, START, END_EXCLUSIVE)
    assert_no_bookmark_passes_an_unwritten_record(run, sandbox, config)
    marks = [bookmarks(s).get(("airgentic_records", "web")) for s in run.states()]
    days = [m for m in dict.fromkeys(marks) if m]
    assert days == [f"2026-10-{d:02d}T00:00:00.000000Z" for d in range(2, 9)]  # in order


@pytest.mark.e2e
@pytest.mark.parametrize("after_states", [1, 3, 8])
def test_killed_while_windows_finish_out_of_order_resumes_with_nothing_lost(
    after_states, sandbox, tmp_path
):
    slow_first_window(sandbox)
    config = all_vendors(sandbox.url)
    killed = run_tap_killed(config, tmp_path, after_states=after_states)
    assert killed.returncode == -9
    sandbox.faults.clear()
    resumed = run_tap(config, tmp_path, state=killed.final_state)

    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert_runs_equal_truth([killed, resumed], sandbox, config, START, END_EXCLUSIVE)
    # the resume re-reads nothing before a bookmark (no lookback): only unwritten windows
    marks = bookmarks(killed.final_state)
    for stream in STREAMS:
        for record in resumed.records(stream):
            mark = marks.get(partition_of(stream, record))
            if mark is not None:
                assert timestamp(stream, record) >= parse_timestamp(mark), (stream, mark)


# -- failures under concurrency ----------------------------------------------------------------


@pytest.mark.e2e
def test_a_failing_middle_window_stops_its_partition_there_and_nothing_else(sandbox, tmp_path):
    sandbox.faults.add(vendor="airgentic", kind="malformed",
                       path="service_id=web&start_date=2026-10-04")
    config = all_vendors(sandbox.url)
    run = run_tap(config, tmp_path)

    assert run.returncode == 1
    assert "window 2026-10-04: malformed response" in run.stderr
    web = [r for r in run.records("airgentic_records") if r["partition_id"] == "acme_web"]
    expected_web = record_keys("airgentic_records", sandbox.truth(
        "airgentic_records", START, "2026-10-04", service_id="web"))
    assert record_keys("airgentic_records", web) == expected_web  # up to the failed day only
    assert bookmarks(run.final_state)[("airgentic_records", "web")] == \
        "2026-10-04T00:00:00.000000Z"
    others = [r for r in run.records("airgentic_records") if r["partition_id"] != "acme_web"]
    assert record_keys("airgentic_records", others) == truth_keys(
        sandbox, "airgentic_records", {"airgentic": {"service_ids": ["support"]}}, START,
        END_EXCLUSIVE)
    for stream in STREAMS:
        if stream != "airgentic_records":
            assert record_keys(stream, run.records(stream)) == truth_keys(
                sandbox, stream, config, START, END_EXCLUSIVE), stream


# -- in process: the pieces ---------------------------------------------------------------------


def test_a_retry_after_pauses_the_endpoint_for_every_worker(sandbox):
    tap = TapConvAI(config=sandbox_config(sandbox.url, vendors=("agentx",)))
    stream = tap.streams["agentx_messages"]
    response = requests.Response()
    response.status_code = 429
    response.headers["Retry-After"] = "5"
    waits = stream.backoff_wait_generator()
    next(waits)
    assert waits.send(RetriableAPIError("refused", response)) == 5.0
    wait = stream.limiter.try_start()  # any worker's next request to the endpoint
    assert isinstance(wait, float) and 4.0 < wait <= 5.0
    other = tap.streams["agentx_conversations"].limiter.try_start()
    assert not isinstance(other, float)  # the other endpoint is not held


def test_the_budget_holds_workers_back_but_never_the_window_being_written():
    budget = Budget(limit=100)
    head, ahead = Unit("p", {}, None), Unit("p", {}, None)
    budget.put(ahead, [{"n": 1}], 100)  # the budget is spent by a window fetched ahead
    assert budget.used == 100
    assert not budget._room(ahead, 1)  # that worker would wait
    budget.head = head
    assert budget._room(head, 50)  # the window being written goes on while it is empty
    budget.put(head, [{"n": 2}], 50)
    assert not budget._room(head, 50)  # ...but not further ahead of the writer
    assert budget.take(head) == [{"n": 2}] and budget.used == 100
    budget.finish(head)
    assert budget.take(head) is None
    budget.cancel([ahead])
    assert budget.used == 0


def test_a_cancelled_window_is_never_taken_for_complete():
    budget = Budget()
    unit = Unit("p", {}, None)
    budget.cancel([unit])
    budget.finish(unit)
    with pytest.raises(RuntimeError, match="cancelled"):
        budget.take(unit)


def test_progress_lines_per_vendor(caplog):
    clock = [100.0]
    in_flight = InFlight(8)
    progress = Progress(in_flight, logging.getLogger("t"), clock=lambda: clock[0])
    fetcher = StreamFetcher.__new__(StreamFetcher)  # its counters only
    fetcher.total, fetcher.written = 10, 0
    progress.add("agentx", fetcher)
    with in_flight("agentx"):
        clock[0] += 10
        progress.written("agentx", fetcher, 500)
        progress.written("agentx", fetcher, 300)
        assert progress.lines() == [
            "progress agentx: 80 records/s, 1 requests in flight, 8 windows left, "
            "800 records written"]
    clock[0] += 10
    fetcher.written = 10
    assert progress.lines() == []  # nothing left and nothing new: silent


def _one_window(records, budget: Budget) -> StreamFetcher:
    """A fetcher of one stand-in stream: one partition, one window of `records()`."""
    key = context_key(None)
    return StreamFetcher("stand_in", {key: [Unit(key, {}, None)]}, lambda unit: records(),
                         budget, workers=1)


def _written(fetcher: StreamFetcher, budget: Budget) -> list[dict]:
    (unit,) = fetcher.take_partition(None)
    return [record for chunk in iter_written(budget, unit) for record in chunk]


class _WatchedBudget(Budget):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.putting = threading.Event()

    def put(self, unit, records, size) -> None:
        self.putting.set()  # the first hand-over (which waits: the budget is too small)
        super().put(unit, records, size)


def test_the_budget_counts_a_window_s_bytes_before_its_records_are_held():
    """Records are handed over as they are read, so a worker whose budget is spent stops
    after one hand-over's worth of records (sorting a window first read all of them)."""
    budget = _WatchedBudget(limit=64 * 1024)
    read = []

    def records():
        for n in range(3 * CHUNK_RECORDS):
            count_bytes(1000)  # as the body's bytes arrive
            read.append(n)
            yield {"n": n}

    fetcher = _one_window(records, budget)
    assert budget.putting.wait(60)  # a hang guard, not a timing check
    handover = min(CHUNK_RECORDS, -(-CHUNK_BYTES // 1000))  # records of one hand-over
    assert len(read) == handover  # the writer takes nothing: the worker waits there
    fetcher.cancel(fetcher.take_partition(None))


def test_a_base_exception_in_a_worker_fails_its_window_instead_of_stopping_the_writer():
    def records():
        yield {"n": 1}
        raise SystemExit(3)  # e.g. a library that calls sys.exit()

    budget = Budget()
    fetcher = _one_window(records, budget)
    outcome: list = []

    def write():
        try:
            outcome.append(_written(fetcher, budget))
        except Exception as exc:
            outcome.append(exc)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    writer.join(timeout=60)  # a hang guard, not a timing check
    assert not writer.is_alive(), "the writer waits forever for the window"
    assert isinstance(outcome[0], WorkerStopped) and "SystemExit" in str(outcome[0])
