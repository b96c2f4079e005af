"""Kore.ai `kore_interactions`: the real CLI against the sandbox, and one run through Meltano
into PostgreSQL. Every check compares with the sandbox's truth."""

from __future__ import annotations

import json
import re
import warnings
from datetime import date, timedelta, timezone
from types import SimpleNamespace

import jwt
import pytest
import requests
from jsonschema import Draft7Validator

from sandbox import SANDBOX, SECRETS
from tap_convai.kore.auth import MintedJWT
from tap_convai.kore.streams import KorePaginator
from tap_convai.settings import config_problems
from tap_convai.tap import VENDORS
from tests.support.config import END, START, sandbox_config
from tests.support.runner import meltano_load, run_tap, run_tap_killed
from tests.support.stats import busiest_window

STREAM = "kore_interactions"
ENDPOINT = "kore.interactions"  # the sandbox's stats label
KORE = SANDBOX["kore"]
FAST = {"requests_per_minute": 6000}  # pacing is measured in its own test
CANONICAL = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def day_after(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def truth(sb, start=START, end=END, **kw) -> list[dict]:
    """The sandbox's records for the config dates start..end (end inclusive)."""
    return sb.truth(STREAM, start, day_after(end), stream_id=KORE["stream_id"], **kw)


def kore_config(sb, *, start=START, end=END, **kore) -> dict:
    return sandbox_config(sb.url, vendors=("kore",), start_date=start, end_date=end,
                          kore={**FAST, **kore})


def minted_config(sb, secret=KORE["client_secret"], **kore) -> dict:
    config = kore_config(sb, client_id=KORE["client_id"], client_secret=secret, **kore)
    del config["kore"]["jwt"]
    return config


def requests_made(sb) -> int:
    return sb.stats.snapshot().get(ENDPOINT, {}).get("requests", 0)


def error_lines(run) -> list[str]:
    return [line for line in run.stderr.splitlines() if "| ERROR" in line]


def ids(records) -> list[str]:
    return [r["segmentID"] for r in records]


def assert_same_records(emitted: list[dict], expected: list[dict]) -> None:
    """Same records, once each, content as served except the normalised replication key."""
    assert len(ids(emitted)) == len(set(ids(emitted))), "duplicate segmentIDs"
    assert sorted(ids(emitted)) == sorted(ids(expected))
    served = {r["segmentID"]: r for r in expected}
    for record in emitted:
        record = dict(record)
        assert record.pop("stream_id") == KORE["stream_id"]
        original = dict(served[record["segmentID"]])
        start = record.pop("segmentStartTime")
        assert CANONICAL.match(start), start
        assert start == original.pop("segmentStartTime")[:-1] + "000Z"
        assert record == original  # no field dropped, none changed


def schema_of(run) -> dict:
    return next(m["schema"] for m in run.messages
                if m["type"] == "SCHEMA" and m["stream"] == STREAM)


def assert_valid(run) -> None:
    validator = Draft7Validator(schema_of(run))
    for record in run.records(STREAM):
        errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
                  for e in validator.iter_errors(record)]
        assert not errors, errors[:5]


# ------------------------------------------------------------------------ records, schema


