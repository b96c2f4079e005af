"""zendesk_ai_conversations: the real CLI (and Meltano) against the sandbox's Zendesk AI
export emulator — signed URLs, streamed files, normalisation, state."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date, timedelta

import pytest

from sandbox import SECRETS, Sandbox
from sandbox.zendesk_ai import FIELDS, LARGE_BOT
from tap_convai.tap import TapConvAI
from tests.support.config import END, START, sandbox_config
from tests.support.runner import meltano_load, run_tap, run_tap_killed

STREAM = "zendesk_ai_conversations"
BOT = "98174e8d635471c383b9ec7b"
BOT2 = "64628b8e55e4f2459bcb2e68"  # the second bot of meltano.yml's sandbox environment
DOCUMENTED = frozenset((*FIELDS, "export_date"))
COUNTS = tuple(name for name in FIELDS if name.endswith("_count"))
DAY = timedelta(days=1)


# ------------------------------------------------------------------------------ helpers


def days(first: str, last: str) -> list[date]:
    """The days from `first` to `last`, both included."""
    day, end = date.fromisoformat(first), date.fromisoformat(last)
    out = []
    while day <= end:
        out.append(day)
        day += DAY
    return out


def expected(sb: Sandbox, bot: str, first: str, last: str) -> list[dict]:
    """The sandbox's truth as the tap must emit it (independent of the tap's code)."""
    out = []
    for day in days(first, last):
        for served in sb.truth(STREAM, day, day + DAY, bot_id=bot):
            record = dict(served)
            for name in COUNTS:
                if name in record:  # one of the two spellings of the customer's count
                    record[name] = int(record[name])
            if isinstance(record["conversations_data"], str):
                record["conversations_data"] = json.loads(record["conversations_data"])
            record["export_date"] = day.isoformat()
            out.append(record)
    return out


def key(record: dict) -> tuple[str, str]:
    return record["bot_id"], record["conversation_id"]


def by_key(records: list[dict]) -> dict[tuple[str, str], dict]:
    out = {key(r): r for r in records}
    assert len(out) == len(records), "duplicate primary keys"
    return out


def watermark(state: dict, bot: str) -> str | None:
    for partition in state.get("bookmarks", {}).get(STREAM, {}).get("partitions", []):
        if partition["context"] == {"bot_id": bot}:
            return partition.get("replication_key_value")
    return None


def assert_clean(stderr: str) -> None:
    """No signed-URL query, signature, secret or traceback in a run's log."""
    assert "signature=" not in stderr and "expires=" not in stderr
    assert not re.search(r"\.json\?", stderr)
    assert not any(secret in stderr for secret in SECRETS)
    assert "Traceback" not in stderr


def config(sb: Sandbox, first: str, last: str, **block: object) -> dict:
    return sandbox_config(sb.url, vendors=("zendesk_ai",), start_date=first, end_date=last,
                          zendesk_ai=block)


def files_with_records(sb: Sandbox, bot: str, first: str, last: str) -> list:
    emu = sb.vendor("zendesk_ai")
    exports = [emu.export(bot, day) for day in days(first, last)]
    return [f for exp in exports if exp for f in exp.files if f.records]


# --------------------------------------------------------- ten days: formats and content

TEN = ("2026-10-01", "2026-10-10")


@pytest.fixture(scope="module")
def ten_days(tmp_path_factory):
    with Sandbox(seed=7, per_day=12) as sb:
        run = run_tap(config(sb, *TEN), tmp_path_factory.mktemp("zendesk-ten"))
        yield sb, run


