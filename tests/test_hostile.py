"""Hostile and broken servers (sandbox/hostile.py): no credential reaches another host, no
answer hangs the run, fills the memory or stops the other vendors.

Each bad server fails only its partition, with one line; every other partition of every
vendor completes with exactly its keys; the run ends by itself (`run_tap`'s timeout is a
hang guard only) and exits non-zero.
"""

from __future__ import annotations

import copy
import datetime as dt
import email.utils
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from sandbox.credentials import SANDBOX, SECRETS
from tap_convai.http import retry_after_seconds
from tests.keys import STREAMS, VENDOR_OF, record_keys, truth_keys
from tests.support.config import every_vendor_config
from tests.support.runner import TAP, check_output, run_tap

START, END, END_EXCLUSIVE = "2026-10-01", "2026-10-02", "2026-10-03"
HANG_GUARD = 240  # seconds: a run that has not ended by then hangs (never a timing check)
SECOND_ZENDESK_BOT = "bad-bot"
#: per vendor: (partition setting, the partition a switch targets, how to match its requests)
TARGETS = {
    "airgentic": ("service_ids", "support", "service_id=support"),
    "agentx": ("bot_names", "helpdesk", "bot_name=helpdesk"),
    "kore": ("stream_id", None, "/agentassistinteractions"),  # one partition: the vendor
    "aurion": (None, None, "/analytics/conversations/insights"),  # no partitions: the vendor
    "zendesk_ai": ("bot_ids", SECOND_ZENDESK_BOT, f"botId: {SECOND_ZENDESK_BOT}"),
}


def config_for(url: str, **overrides) -> dict:
    """Every vendor; the partitioned ones with a second partition for switches to target."""
    settings = {"max_retries": 1, "request_timeout": 2, "retry_initial_delay": 0.05,
                **overrides}
    config = every_vendor_config(url, START, END, one_partition=True, **settings)
    config["airgentic"]["service_ids"] = ["web", "support"]
    config["agentx"]["bot_names"] = ["r3-218210", "helpdesk"]
    config["zendesk_ai"]["bot_ids"] = [*config["zendesk_ai"]["bot_ids"], SECOND_ZENDESK_BOT]
    return config


def without(config: dict, vendor: str) -> dict:
    """`config` without the targeted partition (or vendor): what must complete."""
    setting, partition, _ = TARGETS[vendor]
    good = copy.deepcopy(config)
    if partition is None:
        del good[vendor]
    else:
        good[vendor][setting] = [p for p in good[vendor][setting] if p != partition]
    return good


def bookmarks_of(state: dict, stream: str) -> list[dict]:
    entry = state.get("bookmarks", {}).get(stream, {})
    return entry.get("partitions", [entry] if entry else [])


def assert_only_the_target_failed(run, sandbox, config: dict, vendor: str, message: str):
    """The targeted partition failed with one line holding `message`, its bookmark did
    not move and it emitted nothing it does not have; all the rest is exact."""
    assert run.returncode == 1, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    streams = sum(1 for stream in STREAMS if VENDOR_OF[stream] == vendor)  # AgentX has two
    assert f"Run finished with {streams} failed partition(s):" in run.stderr, run.stderr[-3000:]
    # the summary's lines (a worker's request still under way may log after it)
    after = run.stderr.split("failed partition(s):")[1].splitlines()[1:]
    summary = [line for line in after if re.search(r"\| tap-convai +\|   \S", line)]
    assert len(summary) == streams and all(message in line for line in summary), summary
    good = without(config, vendor)
    _setting, partition, _ = TARGETS[vendor]
    for stream in STREAMS:
        emitted = record_keys(stream, run.records(stream))
        if VENDOR_OF[stream] in good:
            expected = truth_keys(sandbox, stream, good, START, END_EXCLUSIVE)
            assert expected, stream
            # what the failed partition emitted before it failed is its own
            own = (truth_keys(sandbox, stream, config, START, END_EXCLUSIVE)
                   if VENDOR_OF[stream] == vendor else expected)
            assert expected <= emitted <= own, stream
        else:
            assert emitted <= truth_keys(sandbox, stream, config, START, END_EXCLUSIVE), stream
        if VENDOR_OF[stream] == vendor:
            key = STREAMS[stream][1]
            for entry in bookmarks_of(run.final_state, stream):
                if partition is None or entry.get("context", {}).get(key) == partition:
                    assert "replication_key_value" not in entry, (stream, entry)


