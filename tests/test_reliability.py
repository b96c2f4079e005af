"""Reliability: signals, abnormal state, schema drift (one vendor, through the real CLI)."""

from __future__ import annotations

import signal

import pytest

from tests.keys import airgentic_keys, airgentic_truth
from tests.support.config import sandbox_config
from tests.support.runner import run_tap, run_tap_killed

pytestmark = pytest.mark.e2e  # every test here runs the tap as a process

STREAM = "airgentic_records"



def partition_state(service_id: str, value: str, key: str = "date_time") -> dict:
    return {"context": {"service_id": service_id}, "replication_key": key,
            "replication_key_value": value}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_sigint_write_state_and_exit_non_zero(sig, sandbox, tmp_path):
    sandbox.faults.add(vendor="airgentic", kind="latency", seconds=0.3, count=None)
    config = sandbox_config(sandbox.url, airgentic={"lookback_days": 0})
    stopped = run_tap_killed(config, tmp_path, after_states=2, sig=sig)

    assert stopped.returncode == 128 + sig
    assert stopped.messages[-1]["type"] == "STATE"
    assert f"Interrupted by {signal.Signals(sig).name}" in stopped.stderr
    assert "Traceback" not in stopped.stderr

    sandbox.faults.clear()
    resumed = run_tap(config, tmp_path, state=stopped.final_state)
    assert resumed.returncode == 0, resumed.stderr
    loaded = airgentic_keys(stopped.records(STREAM)) | airgentic_keys(resumed.records(STREAM))
    assert loaded == airgentic_truth(sandbox)


def test_state_of_an_older_layout_and_unknown_partitions_is_handled(sandbox, tmp_path):
    state = {"bookmarks": {
        STREAM: {
            "replication_key": "date_time",  # stream-level, no partitions: an old layout
            "replication_key_value": "2026-10-05T00:00:00+00:00",
            "partitions": [
                partition_state("retired-service", "2026-10-04T00:00:00.000000Z"),
                partition_state("web", "2026-10-06"),  # a date, not our timestamp form
            ],
        },
        "a_stream_that_no_longer_exists": {"replication_key_value": "x"},
    }}
    config = sandbox_config(sandbox.url, airgentic={"lookback_days": 0})
    run = run_tap(config, tmp_path, state=state)

    assert run.returncode == 0, run.stderr
    web = {r["date_time"] for r in run.records(STREAM) if r["service_id"] == "web"}
    assert min(web) >= "2026-10-06"  # the date bookmark was understood
    support = airgentic_keys(r for r in run.records(STREAM) if r["service_id"] == "support")
    assert support == airgentic_truth(sandbox, service_ids=("support",))  # no bookmark: from start
    final = {p["context"]["service_id"]: p["replication_key_value"]
             for p in run.final_state["bookmarks"][STREAM]["partitions"]}
    assert final["web"] == final["support"] == "2026-10-08T00:00:00.000000Z"
    assert final["retired-service"] == "2026-10-04T00:00:00.000000Z"  # kept, untouched


def test_a_corrupt_bookmark_fails_only_its_partition(sandbox, tmp_path):
    state = {"bookmarks": {STREAM: {"partitions": [partition_state("web", "yesterday-ish")]}}}
    run = run_tap(sandbox_config(sandbox.url), tmp_path, state=state)

    assert run.returncode == 1
    assert (
        "Airgentic: airgentic_records [service_id=web]: the bookmark in the state "
        "('yesterday-ish') is not a timestamp; correct or remove it"
    ) in run.stderr
    assert airgentic_keys(run.records(STREAM)) == airgentic_truth(sandbox, service_ids=("support",))


def test_a_bookmark_of_another_replication_key_is_ignored(sandbox, tmp_path):
    state = {"bookmarks": {STREAM: {"partitions": [
        partition_state("web", "2026-10-06T00:00:00.000000Z", key="updated_at")]}}}
    config = sandbox_config(sandbox.url, airgentic={"service_ids": ["web"]})
    run = run_tap(config, tmp_path, state=state)

    assert run.returncode == 0, run.stderr
    assert airgentic_keys(run.records(STREAM)) == airgentic_truth(sandbox, service_ids=("web",))


def test_an_undocumented_field_is_reported_once_and_the_record_loads(make_sandbox, tmp_path):
    sandbox = make_sandbox(airgentic_extra_field="sentiment_score_v2")
    run = run_tap(sandbox_config(sandbox.url), tmp_path)

    assert run.returncode == 0, run.stderr
    warnings = [line for line in run.stderr.splitlines() if "sentiment_score_v2" in line]
    assert len(warnings) == 1, warnings
    assert "WARNING" in warnings[0] and "airgentic_records" in warnings[0]
    assert airgentic_keys(run.records(STREAM)) == airgentic_truth(sandbox)