def test_ten_days_of_every_file_variant_equal_truth(ten_days):
    sb, run = ten_days
    assert run.returncode == 0, run.stderr[-3000:]
    assert_clean(run.stderr)
    # the range really holds every variant (else this test would prove little)
    files = files_with_records(sb, BOT, *TEN)
    variants = Counter()
    for f in files:
        variants.update(["jsonl" if f.jsonl else "array", "gzip" if f.gzipped else "plain",
                         "upper" if f.upper else "lower",
                         "data-string" if f.data_as_string else "data-object"])
    emu = sb.vendor("zendesk_ai")
    exports = [emu.export(BOT, day) for day in days(*TEN)]
    variants.update(exp.list_key if exp else "404" for exp in exports)
    assert set(variants) == {"jsonl", "array", "gzip", "plain", "upper", "lower", "data-string",
                             "data-object", "urls", "signed_urls", "404"}, variants

    got = by_key(run.records(STREAM))
    assert got == by_key(expected(sb, BOT, *TEN))
    assert watermark(run.final_state, BOT) == "2026-10-11T00:00:00.000000Z"


def test_keys_counts_and_conversations_data_are_normalised(ten_days):
    sb, run = ten_days
    records = run.records(STREAM)
    upper_ids = {r["conversation_id"] for f in files_with_records(sb, BOT, *TEN) if f.upper
                 for r in f.records}
    string_ids = {r["conversation_id"] for f in files_with_records(sb, BOT, *TEN)
                  if f.data_as_string for r in f.records}
    seen = {r["conversation_id"] for r in records}
    assert upper_ids and upper_ids <= seen and string_ids and string_ids <= seen
    for record in records:
        assert set(record) <= DOCUMENTED, set(record) - DOCUMENTED
        assert not any(k.isupper() for k in record)
        for name in COUNTS:
            if name in record:  # one of the two spellings of the customer's count
                assert type(record[name]) is int, (name, record[name])
        assert isinstance(record["conversations_data"], dict)
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", record["export_date"])
        assert record["bot_id"] == BOT
    (schema,) = [m for m in run.messages if m["type"] == "SCHEMA"]
    assert schema["key_properties"] == ["bot_id", "conversation_id"]
    assert schema["bookmark_properties"] == ["export_date"]
    props = schema["schema"]["properties"]
    assert set(props) == DOCUMENTED
    assert props["export_date"]["format"] == "date"
    assert all("integer" in props[name]["type"] for name in COUNTS)
    data = props["conversations_data"]
    assert "object" in data["type"] and data["additionalProperties"] is True
    assert "bsatScore" in data["properties"]


# ---------------------------------------------------------------------------- 404 days