def assert_nothing_reached_the_foreign_host(sandbox):
    assert sandbox.hostile.foreign.received == []


def assert_no_credential_in(received: list[dict]):
    sent = "\n".join(f"{k}: {v}" for request in received for k, v in request["headers"].items())
    for secret in SECRETS:
        assert secret not in sent
    for credentials in SANDBOX.values():
        for value in credentials.values():
            assert value not in sent
    vendor_headers = {"api-key", "x-api-key", "auth", "accountid", "authorization",
                      "organizationid", "botid"}
    for request in received:
        assert not vendor_headers & {name.lower() for name in request["headers"]}


# -- 1, 2: redirects --------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.parametrize("vendor", sorted(TARGETS))
def test_a_redirect_is_an_error_naming_its_host_and_no_credential_leaves(vendor, make_sandbox,
                                                                         tmp_path):
    sandbox = make_sandbox(hostile_redirect=TARGETS[vendor][2], hostile_redirect_status=307)
    config = config_for(sandbox.url)
    run = run_tap(config, tmp_path, timeout=HANG_GUARD)

    foreign = sandbox.hostile.foreign
    assert_nothing_reached_the_foreign_host(sandbox)
    assert_only_the_target_failed(run, sandbox, config, vendor,
                                  f"redirects to {foreign.url.split('//')[1]}")
    assert "?" not in next(line for line in run.stderr.splitlines() if "redirects to" in line)


@pytest.mark.e2e
def test_a_redirect_of_a_kore_session_filter_is_not_turned_into_an_unfiltered_get(
    make_sandbox, tmp_path
):
    sandbox = make_sandbox(hostile_redirect="/agentassistinteractions",
                           hostile_redirect_status=302)
    config = config_for(sandbox.url, kore={"session_ids": ["s-1"]})
    run = run_tap(config, tmp_path, timeout=HANG_GUARD)

    assert_nothing_reached_the_foreign_host(sandbox)
    assert_only_the_target_failed(run, sandbox, config, "kore", "HTTP 302 for POST")


@pytest.mark.e2e
@pytest.mark.parametrize("vendor, concurrency", [("airgentic", 1), ("agentx", 8)])
def test_a_redirect_holds_no_slot_or_limiter_turn(vendor, concurrency, make_sandbox, tmp_path):
    """One redirect used to re-enter the session while its request held the only slot
    (max_concurrency 1), or AgentX's limiter turn: the run waited forever."""
    sandbox = make_sandbox(hostile_redirect=TARGETS[vendor][2], hostile_redirect_status=301)
    config = config_for(sandbox.url, max_concurrency=concurrency, request_timeout=3)
    run = run_tap(config, tmp_path, timeout=HANG_GUARD)

    assert_only_the_target_failed(run, sandbox, config, vendor, "HTTP 301")


# -- 4: signed URLs ---------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.parametrize("base, problem", [
    ("http://[::ffff:127.0.0.1]:{port}", "plain http:// to ::ffff:127.0.0.1"),
    ("https://169.254.169.254", "169.254.169.254 is not a public address"),
    ("https://[::ffff:127.0.0.1]:{port}", "::ffff:127.0.0.1 is not a public address"),
])
def test_a_signed_url_that_is_not_https_or_not_public_is_refused(base, problem, make_sandbox,
                                                                 tmp_path):
    sandbox = make_sandbox(hostile_signed_urls=TARGETS["zendesk_ai"][2])
    sandbox.options["hostile_signed_url_base"] = base.format(port=sandbox.hostile.foreign.port)
    config = config_for(sandbox.url)
    run = run_tap(config, tmp_path, timeout=HANG_GUARD)

    assert_nothing_reached_the_foreign_host(sandbox)
    assert_only_the_target_failed(run, sandbox, config, "zendesk_ai",
                                  f"a signed URL of the export is refused: {problem}")


