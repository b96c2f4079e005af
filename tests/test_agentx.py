"""agentx_conversations and agentx_messages against the sandbox, through the real CLI.

The sandbox enforces AgentX's limit (3 requests per second per endpoint per key, 429 +
Retry-After: 1 beyond it), so every sync here is paced for real: date ranges are short.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import time
from decimal import Decimal
from types import SimpleNamespace

import pytest

from sandbox import Sandbox
from tests.support.config import END, START, sandbox_config
from tests.support.runner import meltano_load, run_tap, run_tap_killed
from tests.support.stats import busiest_window

CONV, MSG = "agentx_conversations", "agentx_messages"
STREAMS = (CONV, MSG)
ENDPOINT = {CONV: "agentx.conversations", MSG: "agentx.messages"}
PATH = {CONV: "/conversations/export/v1/conversations", MSG: "/conversations/export/v1/messages"}
REPLICATION_KEY = {CONV: "startTime", MSG: "time"}
BOTS = ("r3-218210", "helpdesk")  # as in meltano.yml's sandbox environment
PAGE = 1000  # the tap's per_page (the documented maximum)
CANONICAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


# -- helpers ------------------------------------------------------------------------------


def agentx_config(sandbox, start, end, bots=BOTS, **overrides):
    return sandbox_config(sandbox.url, vendors=("agentx",), start_date=start, end_date=end,
                          agentx={"bot_names": list(bots)}, **overrides)


def day_after(day: str) -> str:
    return (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()


def expected_timestamp(value) -> str:
    """The canonical string of a vendor timestamp, computed independently of the tap."""
    if isinstance(value, str):  # naive ISO = UTC
        match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d{1,6})?", value)
        assert match, f"unexpected naive timestamp {value!r}"
        return match[1] + (match[2] or ".").ljust(7, "0") + "Z"
    seconds = Decimal(repr(value)).quantize(Decimal("0.000001"))  # int or float seconds
    whole = math.floor(seconds)
    micros = int((seconds - whole) * 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{micros:06d}Z"


def expected_record(stream: str, raw: dict, bot: str) -> dict:
    record = json.loads(json.dumps(raw))
    for name in ("startTime", "lastActionAt", "time"):
        if record.get(name) is not None:
            record[name] = expected_timestamp(record[name])
    return {**record, "bot_name": bot}


def truth(sandbox, stream, start, end, bots=BOTS) -> dict[str, dict]:
    """_id -> the record the tap must emit, for bots over [start, end] (whole days)."""
    records: dict[str, dict] = {}
    for bot in bots:
        for raw in sandbox.truth(stream, start, day_after(end), bot_name=bot):
            records[raw["_id"]] = expected_record(stream, raw, bot)
    return records


def emitted(run, stream) -> dict[str, dict]:
    records = run.records(stream)
    by_id = {r["_id"]: r for r in records}
    assert len(by_id) == len(records), f"{stream}: duplicate _id emitted"
    return by_id


def stats(sandbox, stream) -> dict:
    return sandbox.stats.snapshot().get(ENDPOINT[stream], {"requests": 0, "statuses": {},
                                                           "refused": 0, "times": []})


def bookmarks(state: dict, stream: str) -> dict[str, str | None]:
    partitions = state.get("bookmarks", {}).get(stream, {}).get("partitions", [])
    return {p["context"]["bot_name"]: p.get("replication_key_value") for p in partitions}


def pages(n_records: int) -> int:
    return max(1, math.ceil(n_records / PAGE))


# -- one longer sync, shared by several checks: 2 bots x 11 days ---------------------------

LONG_START, LONG_END = "2026-10-01", "2026-10-11"


@pytest.fixture(scope="module")
def long_sync(tmp_path_factory):
    with Sandbox(seed=7, per_day=12, agentx_custom_metadata=True) as sb:
        run = run_tap(agentx_config(sb, LONG_START, LONG_END),
                      tmp_path_factory.mktemp("agentx-long"))
        yield SimpleNamespace(sandbox=sb, run=run, stats=sb.stats.snapshot())


def test_records_equal_the_sandbox_truth(long_sync):
    run, sb = long_sync.run, long_sync.sandbox
    assert run.returncode == 0, run.stderr[-5000:]
    for stream in STREAMS:
        expected = truth(sb, stream, LONG_START, LONG_END)
        assert len(expected) > 100
        got = emitted(run, stream)
        assert got.keys() == expected.keys(), stream
        assert got == expected, stream  # every field, conversions and bot_name included
    assert "is not in the schema" not in run.stderr  # every field the sandbox sends is known


def test_metadata_keeps_system_and_custom_keys(long_sync):
    conversations = long_sync.run.records(CONV)
    custom = [r for r in conversations if "custom_orderId" in r["metadata"]]
    assert custom and any("custom_plan" in r["metadata"] for r in conversations)
    for record in custom:
        assert {"locale", "browser_localTime", "transcript", "guideNodeCount"} <= set(
            record["metadata"])


def test_timestamps_are_converted_to_the_canonical_utc_string(long_sync):
    sb, run = long_sync.sandbox, long_sync.run
    raw_messages = {
        r["_id"]: r
        for bot in BOTS
        for r in sb.truth(MSG, LONG_START, day_after(LONG_END), bot_name=bot)
    }
    by_kind: dict[str, int] = {"int": 0, "fraction": 0}
    for record in run.records(MSG):
        sent = raw_messages[record["_id"]]["time"]
        kind = "int" if isinstance(sent, int) else "fraction"
        by_kind[kind] += 1
        assert record["time"] == expected_timestamp(sent), (sent, record["time"])
    assert by_kind["int"] > 50 and by_kind["fraction"] > 50  # both forms were exercised

    raw_conversations = {
        r["_id"]: r
        for bot in BOTS
        for r in sb.truth(CONV, LONG_START, day_after(LONG_END), bot_name=bot)
    }
    for record in run.records(CONV):
        sent = raw_conversations[record["_id"]]
        assert isinstance(sent["startTime"], int)
        assert "+" not in sent["lastActionAt"] and not sent["lastActionAt"].endswith("Z")
        assert record["startTime"] == expected_timestamp(sent["startTime"])
        assert record["lastActionAt"] == sent["lastActionAt"] + "Z"  # naive = UTC
        assert CANONICAL.fullmatch(record["startTime"])


def test_pacing_keeps_the_limit_without_a_single_refusal(long_sync):
    for stream in STREAMS:
        entry = long_sync.stats[ENDPOINT[stream]]
        assert entry["requests"] >= 20
        assert entry["refused"] == 0 and entry["statuses"] == {200: entry["requests"]}
        # the server's own rule: never more than 3 arrivals within one second
        assert busiest_window(entry["times"], 1.0) <= 3


def test_state_moves_per_window_and_ends_at_the_range_end(long_sync):
    run = long_sync.run
    day_ends = [f"{day_after(f'2026-10-{d:02d}')}T00:00:00.000000Z" for d in range(1, 12)]
    for stream in STREAMS:
        assert bookmarks(run.final_state, stream) == {bot: day_ends[-1] for bot in BOTS}
        for bot in BOTS:
            marks = [bookmarks(s, stream).get(bot) for s in run.states()]
            assert [m for m in dict.fromkeys(marks) if m] == day_ends  # one STATE per window
        partition = run.final_state["bookmarks"][stream]["partitions"][0]
        assert partition["replication_key"] == REPLICATION_KEY[stream]


# -- discovery ------------------------------------------------------------------------------


@pytest.mark.e2e
def test_catalog_declares_keys_formats_and_open_objects(sandbox, tmp_path):
    run = run_tap(agentx_config(sandbox, START, END), tmp_path, args=("--discover",))
    assert run.returncode == 0, run.stderr
    catalog = {s["tap_stream_id"]: s for s in json.loads(run.stdout)["streams"]}
    assert set(catalog) == set(STREAMS)
    for stream in STREAMS:
        entry = catalog[stream]
        props = entry["schema"]["properties"]
        assert entry["key_properties"] == ["_id"]
        assert entry["replication_key"] == REPLICATION_KEY[stream]
        assert props[REPLICATION_KEY[stream]]["format"] == "date-time"
        assert props["bot_name"]["type"] == "string"
    conv = catalog[CONV]["schema"]["properties"]
    assert conv["lastActionAt"]["format"] == "date-time"
    assert conv["metadata"]["additionalProperties"] is True
    assert conv["metadata"]["properties"]["browser_localTime"]["type"] == ["integer", "null"]
    assert conv["tags"]["items"] == {"type": "string"}
    out_msg = catalog[MSG]["schema"]["properties"]["outMsg"]
    assert out_msg["properties"]["steps"]["items"]["properties"]["text"]
    assert out_msg["properties"]["options"]["items"]["properties"]["txt"]
    assert out_msg["properties"]["steps"]["items"]["additionalProperties"] is True
    assert set(catalog[MSG]["schema"]["properties"]) >= {
        "_id", "time", "type", "conversationId", "outMsg", "userInput", "userActionType",
        "bot_name"}


# -- cursor paging --------------------------------------------------------------------------


@pytest.mark.e2e
def test_cursor_is_followed_over_many_pages_until_null(make_sandbox, tmp_path):
    sandbox = make_sandbox(agentx_per_day=1500)
    day = "2026-10-01"
    run = run_tap(agentx_config(sandbox, day, day, bots=("helpdesk",)), tmp_path)

    assert run.returncode == 0, run.stderr[-5000:]
    for stream in STREAMS:
        expected = truth(sandbox, stream, day, day, bots=("helpdesk",))
        assert emitted(run, stream) == expected
        assert pages(len(expected)) >= 3  # the data really spans several pages
        # one request per page, none after the page whose cursor was null
        assert stats(sandbox, stream)["requests"] == pages(len(expected))


@pytest.mark.e2e
def test_single_page_and_empty_window(sandbox, tmp_path):
    # r3-218210 has records on 2026-10-05 (one page) and none at all on 2026-10-06
    assert truth(sandbox, CONV, "2026-10-06", "2026-10-06", bots=("r3-218210",)) == {}
    run = run_tap(agentx_config(sandbox, "2026-10-05", "2026-10-06", bots=("r3-218210",)),
                  tmp_path)

    assert run.returncode == 0, run.stderr[-5000:]
    for stream in STREAMS:
        expected = truth(sandbox, stream, "2026-10-05", "2026-10-06", bots=("r3-218210",))
        assert 0 < len(expected) < PAGE
        assert emitted(run, stream) == expected
        assert stats(sandbox, stream)["requests"] == 2  # one per window, no second page
        # the empty window is checkpointed like any other
        assert bookmarks(run.final_state, stream) == {
            "r3-218210": "2026-10-07T00:00:00.000000Z"}
    assert "agentx_messages [bot_name=r3-218210] window 2026-10-06: 0 records" in run.stderr


# -- failures and retries ---------------------------------------------------------------------


@pytest.mark.e2e
def test_429_with_retry_after_is_waited_out_and_retried(sandbox, tmp_path):
    sandbox.faults.add(vendor="agentx", kind="status", status=429, retry_after="1", count=2,
                       path="/v1/conversations")
    day = "2026-10-01"
    run = run_tap(agentx_config(sandbox, day, day, bots=("helpdesk",)), tmp_path)

    assert run.returncode == 0, run.stderr[-5000:]
    for stream in STREAMS:
        assert emitted(run, stream) == truth(sandbox, stream, day, day, bots=("helpdesk",))
    entry = stats(sandbox, CONV)
    assert entry["statuses"] == {429: 2, 200: 1}
    first, second, third = entry["times"]
    assert second - first >= 1.0 and third - second >= 1.0  # Retry-After: 1 honoured
    assert "HTTP 429, retry 1 of 3 in 1.0 s" in run.stderr
    assert "HTTP 429, retry 2 of 3 in 1.0 s" in run.stderr


@pytest.mark.e2e
def test_missing_and_forbidden_bots_fail_alone_with_their_meaning(sandbox, tmp_path):
    day = "2026-10-01"
    bots = ("missing-bot", "forbidden-bot", "helpdesk")
    run = run_tap(agentx_config(sandbox, day, day, bots=bots), tmp_path)

    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert (
        f"AgentX: agentx_conversations [bot_name=missing-bot] window {day}: HTTP 404 for GET "
        f"{sandbox.url}{PATH[CONV]}: the bot name or id was not found"
    ) in run.stderr
    assert (
        f"AgentX: agentx_messages [bot_name=forbidden-bot] window {day}: HTTP 403 for GET "
        f"{sandbox.url}{PATH[MSG]}: the Export API is not available on this pricing plan"
    ) in run.stderr
    assert "Run finished with 4 failed partition(s):" in run.stderr
    for stream in STREAMS:
        assert emitted(run, stream) == truth(sandbox, stream, day, day, bots=("helpdesk",))
        marks = bookmarks(run.final_state, stream)
        assert marks["helpdesk"] == f"{day_after(day)}T00:00:00.000000Z"
        assert marks.get("missing-bot") is None and marks.get("forbidden-bot") is None


@pytest.mark.e2e
def test_bad_key_names_its_meaning_and_never_the_key(sandbox, tmp_path):
    day = "2026-10-01"
    config = agentx_config(sandbox, day, day, bots=("helpdesk",))
    config["agentx"]["api_key"] = "wrong-agentx-key-000000"
    run = run_tap(config, tmp_path)

    assert run.returncode == 1
    assert "HTTP 401" in run.stderr
    assert "the x-api-key header is missing or invalid" in run.stderr
    assert "wrong-agentx-key-000000" not in run.stderr + run.stdout
    assert run.records() == []


# -- resume -----------------------------------------------------------------------------------


@pytest.mark.e2e
def test_killed_run_resumes_at_its_window_and_loses_nothing(sandbox, tmp_path):
    start, end = "2026-10-01", "2026-10-03"
    config = agentx_config(sandbox, start, end)
    killed = run_tap_killed(config, tmp_path, after_states=1)
    assert killed.returncode == -9
    last_state = killed.final_state
    marks = bookmarks(last_state, CONV)
    assert marks == {BOTS[0]: "2026-10-02T00:00:00.000000Z"}  # killed after its first window

    sandbox.stats.reset()
    resumed = run_tap(config, tmp_path, state=last_state)

    assert resumed.returncode == 0, resumed.stderr[-5000:]
    for stream in STREAMS:
        loaded = {r["_id"] for r in killed.records(stream)} | emitted(resumed, stream).keys()
        assert loaded == truth(sandbox, stream, start, end).keys(), stream
    # the resumed run starts at the first window not yet checkpointed, nothing earlier
    resumed_first_bot = [r["startTime"] for r in resumed.records(CONV) if r["bot_name"] == BOTS[0]]
    assert resumed_first_bot and min(resumed_first_bot) >= marks[BOTS[0]]
    # one answered request per window left: 2 for one bot, 3 for the other. The killed run's
    # last requests may still be in the server's one-second window: a refusal is allowed,
    # and must have been waited out and retried (the documented behaviour, see README)
    for stream, windows_left in ((CONV, 2 + 3), (MSG, 3 + 3)):
        entry = stats(sandbox, stream)
        assert entry["statuses"].get(200) == windows_left, entry["statuses"]
        assert set(entry["statuses"]) <= {200, 429}
        assert resumed.stderr.count("HTTP 429, retry") == sum(
            stats(sandbox, s)["refused"] for s in STREAMS)
    for stream in STREAMS:
        assert bookmarks(resumed.final_state, stream) == {
            bot: "2026-10-04T00:00:00.000000Z" for bot in BOTS}


# -- unit checks of the paginator and the conversion -------------------------------------------


def _response(body: dict):
    import requests

    response = requests.Response()
    response.status_code = 200
    response._content = json.dumps(body).encode()
    return response


def test_paginator_goes_on_over_an_empty_page_with_a_cursor_and_stops_at_null():
    from tap_convai.agentx.streams import CursorPaginator

    paginator = CursorPaginator()
    assert paginator.current_value is None
    assert paginator.continue_if_empty(_response({"data": [], "cursor": "abc"}))
    paginator.advance(_response({"data": [], "cursor": "abc"}))
    assert (paginator.current_value, paginator.finished) == ("abc", False)
    assert not paginator.continue_if_empty(_response({"data": [], "cursor": None}))
    paginator.advance(_response({"data": [{"_id": "x"}], "cursor": None}))
    assert paginator.finished


def test_documented_sample_values_convert_to_exact_strings(sandbox):
    from tap_convai.tap import TapConvAI

    tap = TapConvAI(config=agentx_config(sandbox, START, END), parse_env_config=False)
    conversations, messages = tap.streams[CONV], tap.streams[MSG]
    conversation = conversations.convert(
        {"_id": "5c80", "startTime": 1744750665, "lastActionAt": "2025-04-15T20:58:15.384884",
         "metadata": {"browser_localTime": 1744750695136}}, response=None)
    assert conversation["startTime"] == "2025-04-15T20:57:45.000000Z"
    assert conversation["lastActionAt"] == "2025-04-15T20:58:15.384884Z"
    assert conversation["metadata"]["browser_localTime"] == 1744750695136  # not a timestamp field
    assert messages.convert({"_id": "a", "time": 1744651778.652}, response=None)["time"] == (
        "2025-04-14T17:29:38.652000Z")
    assert messages.convert({"_id": "b", "time": 1744651783}, response=None)["time"] == (
        "2025-04-14T17:29:43.000000Z")
    assert conversations.convert({"_id": "c", "startTime": 1744750665,
                                  "lastActionAt": "2025-04-15T20:58:15"},
                                 response=None)["lastActionAt"] == "2025-04-15T20:58:15.000000Z"


# -- end to end ---------------------------------------------------------------------------------


def test_meltano_run_loads_the_truth_into_postgres(make_sandbox, pg, tmp_path):
    sandbox = make_sandbox(agentx_custom_metadata=True)
    schema = "agentx_e2e"
    meltano_load([CONV, MSG], schema, sandbox.url, pg, tmp_path)
    # the select setting was honoured: only AgentX was asked
    assert set(sandbox.stats.snapshot()) == {ENDPOINT[CONV], ENDPOINT[MSG]}

    conversations = truth(sandbox, CONV, START, END)
    rows = pg.query(
        f'select "_id", bot_name, "startTime", "lastActionAt", metadata, tags '
        f"from {schema}.{CONV}")
    assert len(rows) == len(conversations)
    for _id, bot, start_time, last_action, metadata, tags in rows:
        expected = conversations[_id]
        assert bot == expected["bot_name"]
        assert _as_utc(start_time) == _parse(expected["startTime"])
        assert _as_utc(last_action) == _parse(expected["lastActionAt"])
        assert metadata == expected["metadata"]  # jsonb, system and custom keys
        assert tags == expected["tags"]
    assert any("custom_orderId" in row[4] for row in rows)
    types = dict(pg.query(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = %s and table_name = %s", schema, CONV))
    assert (types["metadata"], types["tags"]) == ("jsonb", "ARRAY")
    assert types["startTime"].startswith("timestamp"), types

    messages = truth(sandbox, MSG, START, END)
    rows = pg.query(f'select "_id", bot_name, "time", "outMsg", "userInput" from {schema}.{MSG}')
    assert len(rows) == len(messages)
    for _id, bot, sent, out_msg, user_input in rows:
        expected = messages[_id]
        assert (bot, _as_utc(sent)) == (expected["bot_name"], _parse(expected["time"]))
        assert out_msg == expected.get("outMsg")
        assert user_input == expected.get("userInput")
    types = dict(pg.query(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = %s and table_name = %s", schema, MSG))
    assert types["outMsg"] == "jsonb" and types["time"].startswith("timestamp"), types


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _as_utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value