@pytest.mark.e2e
def test_days_without_export_are_empty_and_move_the_bookmark(make_sandbox, tmp_path):
    sb = make_sandbox()
    first, last = "2026-09-26", "2026-09-28"
    emu = sb.vendor("zendesk_ai")
    assert emu.export(BOT, date(2026, 9, 26)) is not None
    assert emu.export(BOT, date(2026, 9, 27)) is None and emu.export(BOT, date(2026, 9, 28)) is None

    run = run_tap(config(sb, first, last, bot_ids=[BOT, "missing-bot"]), tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert_clean(run.stderr)
    assert by_key(run.records(STREAM)) == by_key(expected(sb, BOT, first, last))
    assert {r["export_date"] for r in run.records(STREAM)} == {"2026-09-26"}
    for bot in (BOT, "missing-bot"):
        assert watermark(run.final_state, bot) == "2026-09-29T00:00:00.000000Z"
    assert sb.stats.snapshot()["zendesk_ai.signed_urls"]["statuses"] == {200: 1, 404: 5}


@pytest.mark.e2e
def test_days_before_2024_are_not_requested(make_sandbox, tmp_path):
    sb = make_sandbox()
    run = run_tap(config(sb, "2023-12-29", "2024-01-01"), tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert sb.stats.snapshot()["zendesk_ai.signed_urls"]["requests"] == 1
    assert by_key(run.records(STREAM)) == by_key(expected(sb, BOT, "2024-01-01", "2024-01-01"))
    assert watermark(run.final_state, BOT) == "2024-01-02T00:00:00.000000Z"


# ------------------------------------------------------------------ signed URLs and storage


@pytest.mark.e2e
def test_expired_urls_are_refreshed(make_sandbox, tmp_path):
    sb = make_sandbox(zendesk_expired_urls=1)
    first, last = "2026-10-01", "2026-10-02"
    run = run_tap(config(sb, first, last), tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert_clean(run.stderr)
    assert by_key(run.records(STREAM)) == by_key(expected(sb, BOT, first, last))
    stats = sb.stats.snapshot()
    assert stats["zendesk_ai.signed_urls"]["requests"] == 3  # two days + one refresh
    assert stats["zendesk_ai.files"]["statuses"][400] == 1
    assert "signed URL has expired (ExpiredToken); asking for fresh signed URLs" in run.stderr


@pytest.mark.e2e
def test_urls_that_stay_expired_fail_the_day(make_sandbox, tmp_path):
    sb = make_sandbox(zendesk_expired_urls=100)
    run = run_tap(config(sb, "2026-10-02", "2026-10-02"), tmp_path)
    assert run.returncode == 1
    assert_clean(run.stderr)
    assert run.records(STREAM) == []
    assert "still refused after 3 fresh sets of signed URLs" in run.stderr
    assert sb.stats.snapshot()["zendesk_ai.signed_urls"]["requests"] == 4
    assert watermark(run.final_state, BOT) is None


@pytest.mark.e2e
def test_broken_download_is_retried_without_duplicates(make_sandbox, tmp_path):
    sb = make_sandbox(zendesk_ai_per_day=800)  # one JSON Lines file of ~1 MB that day
    sb.faults.add(vendor="zendesk_ai", kind="cut", path="/files/")
    sb.faults.add(vendor="zendesk_ai", kind="status", status=503, path="/files/")
    day = "2026-10-05"
    run = run_tap(config(sb, day, day), tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert_clean(run.stderr)
    truth = expected(sb, BOT, day, day)
    assert len(truth) > 400
    assert by_key(run.records(STREAM)) == by_key(truth)
    files = sb.stats.snapshot()["zendesk_ai.files"]
    assert files["faults"] == {"cut": 1, "status": 1} and files["requests"] == 3
    skipped = re.search(r"reading \S+ again, skipping its (\d+) records already emitted",
                        run.stderr)
    assert skipped and int(skipped.group(1)) > 0  # the cut came mid-file


@pytest.mark.e2e
def test_malformed_file_fails_only_its_partition(make_sandbox, tmp_path):
    sb = make_sandbox()
    sb.faults.add(vendor="zendesk_ai", kind="malformed", path=f"/files/{BOT}/2026-10-02/")
    first, last = "2026-10-01", "2026-10-03"
    run = run_tap(config(sb, first, last, bot_ids=[BOT, BOT2]), tmp_path)
    assert run.returncode == 1
    assert_clean(run.stderr)
    line = next(x for x in run.stderr.splitlines() if "malformed export file" in x)
    assert f"zendesk_ai_conversations [bot_id={BOT}] window 2026-10-02" in line
    assert f"/files/{BOT}/2026-10-02/conversation_{BOT}_20261002_000000000000.json" in line
    assert watermark(run.final_state, BOT) == "2026-10-02T00:00:00.000000Z"
    assert watermark(run.final_state, BOT2) == "2026-10-04T00:00:00.000000Z"
    bot2 = [r for r in run.records(STREAM) if r["bot_id"] == BOT2]
    assert by_key(bot2) == by_key(expected(sb, BOT2, first, last))


# ------------------------------------------------------------------------------ resume


@pytest.mark.e2e
def test_kill_mid_day_then_resume_loses_nothing(make_sandbox, tmp_path):
    # one ~18 MB file per day, > 10,000 records: the SDK's STATE after 10,000 records
    # falls in the middle of the first day
    sb = make_sandbox(zendesk_large_file_mb=18)
    first, last = "2026-10-05", "2026-10-06"
    per_day = sb.vendor("zendesk_ai").large_file_count(date(2026, 10, 5))
    assert 10_000 < per_day < 20_000
    cfg = config(sb, first, last, bot_ids=[LARGE_BOT], lookback_days=0)

    # killed in the middle of day 1: nothing checkpointed yet
    mid = run_tap_killed(cfg, tmp_path, after_states=1)
    assert mid.returncode == -9
    assert watermark(mid.final_state, LARGE_BOT) is None
    assert 0 < len(mid.records(STREAM)) < per_day
    assert {r["export_date"] for r in mid.records(STREAM)} == {first}

    # resumed: day 1 is read again; killed once day 1 is checkpointed (while in day 2)
    between = run_tap_killed(cfg, tmp_path, state=mid.final_state, after_states=2)
    assert between.returncode == -9
    assert watermark(between.final_state, LARGE_BOT) == "2026-10-06T00:00:00.000000Z"
    assert len(between.records(STREAM)) == per_day

    # resumed again: only the day it was in
    last_run = run_tap(cfg, tmp_path, state=between.final_state)
    assert last_run.returncode == 0, last_run.stderr[-3000:]
    assert_clean(mid.stderr + between.stderr + last_run.stderr)
    again = last_run.records(STREAM)
    assert {r["export_date"] for r in again} == {last} and len(again) == per_day
    assert watermark(last_run.final_state, LARGE_BOT) == "2026-10-07T00:00:00.000000Z"

    union = {key(r) for run in (mid, between, last_run) for r in run.records(STREAM)}
    end = date.fromisoformat(last) + DAY
    assert union == sb.truth_keys(STREAM, first, end, bot_id=LARGE_BOT)


# ----------------------------------------------------------------------------- settings


def _stream(block: dict):
    cfg = {
        "start_date": "2026-10-01",
        "zendesk_ai": {"api_key": "zd-key-123456", "organization_id": "org-1",
                       "bot_ids": ["bot-1"], **block},
    }
    return TapConvAI(config=cfg, parse_env_config=False).streams[STREAM]


def test_region_selects_the_host():
    assert _stream({}).url_base == "https://api.ultimate.ai"
    assert _stream({"region": "eu"}).get_url({}) == (
        "https://api.ultimate.ai/data-export/v3/get-signed-urls"
    )
    assert _stream({"region": "us"}).url_base == "https://api.us.ultimate.ai"
    custom = _stream({"region": "us", "base_url": "https://acme.zendesk.com/ai-agents/api/"})
    assert custom.url_base == "https://acme.zendesk.com/ai-agents/api"
    assert _stream({}).export_headers("bot-1") == {
        "botId": "bot-1", "organizationId": "org-1", "authorization": "zd-key-123456",
        "Accept": "application/json",
    }


@pytest.mark.e2e
def test_bad_region_is_one_clear_line(sandbox, tmp_path):
    run = run_tap(config(sandbox, *TEN, region="ap"), tmp_path)
    assert run.returncode == 1
    assert_clean(run.stderr)
    lines = [x for x in run.stderr.splitlines() if "zendesk_ai.region" in x]
    assert len(lines) == 1 and "must be one of eu, us" in lines[0]
    assert sandbox.stats.snapshot() == {}  # stopped before any request


# -------------------------------------------------------------------------- end to end


def test_meltano_run_loads_postgres(sandbox, pg, tmp_path):
    schema = "zendesk_e2e"
    run = meltano_load([STREAM], schema, sandbox.url, pg, tmp_path)
    assert_clean(run.stderr)

    rows = pg.query(
        f"select bot_id, conversation_id, export_date::text, bot_messages_count, "
        f'"knowledge_notUnderstood_count", conversations_data from {schema}.{STREAM}'
    )
    truth = expected(sandbox, BOT, START, END) + expected(sandbox, BOT2, START, END)
    assert truth
    want = {
        key(r): (r["export_date"], r["bot_messages_count"], r["knowledge_notUnderstood_count"],
                 r["conversations_data"])
        for r in truth
    }
    got = {(r[0], r[1]): tuple(r[2:]) for r in rows}
    assert len(rows) == len(got) == len(want)
    assert got == want
