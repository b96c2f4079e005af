"""airgentic_records against the sandbox, through the real CLI."""

from __future__ import annotations

import re

import pytest

from sandbox.credentials import SECRETS
from tests.keys import airgentic_keys, airgentic_truth
from tests.support.config import sandbox_config
from tests.support.runner import run_tap, run_tap_killed

pytestmark = pytest.mark.e2e  # every test here runs the tap as a process

STREAM = "airgentic_records"
END_EXCLUSIVE = "2026-10-08"



def bookmarks(state: dict) -> dict[str, str]:
    partitions = state["bookmarks"][STREAM]["partitions"]
    return {p["context"]["service_id"]: p.get("replication_key_value") for p in partitions}


def test_records_equal_the_sandbox_truth(sandbox, tmp_path):
    run = run_tap(sandbox_config(sandbox.url), tmp_path)

    assert run.returncode == 0, run.stderr
    records = run.records(STREAM)
    assert len(records) == len(airgentic_keys(records)), "duplicate keys emitted"
    assert airgentic_keys(records) == airgentic_truth(sandbox)
    assert all(r["date_time"].endswith("Z") and len(r["date_time"]) == 27 for r in records)
    assert bookmarks(run.final_state) == {
        "web": "2026-10-08T00:00:00.000000Z",
        "support": "2026-10-08T00:00:00.000000Z",
    }


def test_windows_are_emitted_in_order_and_checkpointed(sandbox, tmp_path):
    run = run_tap(sandbox_config(sandbox.url, airgentic={"service_ids": ["web"]}), tmp_path)

    days = [r["date_time"][:10] for r in run.records(STREAM)]
    assert days == sorted(days)  # day by day; inside a day as the API answers, newest first
    watermarks = [bookmarks(s).get("web") for s in run.states()]
    day_ends = [f"2026-10-0{d}T00:00:00.000000Z" for d in range(2, 9)]
    assert [w for w in dict.fromkeys(watermarks) if w] == day_ends  # one STATE per day
    assert "airgentic_records [service_id=web] window 2026-10-03:" in run.stderr


def test_second_run_rereads_only_the_lookback_days(sandbox, tmp_path):
    config = sandbox_config(sandbox.url, airgentic={"lookback_days": 2})
    first = run_tap(config, tmp_path)
    second = run_tap(config, tmp_path, state=first.final_state)

    assert second.returncode == 0, second.stderr
    assert airgentic_keys(second.records(STREAM)) == airgentic_truth(sandbox, start="2026-10-06")
    assert bookmarks(second.final_state) == bookmarks(first.final_state)


def test_a_bookmark_in_the_future_yields_nothing(sandbox, tmp_path):
    state = {"bookmarks": {STREAM: {"partitions": [
        {"context": {"service_id": "web"}, "replication_key": "date_time",
         "replication_key_value": "2099-01-01T00:00:00.000000Z"}]}}}
    config = sandbox_config(sandbox.url, airgentic={"service_ids": ["web"]}, end_date=None)
    run = run_tap(config, tmp_path, state=state)

    assert run.returncode == 0, run.stderr
    assert run.records(STREAM) == []
    assert bookmarks(run.final_state)["web"] == "2099-01-01T00:00:00.000000Z"


def test_killed_run_resumes_at_its_window_and_loses_nothing(sandbox, tmp_path):
    config = sandbox_config(sandbox.url, airgentic={"lookback_days": 0})
    killed = run_tap_killed(config, tmp_path, after_states=3)
    assert killed.returncode == -9
    last_state = killed.final_state

    resumed = run_tap(config, tmp_path, state=last_state)

    assert resumed.returncode == 0, resumed.stderr
    loaded = airgentic_keys(killed.records(STREAM)) | airgentic_keys(resumed.records(STREAM))
    assert loaded == airgentic_truth(sandbox)
    # the resumed run starts at the first window not yet checkpointed, nothing earlier
    web_mark = bookmarks(last_state).get("web")
    resumed_web = [r["date_time"] for r in resumed.records(STREAM) if r["service_id"] == "web"]
    if web_mark:
        assert min(resumed_web) >= web_mark


def test_forbidden_service_fails_alone_with_a_clear_message(sandbox, tmp_path):
    config = sandbox_config(sandbox.url, airgentic={"service_ids": ["forbidden-svc", "web"]})
    run = run_tap(config, tmp_path)

    assert run.returncode == 1
    expected = (
        "Airgentic: airgentic_records [service_id=forbidden-svc] window 2026-10-01: HTTP 403 "
        "for GET http://127.0.0.1"
    )
    assert expected in run.stderr
    assert "the Insights API is not enabled for this service" in run.stderr
    assert "Run finished with 1 failed partition(s):" in run.stderr
    assert "Traceback" not in run.stderr
    assert airgentic_keys(run.records(STREAM)) == airgentic_truth(sandbox, service_ids=("web",))
    marks = bookmarks(run.final_state)
    assert marks["web"] == "2026-10-08T00:00:00.000000Z"
    assert marks.get("forbidden-svc") is None  # the failed partition's bookmark did not move
    for secret in SECRETS:
        assert secret not in run.stderr


def test_missing_service_and_bad_key_name_their_meaning(sandbox, tmp_path):
    missing = run_tap(sandbox_config(sandbox.url, airgentic={"service_ids": ["missing-x"]}),
                      tmp_path)
    assert "HTTP 404" in missing.stderr
    assert "the account/service combination was not found" in missing.stderr

    bad_key = run_tap(sandbox_config(sandbox.url, airgentic={"api_key": "wrong-key-000000"}),
                      tmp_path)
    assert bad_key.returncode == 1
    assert "the api-key header is missing or invalid" in bad_key.stderr
    assert "wrong-key-000000" not in bad_key.stderr


def test_a_day_is_parsed_as_it_arrives_and_a_body_cut_off_is_read_on_from_where_it_was(
    make_sandbox, tmp_path
):
    """The day's body is one JSON document: its records are emitted as they arrive (memory
    does not grow with the day), and a retry skips those already emitted."""
    sandbox = make_sandbox(airgentic_per_day=100)
    sandbox.faults.add(vendor="airgentic", kind="cut", path="start_date=2026-10-02")
    config = sandbox_config(sandbox.url, airgentic={"service_ids": ["web"]},
                            end_date="2026-10-03")
    run = run_tap(config, tmp_path)

    assert run.returncode == 0, run.stderr[-3000:]
    skipped = re.search(r"reading day 2026-10-02 again, skipping its (\d+) records", run.stderr)
    assert skipped and int(skipped.group(1)) > 0, run.stderr[-3000:]
    records = run.records(STREAM)
    assert len(records) == len(airgentic_keys(records)), "a record emitted twice"
    assert airgentic_keys(records) == airgentic_truth(sandbox, ["web"], end="2026-10-04")