@pytest.mark.e2e
def test_signed_urls_on_another_host_are_fetched_without_any_vendor_header(make_sandbox,
                                                                          tmp_path):
    sandbox = make_sandbox(hostile_signed_urls=True, hostile_signed_url_base="foreign")
    config = config_for(sandbox.url)
    run = run_tap(config, tmp_path, timeout=HANG_GUARD)

    assert run.returncode == 0, run.stderr[-3000:]
    received = sandbox.hostile.foreign.received
    assert received and all(r["target"].startswith("/files/") for r in received)
    assert_no_credential_in(received)
    stream = "zendesk_ai_conversations"
    expected = truth_keys(sandbox, stream, config, START, END_EXCLUSIVE)
    assert expected and record_keys(stream, run.records(stream)) == expected


# -- 5, 8: hostile bodies ---------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.parametrize("vendor, target, message", [
    ("zendesk_ai", f"/files/{SECOND_ZENDESK_BOT}/", "nested deeper than 256 levels"),
    ("airgentic", "service_id=support", "nested deeper than 256 levels"),
    ("agentx", "bot_name=helpdesk", "nested too deep to read"),
])
def test_a_deeply_nested_record_fails_its_partition_only(vendor, target, message, make_sandbox,
                                                         tmp_path):
    sandbox = make_sandbox(hostile_deep_nesting=target, hostile_nesting_depth=5000)
    config = config_for(sandbox.url)
    run = run_tap(config, tmp_path, timeout=HANG_GUARD)

    assert_only_the_target_failed(run, sandbox, config, vendor, message)


@pytest.mark.e2e
@pytest.mark.parametrize("vendor, target, message", [
    ("zendesk_ai", f"/files/{SECOND_ZENDESK_BOT}/", "inflates more than 200 times"),
    ("airgentic", "service_id=support", "inflates more than 200 times"),
    ("kore", "/agentassistinteractions", "inflates more than 200 times"),
])
def test_a_gzip_bomb_fails_its_partition_only(vendor, target, message, make_sandbox, tmp_path):
    sandbox = make_sandbox(hostile_gzip_bomb=target, hostile_gzip_bomb_mb=256)
    config = config_for(sandbox.url)
    run = run_tap(config, tmp_path, timeout=HANG_GUARD)

    assert_only_the_target_failed(run, sandbox, config, vendor, message)


# -- 6: paging ends ---------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.parametrize("switch, vendor, message", [
    ("hostile_cursor_cycle", "agentx", "repeats an earlier page's: paging would never end"),
    ("hostile_more_forever", "kore", "brings no new record: paging would never end"),
    ("hostile_offset_ignored", "kore", "brings no new record: paging would never end"),
])
def test_paging_that_would_never_end_fails_its_partition(switch, vendor, message,
                                                         make_sandbox, tmp_path):
    sandbox = make_sandbox(**{switch: TARGETS[vendor][2]})
    config = config_for(sandbox.url)
    run = run_tap(config, tmp_path, timeout=HANG_GUARD)

    assert_only_the_target_failed(run, sandbox, config, vendor, message)


# -- 7: every wait is bounded -------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.parametrize("vendor", ["airgentic", "agentx"])
def test_a_drip_fed_answer_is_cut_off_by_the_whole_request_deadline(vendor, make_sandbox,
                                                                    tmp_path):
    """One byte every 0.3 s keeps every socket read within `request_timeout`: only a
    deadline on the whole request ends it."""
    sandbox = make_sandbox(hostile_drip=TARGETS[vendor][2], hostile_drip_seconds=0.3)
    config = config_for(sandbox.url)
    run = run_tap(config, tmp_path, timeout=HANG_GUARD)

    assert_only_the_target_failed(run, sandbox, config, vendor,
                                  "no complete answer within 2 s (request_timeout)")