@pytest.mark.e2e
def test_records_equal_truth_and_schema_types(sandbox, tmp_path):
    run = run_tap(kore_config(sandbox), tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    records = run.records(STREAM)
    expected = truth(sandbox)
    assert len(expected) > 50
    assert_same_records(records, expected)
    assert all("agenticActivities" not in r for r in records)
    assert_valid(run)
    assert "WARNING" not in run.stderr  # no field missing from the schema, no retry
    # windows are emitted in order (inside one, the API's order), the last bookmark is END's
    days = [r["segmentStartTime"][:10] for r in records]
    assert days == sorted(days)
    partition = run.final_state["bookmarks"][STREAM]["partitions"][0]
    assert partition["context"] == {"stream_id": KORE["stream_id"]}
    assert partition["replication_key_value"] == f"{day_after(END)}T00:00:00.000000Z"
    # one request per day window (no day has 100 records at this size), GET, paced fast
    assert requests_made(sandbox) == 7


@pytest.mark.e2e
@pytest.mark.parametrize("has_more", [True, False], ids=["hasMore", "no-hasMore"])
def test_paging_exactly_100_zero_and_two_pages(make_sandbox, tmp_path, has_more):
    # seed 7, 120 a day on average: 2026-09-21 has exactly 100 records, 09-22 none, 09-23 109
    sb = make_sandbox(kore_per_day=120, kore_omit_has_more=not has_more)
    start, end = "2026-09-21", "2026-09-23"
    per_day = [len(truth(sb, day, day)) for day in ("2026-09-21", "2026-09-22", "2026-09-23")]
    assert per_day == [100, 0, 109]

    run = run_tap(kore_config(sb, start=start, end=end), tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert_same_records(run.records(STREAM), truth(sb, start, end))
    if has_more:  # 100 -> 1 page (hasMore false), 0 -> 1, 109 -> 2
        assert requests_made(sb) == 1 + 1 + 2
    else:  # a full page asks for the next: 100 -> 2 (the 2nd empty), 0 -> 1, 109 -> 2
        assert requests_made(sb) == 2 + 1 + 2


# ---------------------------------------------------------------------------- filters


@pytest.mark.e2e
def test_include_agentic_data(sandbox, tmp_path):
    run = run_tap(kore_config(sandbox, end="2026-10-03", include_agentic_data=True), tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    records = run.records(STREAM)
    assert_same_records(records, truth(sandbox, end="2026-10-03", include_agentic_data=True))
    assert all("agenticActivities" in r for r in records)
    assert any(r["agenticActivities"] for r in records)
    assert_valid(run)


@pytest.mark.e2e
def test_session_ids_filter_posts_and_returns_only_those_sessions(sandbox, tmp_path):
    everything = truth(sandbox)
    sessions = sorted({r["botSessionID"] for r in everything})
    wanted = sessions[:3]
    run = run_tap(kore_config(sandbox, session_ids=wanted), tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    records = run.records(STREAM)
    expected = truth(sandbox, session_ids=wanted)
    assert 0 < len(expected) < len(everything)
    assert_same_records(records, expected)  # the emulator filters POST bodies only
    assert {r["botSessionID"] for r in records} <= set(wanted)


# ------------------------------------------------------------------------------- auth


@pytest.mark.e2e
def test_minted_jwt_works_and_is_never_shown(sandbox, tmp_path):
    run = run_tap(minted_config(sandbox, end="2026-10-03"), tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert_same_records(run.records(STREAM), truth(sandbox, end="2026-10-03"))
    output = run.stdout + run.stderr
    assert KORE["client_secret"] not in output
    assert "eyJ" not in output  # no JWT (header `{"...` in base64) anywhere


def _foreign_jwt() -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return jwt.encode({"appId": KORE["client_id"]}, "not-the-secret-123", algorithm="HS256")


@pytest.mark.e2e
@pytest.mark.parametrize("form", ["minted", "configured"])
def test_rejected_jwt_is_one_line_naming_the_auth_form(sandbox, tmp_path, form):
    if form == "minted":
        config, named, secret = minted_config(sandbox, secret="wrong-secret-4f1a"), \
            "a JWT minted from client_id", "wrong-secret-4f1a"
    else:
        secret = _foreign_jwt()
        config, named = kore_config(sandbox, jwt=secret), "the configured jwt"
    run = run_tap(config, tmp_path)

    assert run.returncode == 1
    failures = [line for line in error_lines(run) if "HTTP 401" in line]
    assert failures, run.stderr[-3000:]
    assert named in failures[0] and "kore_interactions" in failures[0]
    assert "Kore.ai" in failures[0] and "stream_id=st-sbx-1" in failures[0]
    assert "Traceback" not in run.stderr
    assert secret not in run.stderr and "eyJ" not in run.stderr
    assert not any(s in run.stderr for s in SECRETS)
    # a 401 is not retried: at most one request per window (windows start concurrently)
    assert "retry" not in run.stderr
    windows = (date.fromisoformat(END) - date.fromisoformat(START)).days + 1
    assert 1 <= requests_made(sandbox) <= windows
    assert run.records(STREAM) == []


def test_minted_jwt_is_renewed_before_it_expires():
    now = [1_800_000_000.0]
    auth = MintedJWT(KORE["client_id"], KORE["client_secret"], lifetime=60,
                     renew_before=10, clock=lambda: now[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # minting silences PyJWT's short-key warning itself
        first = auth.token()
        warnings.simplefilter("ignore")
        claims = jwt.decode(first, KORE["client_secret"], algorithms=["HS256"],
                            options={"verify_exp": False, "verify_iat": False})
    assert claims == {"appId": KORE["client_id"], "iat": 1_800_000_000,
                      "exp": 1_800_000_060}
    now[0] += 49  # 11 s left: still good
    assert auth.token() == first and auth.minted == 1
    now[0] += 2  # 9 s left: renewed
    second = auth.token()
    assert second != first and auth.minted == 2
    assert auth.expires_at == 1_800_000_051 + 60
    assert auth.token() == second


def _page(body: dict) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response._content = json.dumps(body).encode()
    return response


@pytest.mark.parametrize(("body", "more"), [
    ({"numResults": 100, "hasMore": False, "data": [{}] * 100}, False),
    ({"numResults": 3, "hasMore": True, "data": [{}] * 3}, True),
    ({"numResults": 100, "data": [{}] * 100}, True),  # no hasMore: full page, go on
    ({"numResults": 99, "data": [{}] * 99}, False),
    ({"data": [{}] * 100}, True),  # no numResults either: count the data
    ({"numResults": 0, "data": []}, False),
])
def test_paginator_has_more(body, more):
    paginator = KorePaginator(start_value=0, page_size=100)
    assert paginator.has_more(_page(body)) is more
    # a page whose records were all outside the window still decides on its own size
    assert paginator.continue_if_empty(_page(body)) is bool(body["data"])
    paginator.advance(_page(body))
    assert paginator.finished is not more
    assert more is False or paginator.current_value == 100


# ------------------------------------------------------------------------------ pacing


@pytest.mark.e2e
def test_requests_are_paced_to_requests_per_minute(make_sandbox, tmp_path):
    sandbox = make_sandbox(kore_rate_limit=120)  # the server refuses a 121st in 60 s
    run = run_tap(kore_config(sandbox, end="2026-10-05", requests_per_minute=120), tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    entry = sandbox.stats.snapshot()[ENDPOINT]
    assert entry["requests"] == 5 and entry["refused"] == 0
    assert busiest_window(entry["times"], 60.0) <= 120
    # the spacing itself is proven with an injected clock in test_http.py


# ------------------------------------------------------------------------------ resume


@pytest.mark.e2e
def test_resume_after_sigkill_loses_nothing(sandbox, tmp_path):
    config = kore_config(sandbox)
    killed = run_tap_killed(config, tmp_path, after_states=3)
    assert killed.returncode == -9
    state = killed.states()[-1]
    bookmark = state["bookmarks"][STREAM]["partitions"][0]["replication_key_value"]
    assert bookmark == "2026-10-04T00:00:00.000000Z"
    before = requests_made(sandbox)

    resumed = run_tap(config, tmp_path, state=state)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    # it starts at the bookmark's window: 10-04 .. 10-07, one request each
    assert requests_made(sandbox) - before == 4
    windows = re.findall(r"window (\d{4}-\d\d-\d\d): \d+ records", resumed.stderr)
    assert windows == ["2026-10-04", "2026-10-05", "2026-10-06", "2026-10-07"]
    assert_same_records(resumed.records(STREAM), truth(sandbox, "2026-10-04", END))
    union = set(ids(killed.records(STREAM))) | set(ids(resumed.records(STREAM)))
    assert union == set(ids(truth(sandbox)))


# -------------------------------------------------------------------------- bad input


BAD_CONFIGS = {
    "both auth forms": (
        lambda c: c["kore"].update(client_id=KORE["client_id"],
                                   client_secret=KORE["client_secret"]),
        "kore.jwt: give either jwt or client_id + client_secret, not both"),
    "no auth": (lambda c: c["kore"].pop("jwt"),
                "kore.jwt: required, or client_id + client_secret to mint tokens"),
    "client_id alone": (
        lambda c: (c["kore"].pop("jwt"), c["kore"].update(client_id=KORE["client_id"])),
        "kore.client_secret: required with client_id"),
    "client_secret alone": (
        lambda c: (c["kore"].pop("jwt"), c["kore"].update(client_secret=KORE["client_secret"])),
        "kore.client_id: required with client_secret"),
    "no stream id": (lambda c: c["kore"].pop("stream_id"),
                     "kore.stream_id: required setting is missing"),
    "zero pace": (lambda c: c["kore"].update(requests_per_minute=0),
                  "kore.requests_per_minute: must be positive"),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_kore_config_is_one_clear_line(case):
    mutate, expected = BAD_CONFIGS[case]
    config = kore_config(SimpleNamespace(url="http://127.0.0.1:9"))  # never contacted
    mutate(config)
    problems = config_problems(config, VENDORS)
    assert len(problems) == 1 and problems[0].endswith(expected), problems
    assert not any(s in problems[0] for s in SECRETS)


@pytest.mark.e2e
@pytest.mark.parametrize(("stream_id", "status", "meaning"), [
    ("forbidden-st", 403, "not associated with the AgentAssist Analytics API scope"),
    ("missing-st", 404, "the stream id was not found"),
])
def test_http_errors_name_the_documented_meaning(sandbox, tmp_path, stream_id, status, meaning):
    run = run_tap(kore_config(sandbox, stream_id=stream_id), tmp_path)
    assert run.returncode == 1
    line = next(x for x in error_lines(run) if f"HTTP {status}" in x)
    assert meaning in line and f"stream_id={stream_id}" in line and "kore_interactions" in line
    # the bookmark of the failed partition did not move
    assert not any(m["type"] == "STATE" and json.dumps(m).count("replication_key_value")
                   for m in run.messages)


@pytest.mark.e2e
def test_retryable_errors_and_malformed_pages(sandbox, tmp_path):
    sandbox.faults.add(vendor="kore", status=503, count=1, retry_after="0")
    sandbox.faults.add(vendor="kore", status=429, count=1, retry_after="0")
    run = run_tap(kore_config(sandbox, end="2026-10-02"), tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert_same_records(run.records(STREAM), truth(sandbox, end="2026-10-02"))

    sandbox.faults.add(vendor="kore", kind="malformed", count=1, path="from=2026-10-02")
    run = run_tap(kore_config(sandbox, end="2026-10-02"), tmp_path)
    assert run.returncode == 1
    line = next(x for x in error_lines(run) if "malformed response" in x)
    assert "kore_interactions" in line and "window 2026-10-02" in line


# ------------------------------------------------------------------ Meltano -> PostgreSQL


def test_meltano_run_loads_truth_into_postgres(sandbox, pg, tmp_path):
    schema = "kore_e2e"
    meltano_load([STREAM], schema, sandbox.url, pg, tmp_path)

    rows = pg.query(
        f'select "segmentID", stream_id, "segmentStartTime", "agentActions", '
        f'"playbookRuntimeData" from "{schema}".kore_interactions'
    )
    expected = {r["segmentID"]: r for r in truth(sandbox)}
    assert len(rows) == len(expected) > 50
    assert {r[0] for r in rows} == set(expected)
    for segment_id, stream_id, started, actions, playbooks in rows:
        served = expected[segment_id]
        assert stream_id == KORE["stream_id"]
        if started.tzinfo is not None:  # target-postgres stores UTC without a zone
            started = started.astimezone(timezone.utc).replace(tzinfo=None)
        assert started.isoformat(timespec="milliseconds") + "Z" == served["segmentStartTime"]
        assert actions == served["agentActions"]  # nested structure kept (jsonb)
        assert playbooks == served["playbookRuntimeData"]
