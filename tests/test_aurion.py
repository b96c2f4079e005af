"""AurionAI `aurion_insights`: one record per completed UTC day, through the real CLI."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from jsonschema import Draft7Validator

from sandbox.credentials import SANDBOX
from tests.support.config import END, START, sandbox_config
from tests.support.inprocess import run_in_process
from tests.support.runner import meltano_load, run_tap, run_tap_killed

STREAM = "aurion_insights"
ENDPOINT = "aurion.insights"
UTC = dt.timezone.utc
NESTED = (
    "agent_performance", "aggregation_health", "busiest_hours", "csat",
    "email_channel_metrics", "help_center_deflection", "metadata", "sla_breach_trend",
    "team_performance", "top_topics",
)


def canonical(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00.000000Z"


def days(first: str | dt.date, last: str | dt.date) -> list[dt.date]:
    first, last = dt.date.fromisoformat(str(first)), dt.date.fromisoformat(str(last))
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def as_truth(record: dict) -> dict:
    """A tap record in the sandbox truth's form (window bounds as `+00:00` ISO strings)."""
    out = dict(record)
    for key in ("window_start", "window_end"):
        out[key] = dt.datetime.fromisoformat(out[key].replace("Z", "+00:00")).isoformat()
    return out


def config(sb, **overrides):
    return sandbox_config(sb.url, vendors=("aurion",), **overrides)


def bookmark(state: dict) -> str | None:
    return state.get("bookmarks", {}).get(STREAM, {}).get("replication_key_value")


def requests_made(sb) -> int:
    return sb.stats.snapshot().get(ENDPOINT, {}).get("requests", 0)


def errors(run) -> list[str]:
    return [line for line in run.stderr.splitlines() if "| ERROR" in line]


# -- windows --------------------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("start", "end"),
    [("2025-12-30", "2026-01-02"), ("2026-02-27", "2026-03-01")],
    ids=["year-boundary", "february-end"],
)
def test_one_record_per_day_equals_truth(sandbox, tmp_path, start, end):
    run = run_tap(config(sandbox, start_date=start, end_date=end), tmp_path)

    assert run.returncode == 0, run.stderr[-2000:]
    records = run.records(STREAM)
    expected_days = days(start, end)  # end_date is inclusive
    assert [r["window_start"] for r in records] == [canonical(d) for d in expected_days]
    assert [r["window_end"] for r in records] == [
        canonical(d + dt.timedelta(days=1)) for d in expected_days
    ]
    truth = sandbox.truth(STREAM, start, expected_days[-1] + dt.timedelta(days=1))
    assert [as_truth(r) for r in records] == truth
    assert requests_made(sandbox) == len(expected_days)  # one request per day
    assert bookmark(run.final_state) == canonical(expected_days[-1] + dt.timedelta(days=1))
    assert "not found in catalog schema" not in run.stderr  # the schema covers every field
    schema = next(m for m in run.messages if m["type"] == "SCHEMA" and m["stream"] == STREAM)
    assert schema["key_properties"] == ["window_start"]
    assert schema["bookmark_properties"] == ["window_start"]
    validator = Draft7Validator(schema["schema"])
    for record in records:  # every value has its schema type (counts integer, rates number)
        assert list(validator.iter_errors(record)) == []


@pytest.mark.e2e
def test_end_date_inside_a_day_stops_before_that_day(sandbox, tmp_path):
    run = run_tap(
        config(sandbox, start_date="2026-03-30", end_date="2026-04-01T12:00:00Z"), tmp_path
    )

    assert run.returncode == 0, run.stderr[-2000:]
    assert [r["window_start"] for r in run.records(STREAM)] == [
        "2026-03-30T00:00:00.000000Z", "2026-03-31T00:00:00.000000Z",
    ]
    assert requests_made(sandbox) == 2  # no partial-day request for 2026-04-01
    assert bookmark(run.final_state) == "2026-04-01T00:00:00.000000Z"


NOW = dt.datetime(2026, 6, 15, 13, 30, tzinfo=UTC)  # the vendor's and the tap's "now"


