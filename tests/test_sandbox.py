"""Fast self-tests of the vendor emulator (sandbox) with plain `requests`."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
import requests

from sandbox import SANDBOX, Sandbox
from tests.support.vendor_docs import (
    Documented,
    documented,
    json_examples,
    page,
    table_fields,
    undocumented,
)

NOW = "2026-03-01T12:00:00Z"
DAY = 86400
JAN20 = int(datetime(2026, 1, 20, tzinfo=timezone.utc).timestamp())
AIRGENTIC = "/api/insights/raw"
AGENTX = "/conversations/export/v1/"
AURION = "/api/v2/analytics/conversations/insights"


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=7, per_day=12, now=NOW) as sandbox:
        yield sandbox


@pytest.fixture(autouse=True)
def _clean(sb: Sandbox) -> Iterator[None]:
    sb.faults.clear()
    sb.stats.reset()
    yield
    sb.faults.clear()


def airgentic(sb: Sandbox, key: str | None = None, **params: str) -> requests.Response:
    query = {"account_id": "acme", "service_id": "web", "start_date": "2026-01-20", **params}
    key = SANDBOX["airgentic"]["api_key"] if key is None else key
    return requests.get(sb.url + AIRGENTIC, params=query, headers={"api-key": key}, timeout=5)


def agentx(sb: Sandbox, kind: str = "conversations", **params: object) -> requests.Response:
    query = {"start_time": JAN20 - 2 * DAY, "end_time": JAN20 + DAY, "bot_name": "b1", **params}
    headers = {"x-api-key": SANDBOX["agentx"]["api_key"]}
    return requests.get(sb.url + AGENTX + kind, params=query, headers=headers, timeout=5)


def test_auth_refused_with_no_body(sb: Sandbox) -> None:
    # the docs of these three show no error body
    r = airgentic(sb, key="wrong")
    assert (r.status_code, r.content) == (401, b"")
    r = requests.get(sb.url + AGENTX + "messages", params={"bot_name": "b1"}, timeout=5)
    assert (r.status_code, r.content) == (401, b"")
    r = requests.get(sb.url + AURION, headers={"Authorization": "Bearer nope"}, timeout=5)
    assert (r.status_code, r.content) == (401, b"")
    assert r.headers["WWW-Authenticate"] == "Bearer"


def test_airgentic_page(sb: Sandbox) -> None:
    r = airgentic(sb, end_date="2026-01-22")
    assert r.status_code == 200
    body = r.json()
    assert body["record_count"] == len(body["data"]) > 0
    times = [datetime.fromisoformat(rec["date_time"]) for rec in body["data"]]
    assert times == sorted(times, reverse=True)  # newest first
    assert all(rec["partition_id"] == "acme_web" for rec in body["data"])
    truth = sb.truth("airgentic_records", "2026-01-20", "2026-01-23", service_id="web")
    assert truth == body["data"]
    # ~1 in 5 date_time values has no fractional part (microsecond 0)
    many = sb.truth("airgentic_records", "2026-01-01", "2026-02-01", service_id="web")
    plain = [rec for rec in many if "." not in rec["date_time"]]
    assert 0 < len(plain) < len(many) / 2
    forbidden = airgentic(sb, service_id="forbidden-x")
    assert (forbidden.status_code, forbidden.content) == (403, b"")
    assert airgentic(sb, service_id="missing-x").status_code == 404
    assert airgentic(sb, start_date="2026/01/20").status_code == 400
    assert airgentic(sb, end_date="2026-01-19").status_code == 400
    assert airgentic(sb, start_date="2026-03-02").json()["data"] == []  # after now


def test_fault_fires_once_and_stats(sb: Sandbox) -> None:
    sb.faults.add(vendor="airgentic", status=503, retry_after="2")
    first, second = airgentic(sb), airgentic(sb)
    assert (first.status_code, first.headers["Retry-After"]) == (503, "2")
    assert second.status_code == 200
    stats = sb.stats.snapshot()["airgentic.insights_raw"]
    assert stats["requests"] == 2 and stats["statuses"] == {503: 1, 200: 1}
    assert len(stats["times"]) == 2 and stats["faults"] == {"status": 1}
    assert len(sb.faults) == 0


def test_fault_kinds_over_http(sb: Sandbox) -> None:
    rules = [
        {"vendor": "airgentic", "kind": "drop"},
        {"vendor": "*", "kind": "cut", "path": "service_id=web"},
        {"vendor": "airgentic", "kind": "malformed"},
        {"vendor": "airgentic", "kind": "status", "status": 429, "retry_after": "http-date:2"},
    ]
    r = requests.post(sb.url + "/_sandbox/faults", data=json.dumps(rules), timeout=5)
    assert r.status_code == 200 and len(sb.faults) == 4
    with pytest.raises(requests.ConnectionError):
        airgentic(sb)
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        airgentic(sb)
    with pytest.raises(ValueError):
        airgentic(sb).json()
    r = airgentic(sb)
    assert r.status_code == 429 and r.headers["Retry-After"].endswith(" GMT")
    assert airgentic(sb).status_code == 200
    stats = requests.get(sb.url + "/_sandbox/stats", timeout=5).json()["airgentic.insights_raw"]
    assert stats["statuses"] == {"drop": 1, "200": 3, "429": 1}
    assert stats["refused"] == 1
    assert requests.delete(sb.url + "/_sandbox/faults", timeout=5).json() == {"cleared": 0}


def test_routing_404(sb: Sandbox) -> None:
    assert requests.get(sb.url + "/nope", timeout=5).status_code == 404
    assert requests.post(sb.url + AIRGENTIC, timeout=5).status_code == 404
    assert requests.get(sb.url + "/_sandbox/nope", timeout=5).status_code == 404


def test_agentx_rate_limit(sb: Sandbox) -> None:
    emulator = sb.vendor("agentx")
    clock = [500.0]  # frozen: the four requests fall in one second however slow the machine
    emulator._limiter.clock = lambda: clock[0]
    try:
        codes = [agentx(sb, "messages", per_page=1).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        stats = sb.stats.snapshot()["agentx.messages"]
        assert stats["refused"] == 1 and stats["statuses"] == {200: 3, 429: 1}
        assert agentx(sb, "conversations", per_page=1).status_code == 200  # per endpoint
        clock[0] += 1.0  # the window has passed
        assert agentx(sb, "messages", per_page=1).status_code == 200
    finally:
        emulator._limiter.clock = time.monotonic


def test_agentx_paging_matches_truth(sb: Sandbox) -> None:
    sb.options["agentx_rate_limit"] = 0
    try:
        ids, cursor, pages = [], None, 0
        while True:
            params = {"per_page": 7, **({"cursor": cursor} if cursor else {})}
            body = agentx(sb, "conversations", **params).json()
            ids += [rec["_id"] for rec in body["data"]]
            pages += 1
            cursor = body["cursor"]
            if cursor is None:
                break
        start, end = datetime.fromtimestamp(JAN20 - 2 * DAY, timezone.utc), "2026-01-21"
        truth = sb.truth("agentx_conversations", start, end, bot_name="b1")
        assert ids == [rec["_id"] for rec in truth] == sorted(ids) and pages > 1
        messages = sb.truth("agentx_messages", start, end, bot_name="b1")
        assert {m["conversationId"] for m in messages} == set(ids)
        assert agentx(sb, cursor="not-a-cursor").status_code == 400
        assert agentx(sb, per_page=1001).status_code == 400
        assert agentx(sb, start_time="soon").status_code == 400
        assert agentx(sb, bot_name="forbidden-b").status_code == 403
    finally:
        del sb.options["agentx_rate_limit"]


def test_aurion_day(sb: Sandbox) -> None:
    headers = {"Authorization": f"Bearer {SANDBOX['aurion']['token']}"}
    params = {"date_from": "2026-01-20T00:00:00Z", "date_to": "2026-01-21T00:00:00+00:00"}
    r = requests.get(sb.url + AURION, params=params, headers=headers, timeout=5)
    assert r.status_code == 200
    (truth,) = sb.truth("aurion_insights", "2026-01-20", "2026-01-21")
    assert truth.pop("window_start") == "2026-01-20T00:00:00+00:00"
    truth.pop("window_end")
    assert r.json() == truth
    bad = requests.get(sb.url + AURION, params={"date_from": "x"}, headers=headers, timeout=5)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "date_from"]
    sb.options["aurion_preview"] = True
    try:
        r = requests.get(sb.url + AURION, params=params, headers=headers, timeout=5)
        assert r.status_code == 403 and "not permitted" in r.json()["detail"]
    finally:
        del sb.options["aurion_preview"]


# ------------------------------------------------------------------ what the vendor docs show
# Each vendor's responses, over a month of data, hold only the paths, JSON types and
# deciding values of its published docs (docs/vendor-docs/): tests/support/vendor_docs.py.


def test_airgentic_serves_only_what_its_docs_show(sb: Sandbox) -> None:
    text, docs = page("airgentic"), documented("airgentic")
    for row in table_fields(text, "Each record in data can include the following fields",
                            "Taxonomy structure", r"^(?P<name>[a-z_0-9]+) \|$"):
        docs.add_field(f"data[].{row['name']}")  # the table gives no types
    for n in range(2, 6):  # one row documents "class_custom1 to class_custom5"
        docs.add_field(f"data[].class_custom{n}", *docs.types["data[].class_custom1"])
    assert "data[].previous_thread_id" in docs.types  # documented by the table alone
    served = [airgentic(sb, service_id=service, start_date="2026-01-01", end_date="2026-01-31")
              .json() for service in ("web", "support")]
    assert sum(len(body["data"]) for body in served) > 500
    decisive = ("data[].completeness", "data[].user_rating", "data[].sentiment",
                "data[].moderated_hate", "data[].moderated_selfharm", "data[].moderated_sexual",
                "data[].moderated_violence")
    # "null values for fields that were added after the conversation took place"
    record_field = re.compile(r"data\[\]\.\w+")
    assert undocumented(docs, served, decisive=decisive, nullable=record_field) == []
    ratings = {rec["user_rating"] for body in served for rec in body["data"]}
    assert ratings == {"Good", None}


def _agentx_docs(text: str, item_key: str) -> Documented:
    """The documented paths of one AgentX endpoint: its response example (the one whose
    records have `item_key`)."""
    docs = Documented()
    for example in json_examples(text):
        if item_key in example["data"][0]:
            docs.add_example(example)
    return docs


def agentx_all(sb: Sandbox, kind: str, **params: object) -> list[dict]:
    """Every page of one AgentX window, following the cursor."""
    pages, cursor = [], None
    while True:
        body = agentx(sb, kind, per_page=1000, **params,
                      **({"cursor": cursor} if cursor else {})).json()
        pages.append(body)
        cursor = body["cursor"]
        if cursor is None:
            return pages


def test_agentx_serves_only_what_its_docs_show(sb: Sandbox) -> None:
    text = page("agentx")
    conversations, messages = _agentx_docs(text, "startTime"), _agentx_docs(text, "time")
    for docs in (conversations, messages):  # the examples show the last page only
        docs.add_field("cursor", "string", text=text, quote="Pass the cursor value returned in "
                       "the response until it is null")
    conversations.add_values(text, "Tags applied to the conversation. For example, resolved, "
                             "informed.", "data[].tags[]", "resolved", "informed")
    messages.add_values(text, "Type of message. For example, UserInput, BotMessage.",
                        "data[].type", "UserInput", "BotMessage")
    sb.options["agentx_rate_limit"] = 0
    try:
        window = {"start_time": JAN20 - 20 * DAY, "end_time": JAN20 + 10 * DAY}
        served = {kind: agentx_all(sb, kind, **window) for kind in ("conversations", "messages")}
        refused = agentx(sb, bot_name="missing-bot")
    finally:
        del sb.options["agentx_rate_limit"]
    assert sum(len(p["data"]) for p in served["conversations"]) > 200
    assert undocumented(conversations, served["conversations"], decisive=(
        "data[].tags[]", "data[].metadata.browser_visitorType")) == []
    assert undocumented(messages, served["messages"], decisive=("data[].type",)) == []
    assert (refused.status_code, refused.content) == (404, b"")


def test_agentx_custom_metadata_is_an_option(make_sandbox) -> None:
    """Custom metadata keys ("system and custom metadata", none named) are served only
    with `agentx_custom_metadata`, and change no other value."""
    plain = make_sandbox(agentx_rate_limit=0)
    custom = make_sandbox(agentx_rate_limit=0, agentx_custom_metadata=True)
    start, end = "2026-01-10", "2026-01-20"
    without = plain.truth("agentx_conversations", start, end, bot_name="b1")
    with_custom = custom.truth("agentx_conversations", start, end, bot_name="b1")
    assert not any(key.startswith("custom_") for r in without for key in r["metadata"])
    assert any("custom_orderId" in r["metadata"] for r in with_custom)
    for record in with_custom:
        record["metadata"] = {k: v for k, v in record["metadata"].items()
                              if not k.startswith("custom_")}
    assert with_custom == without


def test_aurion_serves_only_what_its_docs_show(sb: Sandbox) -> None:
    docs = documented("aurion")  # the response and the error example (`detail`)
    headers = {"Authorization": f"Bearer {SANDBOX['aurion']['token']}"}
    first = datetime(2026, 1, 1, tzinfo=timezone.utc)
    served = []
    for n in range(20):
        params = {"date_from": (first + timedelta(days=n)).isoformat(),
                  "date_to": (first + timedelta(days=n + 1)).isoformat()}
        served.append(requests.get(sb.url + AURION, params=params, headers=headers,
                                   timeout=5).json())
    assert all(body["metadata"] == {} for body in served)  # as the docs show it
    bad = requests.get(sb.url + AURION, params={"date_to": "x"}, headers=headers, timeout=5)
    assert bad.status_code == 422
    assert undocumented(docs, [*served, bad.json()], decisive=()) == []