@pytest.mark.e2e
@pytest.mark.parametrize("vendor, target", [
    ("kore", "/agentassistinteractions"),
    ("zendesk_ai", f"/files/{SECOND_ZENDESK_BOT}/"),
])
def test_a_stalled_answer_is_retried_then_fails_its_partition(vendor, target, make_sandbox,
                                                              tmp_path):
    sandbox = make_sandbox(hostile_stall=target)
    config = config_for(sandbox.url)
    run = run_tap(config, tmp_path, timeout=HANG_GUARD)

    assert_only_the_target_failed(run, sandbox, config, vendor, "gave up after 2 tries")


@pytest.mark.e2e
def test_a_retry_after_of_a_day_fails_its_partition_at_once(sandbox, tmp_path):
    sandbox.faults.add(vendor="airgentic", status=429, retry_after="86400", count=None,
                       path="service_id=support")
    config = config_for(sandbox.url, max_retries=8)
    run = run_tap(config, tmp_path, timeout=HANG_GUARD)

    assert_only_the_target_failed(
        run, sandbox, config, "airgentic",
        "asks to wait 86400 s (Retry-After), longer than max_retry_wait (900 s): not retried")
    stats = sandbox.stats.snapshot()["airgentic.insights_raw"]
    assert stats["statuses"][429] <= 2  # each of the two day windows asked once at most


def test_a_retry_after_date_in_minus_zero_zone_is_read_as_utc():
    now = dt.datetime(2026, 10, 1, 12, 0, tzinfo=dt.timezone.utc)
    when = email.utils.formatdate(now.timestamp() + 30)  # "... -0000": UTC, source unknown
    assert when.endswith("-0000")

    class Answer:
        headers = {"Retry-After": when}

    assert retry_after_seconds(Answer(), now=now) == 30.0


# -- the loader stops reading ---------------------------------------------------------------


@pytest.mark.e2e
def test_a_closed_stdout_ends_the_run_with_one_line(sandbox, tmp_path):
    config = config_for(sandbox.url)
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    with subprocess.Popen([TAP, "--config", str(config_path)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        for _ in range(3):  # the loader reads a little, then stops reading
            proc.stdout.readline()
        proc.stdout.close()
        _, stderr_bytes = proc.communicate(timeout=HANG_GUARD)
    stderr = stderr_bytes.decode()
    check_output(stderr)
    assert proc.returncode == 1
    assert "Traceback" not in stderr and "Exception ignored" not in stderr
    assert "failed partition" not in stderr  # not a vendor's failure
    lines = [line for line in stderr.splitlines() if "stdout closed" in line]
    assert len(lines) == 1 and "| ERROR" in lines[0]


# -- the machine's time zone ------------------------------------------------------------------


@pytest.mark.e2e
def test_output_is_the_same_in_any_time_zone(sandbox, tmp_path):
    config = config_for(sandbox.url)
    outputs = []
    for zone in ("UTC", "Pacific/Kiritimati", "America/St_Johns"):
        path = tmp_path / "config.json"
        path.write_text(json.dumps(config))
        proc = subprocess.run([TAP, "--config", str(path)], capture_output=True, text=True,
                              timeout=HANG_GUARD, env={**os.environ, "TZ": zone}, check=False)
        check_output(proc.stdout, proc.stderr)
        assert proc.returncode == 0, proc.stderr[-3000:]
        messages = [json.loads(line) for line in proc.stdout.splitlines()]
        for message in messages:
            message.pop("time_extracted", None)
        outputs.append(sorted(map(str, messages)))
    assert outputs[0] == outputs[1] == outputs[2]


# -- dependencies ------------------------------------------------------------------------------


def test_the_http_stack_s_floors_are_past_its_published_vulnerabilities():
    text = (Path(__file__).parents[1] / "pyproject.toml").read_text()
    floors = {name: tuple(map(int, version.split(".")))
              for name, version in re.findall(r'"(requests|urllib3)>=([\d.]+),', text)}
    assert floors["requests"] >= (2, 32, 4)  # CVE-2024-47081 (.netrc credentials leak)
    assert floors["urllib3"] >= (2, 6, 3)  # CVE-2025-66471, CVE-2026-21441 (bombs)