@pytest.mark.parametrize("end_offset", [None, 0, 5], ids=["no-end", "end-today", "end-future"])
def test_today_is_not_emitted(make_sandbox, end_offset):
    sandbox = make_sandbox(now=NOW)
    today = NOW.date()
    end_date = None if end_offset is None else (today + dt.timedelta(days=end_offset)).isoformat()
    start = today - dt.timedelta(days=3)
    run = run_in_process(config(sandbox, start_date=start.isoformat(), end_date=end_date),
                         clock=lambda: NOW)

    assert run.returncode == 0, run.stderr[-2000:]
    records = run.records(STREAM)
    assert [r["window_start"] for r in records] == [
        canonical(start + dt.timedelta(days=i)) for i in range(3)
    ]
    assert [as_truth(r) for r in records] == sandbox.truth(STREAM, start, today)
    assert requests_made(sandbox) == 3
    assert bookmark(run.final_state) == canonical(today)


@pytest.mark.e2e
@pytest.mark.parametrize("lookback", [None, 3, 0], ids=["default-1", "3", "0"])
def test_second_run_rereads_exactly_the_lookback(sandbox, tmp_path, lookback):
    overrides = {} if lookback is None else {"aurion": {"lookback_days": lookback}}
    cfg = config(sandbox, **overrides)
    first = run_tap(cfg, tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    assert len(first.records(STREAM)) == 7

    second = run_tap(cfg, tmp_path, state=first.final_state)

    assert second.returncode == 0, second.stderr[-2000:]
    n = 1 if lookback is None else lookback
    all_days = days(START, END)
    last_days = all_days[len(all_days) - n:]
    records = second.records(STREAM)
    assert [r["window_start"] for r in records] == [canonical(d) for d in last_days]
    assert records == first.records(STREAM)[len(all_days) - n:]  # same days, same records
    assert bookmark(second.final_state) == bookmark(first.final_state)


@pytest.mark.e2e
def test_killed_run_resumes_without_loss(sandbox, tmp_path):
    cfg = config(sandbox, aurion={"lookback_days": 0})
    killed = run_tap_killed(cfg, tmp_path, after_states=3)
    assert killed.returncode == -9
    assert bookmark(killed.final_state) is not None

    resumed = run_tap(cfg, tmp_path, state=killed.final_state)

    assert resumed.returncode == 0, resumed.stderr[-2000:]
    seen = {r["window_start"] for r in killed.records(STREAM) + resumed.records(STREAM)}
    assert seen == {canonical(d) for d in days(START, END)}
    # it starts at the bookmark: nothing before it is read again
    assert min(r["window_start"] for r in resumed.records(STREAM)) == bookmark(killed.final_state)


# -- errors ---------------------------------------------------------------------------------


@pytest.mark.e2e
def test_preview_403_says_the_endpoint_is_in_preview(make_sandbox, tmp_path):
    sb = make_sandbox(aurion_preview=True)
    run = run_tap(config(sb), tmp_path)

    assert run.returncode == 1
    assert run.records(STREAM) == []
    assert bookmark(run.final_state) is None
    (line,) = [e for e in errors(run) if "HTTP 403" in e and "Run finished" not in e][:1]
    assert "AurionAI: aurion_insights" in line
    assert "analytics endpoint is in preview for this plan" in line
    assert "not available to API keys yet" in line
    # a 403 is not retried: at most one request per day (days start concurrently)
    assert "retry" not in run.stderr
    assert 1 <= requests_made(sb) <= len(days(START, END))


@pytest.mark.e2e
def test_other_403_does_not_claim_preview(sandbox, tmp_path):
    sandbox.faults.add(vendor="aurion", kind="status", status=403, count=None,
                       body={"detail": "Forbidden: team workspace suspended 555-0100"})
    run = run_tap(config(sandbox), tmp_path)

    assert run.returncode == 1
    assert any("HTTP 403" in e for e in errors(run))
    assert "preview" not in run.stderr
    assert "555-0100" not in run.stderr  # undocumented body text is never echoed


@pytest.mark.e2e
def test_wrong_token_401(sandbox, tmp_path):
    wrong = "sbx-wrong-token-77d1e0"
    run = run_tap(config(sandbox, aurion={"token": wrong}), tmp_path)

    assert run.returncode == 1
    assert run.records(STREAM) == []
    line = next(e for e in errors(run) if "HTTP 401" in e)
    assert "AurionAI: aurion_insights" in line
    assert "bearer token is missing, invalid or expired" in line
    assert wrong not in run.stderr + run.stdout
    assert SANDBOX["aurion"]["token"] not in run.stderr + run.stdout


@pytest.mark.e2e
def test_422_becomes_one_clear_message_and_keeps_the_bookmark(sandbox, tmp_path):
    sandbox.faults.add(
        vendor="aurion", kind="status", status=422, path="date_from=2026-10-03",
        body={
            "detail": [{"loc": ["query", "date_from"], "msg": "invalid datetime format",
                        "type": "value_error.datetime", "input": "ECHO-ME-NOT"}],
            "debug": "ECHO-ME-NOT",
        },
    )
    run = run_tap(config(sandbox), tmp_path)

    assert run.returncode == 1
    assert [r["window_start"] for r in run.records(STREAM)] == [
        "2026-10-01T00:00:00.000000Z", "2026-10-02T00:00:00.000000Z",
    ]
    assert bookmark(run.final_state) == "2026-10-03T00:00:00.000000Z"  # not past the failure
    line = next(e for e in errors(run) if "HTTP 422" in e)
    assert "window 2026-10-03" in line
    assert "(date_from: invalid datetime format)" in line
    assert "ECHO-ME-NOT" not in run.stderr


@pytest.mark.e2e
def test_429_waits_for_retry_after(sandbox, tmp_path):
    sandbox.faults.add(vendor="aurion", kind="status", status=429, retry_after=1, count=1)
    started = time.monotonic()
    run = run_tap(config(sandbox), tmp_path)

    assert run.returncode == 0, run.stderr[-2000:]
    assert time.monotonic() - started >= 1.0
    assert "HTTP 429, retry 1 of 3 in 1.0 s" in run.stderr
    assert len(run.records(STREAM)) == 7
    assert sandbox.stats.snapshot()[ENDPOINT]["statuses"] == {429: 1, 200: 7}


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("fault", "problem"),
    [({"kind": "malformed"}, "malformed response"),
     ({"kind": "status", "status": 200, "body": {"data": []}},
      "none of the documented insights fields")],
    ids=["broken-json", "not-insights"],
)
def test_unusable_body_is_an_error(sandbox, tmp_path, fault, problem):
    sandbox.faults.add(vendor="aurion", count=None, **fault)
    run = run_tap(config(sandbox), tmp_path)

    assert run.returncode == 1
    assert run.records(STREAM) == []
    line = next(e for e in errors(run) if "malformed response" in e)
    assert "AurionAI: aurion_insights" in line and problem in line


