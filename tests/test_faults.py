"""Faults across all six streams: transient ones heal, permanent ones stay in their
partition, kills lose nothing and re-read at most the window in flight."""

from __future__ import annotations

import pytest

from sandbox.credentials import SECRETS
from tap_convai.timestamps import DAY, parse_timestamp, start_of_day
from tests.keys import (
    REPLICATION_KEY,
    STREAMS,
    VENDOR_KEYS,
    VENDOR_OF,
    assert_runs_equal_truth,
    assert_table_equals_truth,
    record_keys,
    truth_keys,
)
from tests.support.config import every_vendor_config
from tests.support.runner import load_into_postgres, run_tap, run_tap_killed

START, END, END_EXCLUSIVE = "2026-10-01", "2026-10-02", "2026-10-03"


def all_vendors_config(url: str, **overrides) -> dict:
    return every_vendor_config(url, START, END, one_partition=True, max_retries=4,
                               request_timeout=2, retry_initial_delay=0.05, **overrides)


def assert_no_secret(*outputs: str) -> None:
    text = "\n".join(outputs)
    for secret in SECRETS:
        assert secret not in text
    assert "signature=" not in text


TRANSIENT = {
    "429 with Retry-After seconds": [dict(kind="status", status=429, retry_after="1")],
    "429 with Retry-After HTTP date": [dict(kind="status", status=429,
                                            retry_after="http-date:1")],
    "429 without Retry-After": [dict(kind="status", status=429)],
    "500, 502, 503 burst": [dict(kind="status", status=code) for code in (500, 502, 503)],
    "connection dropped": [dict(kind="drop")],
    "connection cut mid-body": [dict(kind="cut")],
    "slower than request_timeout": [dict(kind="latency", seconds=2.5)],
}


@pytest.mark.e2e
@pytest.mark.parametrize("fault", sorted(TRANSIENT))
def test_transient_faults_heal_for_every_vendor(fault, sandbox, tmp_path):
    for vendor in VENDOR_KEYS:
        for rule in TRANSIENT[fault]:
            sandbox.faults.add(vendor=vendor, **rule)
    config = all_vendors_config(sandbox.url)
    run = run_tap(config, tmp_path)

    assert run.returncode == 0, run.stderr[-3000:]
    stats = sandbox.stats.snapshot()
    fired = sum(sum(entry["faults"].values()) for entry in stats.values())
    assert fired == len(VENDOR_KEYS) * len(TRANSIENT[fault])  # every vendor met the fault
    assert_runs_equal_truth([run], sandbox, config, START, END_EXCLUSIVE)
    assert "retry 1 of 4" in run.stderr
    assert_no_secret(run.stderr)


def bookmark_of(state: dict, stream: str) -> list[dict]:
    entry = state.get("bookmarks", {}).get(stream, {})
    return entry.get("partitions", [entry] if entry else [])


PERMANENT = {
    "malformed JSON": ("kore", dict(kind="malformed", count=None),
                       "Kore.ai: kore_interactions [stream_id=st-sbx-1] window 2026-10-01: "
                       "malformed response to GET http://127.0.0.1"),
    "unexpected 4xx": ("agentx", dict(kind="status", status=418, count=None),
                       "AgentX: agentx_conversations [bot_name=r3-218210] window 2026-10-01: "
                       "HTTP 418 for GET http://127.0.0.1"),
    "truncated JSON body": ("aurion", dict(kind="status", status=200, count=None,
                                           body=b'{"agent_performance": ['),
                            "AurionAI: aurion_insights [all] window 2026-10-01:"),
}


@pytest.mark.e2e
@pytest.mark.parametrize("fault", sorted(PERMANENT))
def test_a_permanent_fault_stays_in_its_partition(fault, sandbox, tmp_path):
    vendor, rule, message = PERMANENT[fault]
    sandbox.faults.add(vendor=vendor, **rule)
    config = all_vendors_config(sandbox.url)
    run = run_tap(config, tmp_path)

    assert run.returncode == 1
    assert message in run.stderr
    assert "Run finished with" in run.stderr and "failed partition(s):" in run.stderr
    assert "Traceback" not in run.stderr
    for stream in STREAMS:
        if VENDOR_OF[stream] == vendor:
            assert run.records(stream) == []
            for partition in bookmark_of(run.final_state, stream):
                assert "replication_key_value" not in partition  # the bookmark did not move
        else:
            expected = truth_keys(sandbox, stream, config, START, END_EXCLUSIVE)
            assert record_keys(stream, run.records(stream)) == expected, stream
    assert_no_secret(run.stderr)


def watermarks(state: dict) -> dict[tuple[str, str], str]:
    found = {}
    for stream in STREAMS:
        for partition in bookmark_of(state, stream):
            if value := partition.get("replication_key_value"):
                found[(stream, repr(sorted(partition.get("context", {}).items())))] = value
    return found


def partition_id(stream: str, record: dict) -> tuple[str, str]:
    key = STREAMS[stream][1]
    context = {key: record[key]} if key else {}
    return stream, repr(sorted(context.items()))


@pytest.mark.e2e
@pytest.mark.parametrize("after_states", [1, 4, 7, 10])
def test_killed_anywhere_resumes_with_nothing_lost_and_one_window_reread(
    after_states, sandbox, tmp_path
):
    config = all_vendors_config(sandbox.url)
    killed = run_tap_killed(config, tmp_path, after_states=after_states)
    assert killed.returncode == -9
    resumed = run_tap(config, tmp_path, state=killed.final_state)
    assert resumed.returncode == 0, resumed.stderr[-3000:]

    assert_runs_equal_truth([killed, resumed], sandbox, config, START, END_EXCLUSIVE)
    # Re-read bound: with no lookback, a partition's records before its bookmark are
    # never asked for again; what is emitted twice lies in the window in flight.
    marks = watermarks(killed.final_state)
    for stream in STREAMS:
        before = record_keys(stream, killed.records(stream))
        rk = REPLICATION_KEY[stream]
        for record in resumed.records(stream):
            mark = marks.get(partition_id(stream, record))
            if mark is None:
                continue
            when = parse_timestamp(record[rk])
            assert when >= start_of_day(parse_timestamp(mark)), (stream, record[rk], mark)
        key = STREAMS[stream][2]
        for record in resumed.records(stream):
            if key(record) in before:  # emitted twice: must be the window in flight
                mark = marks.get(partition_id(stream, record))
                low = parse_timestamp(mark) if mark else parse_timestamp(START)
                assert low <= parse_timestamp(record[rk]) < low + DAY, (stream, record[rk])


def test_killed_run_and_its_resume_loaded_into_postgres_equal_the_truth(
    sandbox, pg, tmp_path
):
    """The real pipeline: each run's output into target-postgres as it came out."""
    schema = "faults_kill"
    pg.drop_schema(schema)
    config = all_vendors_config(sandbox.url)
    killed = run_tap_killed(config, tmp_path, after_states=6)
    assert killed.returncode == -9
    load_into_postgres(killed.stdout, pg.target_env(schema), tmp_path)
    resumed = run_tap(config, tmp_path, state=killed.final_state)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    load_into_postgres(resumed.stdout, pg.target_env(schema), tmp_path)

    for stream in STREAMS:  # the records read again were upserted: each key once
        assert_table_equals_truth(pg, schema, sandbox, stream, config, START, END_EXCLUSIVE)