# -- end to end -----------------------------------------------------------------------------


def test_meltano_run_into_postgres(sandbox, pg, tmp_path):
    schema = "aurion_e2e"
    meltano_load([STREAM], schema, sandbox.url, pg, tmp_path)
    rows = pg.query(
        f"select window_start, window_end, {', '.join(NESTED)} "
        f'from "{schema}"."{STREAM}" order by window_start'
    )
    truth = sandbox.truth(STREAM, START, dt.date.fromisoformat(END) + dt.timedelta(days=1))
    assert len(rows) == len(days(START, END)) == len(truth)
    for row, expected in zip(rows, truth, strict=True):
        # target-postgres stores date-times as `timestamp` (without time zone), in UTC
        assert row[0].replace(tzinfo=UTC).isoformat() == expected["window_start"]
        assert row[1].replace(tzinfo=UTC).isoformat() == expected["window_end"]
        assert dict(zip(NESTED, row[2:], strict=True)) == {k: expected[k] for k in NESTED}
    columns = {
        name: (data_type, udt)
        for name, data_type, udt in pg.query(
            "select column_name, data_type, udt_name from information_schema.columns "
            "where table_schema = %s and table_name = %s", schema, STREAM,
        )
    }
    # objects are jsonb; arrays of objects are jsonb[] (target-postgres 0.8.1 maps an
    # array whose items are typed to ARRAY(JSONB)): every element is a jsonb object
    objects = [n for n in NESTED if not isinstance(truth[0][n], list)]
    arrays = [n for n in NESTED if isinstance(truth[0][n], list)]
    assert {n: columns[n] for n in objects} == dict.fromkeys(objects, ("jsonb", "jsonb"))
    assert {n: columns[n] for n in arrays} == dict.fromkeys(arrays, ("ARRAY", "_jsonb"))
    assert columns["window_start"][0].startswith("timestamp")
    (kinds,) = pg.query(
        f"select array_agg(distinct jsonb_typeof(a)) "
        f'from "{schema}"."{STREAM}", unnest(agent_performance) a'
    )[0]
    assert kinds == ["object"]
