"""The sandbox's Kore.ai AgentAssist and Zendesk AI export emulators behave as specified."""

from __future__ import annotations

import json
import time
import warnings
from datetime import date, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit, urlunsplit

import jwt
import pytest
import requests

from sandbox import SANDBOX, Sandbox
from sandbox.zendesk_ai import FIELDS, normalise_keys
from tests.support.vendor_docs import documented, page, table_fields, undocumented

UTC = timezone.utc
KORE = SANDBOX["kore"]
ZD = SANDBOX["zendesk_ai"]
KORE_PATH = "/agentassist/api/v1/public/{stream}/v2/agentassistinteractions"
START = date(2025, 3, 1)


@pytest.fixture(scope="module")
def sb():
    with Sandbox(seed=7, per_day=12, kore_rate_limit=0) as sandbox:  # paging checks: unlimited
        yield sandbox


# ------------------------------------------------------------------------------------- Kore


def mint(secret=KORE["client_secret"], app_id=KORE["client_id"], exp_in=300):
    claims = {"appId": app_id, "iat": int(time.time())}
    if exp_in is not None:
        claims["exp"] = int(time.time()) + exp_in
    with warnings.catch_warnings():  # the sandbox secret is short on purpose
        warnings.simplefilter("ignore", UserWarning)
        return jwt.encode(claims, secret, algorithm="HS256")


def kore_get(sb, token=KORE["jwt"], stream=KORE["stream_id"], account=KORE["account_id"],
             method="GET", body=None, **params):
    params.setdefault("from", "2025-03-01 00:00:00")
    params.setdefault("to", "2025-03-04 00:00:00")
    return requests.request(
        method,
        sb.url + KORE_PATH.format(stream=stream),
        params=params,
        headers={"accountId": account, "auth": token},
        json=body,
        timeout=10,
    )


def kore_all(sb, limit=7, **kw):
    """Every record of the window, paging with offset (while hasMore, else while full)."""
    out, offset, pages = [], 0, []
    while True:
        r = kore_get(sb, offset=offset, limit=limit, **kw)
        assert r.status_code == 200, r.text
        page = r.json()
        pages.append(page)
        assert page["numResults"] == len(page["data"])
        out.extend(page["data"])
        offset += page["numResults"]
        more = page["hasMore"] if "hasMore" in page else page["numResults"] == limit
        if not more:
            return out, pages


def kore_truth(sb, **kw):
    # the API's window is inclusive at both ends; truth is [start, end)
    end = datetime(2025, 3, 4, tzinfo=UTC) + timedelta(milliseconds=1)
    return sb.truth("kore_interactions", START, end, stream_id=KORE["stream_id"], **kw)


def test_kore_rate_limit_is_per_stream_per_minute():
    with Sandbox(seed=7, per_day=12, kore_rate_limit=3) as sandbox:
        clock = [500.0]  # frozen: every request falls in the same minute
        sandbox.vendor("kore")._limiter.clock = lambda: clock[0]
        codes = [kore_get(sandbox).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        assert kore_get(sandbox, stream="st-other").status_code == 404  # counted per stream
        refused = kore_get(sandbox)
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
        clock[0] += 60.0
        assert kore_get(sandbox).status_code == 200
        assert sandbox.stats.snapshot()["kore.interactions"]["refused"] == 2


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        "",
        mint(secret="another-secret-of-some-length-000"),
        mint(app_id="cs-someone-else"),
    ],
)
def test_kore_bad_jwt_is_401(sb, token):
    r = kore_get(sb, token=token)
    assert (r.status_code, r.content) == (401, b"")  # the docs show no error body


def test_kore_expired_jwt_is_401(sb):
    assert kore_get(sb, token=mint(exp_in=-60)).status_code == 401


def test_kore_wrong_account_is_401(sb):
    assert kore_get(sb, account="acct-other").status_code == 401


@pytest.mark.parametrize(
    "make",
    [mint, lambda: "Bearer " + mint(), lambda: mint(exp_in=None), lambda: KORE["jwt"]],
    ids=["minted", "bearer", "no-exp", "ready"],
)
def test_kore_valid_jwt_is_200(sb, make):
    r = kore_get(sb, token=make(), limit=3)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"numResults", "hasMore", "data"}
    assert body["numResults"] == 3 and body["hasMore"] is True


def test_kore_stream_errors(sb):
    assert kore_get(sb, stream="missing-st").status_code == 404
    assert kore_get(sb, stream="forbidden-st").status_code == 403


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 101},
        {"limit": "ten"},
        {"from": "yesterday"},
        {"to": "2025-03-04T00:00:00Z"},
        {"from": "2025-03-05 00:00:00"},  # after `to`
    ],
)
def test_kore_bad_params_are_400(sb, params):
    r = kore_get(sb, **params)
    assert (r.status_code, r.content) == (400, b"")


def test_kore_offset_paging_covers_truth_once(sb):
    records, pages = kore_all(sb, limit=7)
    ids = [r["segmentID"] for r in records]
    truth = kore_truth(sb)
    assert len(truth) > 14
    assert len(ids) == len(set(ids)) == len(truth)
    assert records == truth  # same order, same content
    assert ids == sorted(ids)
    starts = [r["segmentStartTime"] for r in records]
    assert starts != sorted(starts), "records must not come in time order"
    assert pages[-1]["hasMore"] is False
    assert all(p["hasMore"] for p in pages[:-1])
    assert sb.truth_keys("kore_interactions", START, date(2025, 3, 4)) <= {(i,) for i in ids}


def test_kore_records_shape(sb):
    records, _ = kore_all(sb, limit=100)
    for rec in records:
        assert rec["segmentID"].startswith("ac-")
        assert rec["segmentStartTime"].endswith("Z") and len(rec["segmentStartTime"]) == 24
        assert "agentId" in rec["agent"]
        assert "agenticActivities" not in rec
    assert any(len(r["agent"]) == 1 for r in records)
    assert any(len(r["agent"]) == 5 for r in records)
    for key in ("tags", "agentActions", "playbookRuntimeData", "coachingRuntimeData"):
        assert any(r[key] for r in records), key
        assert any(not r[key] for r in records), key


def test_kore_include_agentic_data(sb):
    records, _ = kore_all(sb, limit=100, includeAgenticData="true")
    assert all("agenticActivities" in r for r in records)
    active = [a for r in records for a in r["agenticActivities"]]
    assert active and any(not r["agenticActivities"] for r in records)
    assert all(isinstance(a["reqStatus"], str) and isinstance(a["resStatus"], int)
               for a in active)
    assert records == kore_truth(sb, include_agentic_data=True)


def test_kore_omit_has_more():
    with Sandbox(seed=7, per_day=12, kore_omit_has_more=True) as sandbox:
        records, pages = kore_all(sandbox, limit=10)
        assert all("hasMore" not in p for p in pages)
        assert records == kore_truth(sandbox)


def test_kore_post_filters_sessions(sb):
    truth = kore_truth(sb)
    sessions = sorted({r["botSessionID"] for r in truth})
    assert len(sessions) >= 3
    wanted = sessions[:2]
    r = kore_get(sb, method="POST", body={"sessionIds": wanted}, limit=100)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data and {d["botSessionID"] for d in data} <= set(wanted)
    assert data == kore_truth(sb, session_ids=wanted)
    assert len(data) < len(truth)
    bad = kore_get(sb, method="POST", body={"sessionIds": "nope"})
    assert bad.status_code == 400


def test_kore_window_bounds_inclusive(sb):
    rec = kore_truth(sb)[0]
    start = datetime.strptime(rec["segmentStartTime"], "%Y-%m-%dT%H:%M:%S.%fZ")
    # `to` at the record's second, below its milliseconds: excluded; a second later: included
    second = start.replace(microsecond=0)
    frm = (second - timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S")
    for to, present in ((second, start.microsecond == 0), (second + timedelta(seconds=1), True)):
        r = kore_get(sb, **{"from": frm, "to": to.strftime("%Y-%m-%d %H:%M:%S")})
        ids = {d["segmentID"] for d in r.json()["data"]}
        assert (rec["segmentID"] in ids) is present


# ----------------------------------------------------------------------------------- Zendesk


def zd_post(sb, day, bot="bot-a", key=ZD["api_key"], org=ZD["organization_id"], **body):
    return requests.post(
        sb.url + "/data-export/v3/get-signed-urls",
        headers={"botId": bot, "organizationId": org, "authorization": key},
        json={"date": day.isoformat() if isinstance(day, date) else day, **body},
        timeout=10,
    )


def urls_of(body):
    return body.get("urls", body.get("signed_urls"))


def parse_file(r):
    text = r.content.decode()  # requests undoes Content-Encoding: gzip
    stripped = text.lstrip()
    if stripped.startswith("["):
        recs = json.loads(text)
    else:
        recs = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [normalise_keys(rec) for rec in recs]


def export_days(sb, bot="bot-a", n=10):
    emu = sb.vendor("zendesk_ai")
    days = [START + timedelta(days=i) for i in range(n)]
    return [d for d in days if emu.export(bot, d) is not None], [
        d for d in days if emu.export(bot, d) is None
    ]


def test_zendesk_auth(sb):
    refused = zd_post(sb, START, key="Bearer " + ZD["api_key"])
    assert (refused.status_code, refused.text) == (401, "Unauthorized")  # as documented
    assert zd_post(sb, START, key="sbx-wrong").status_code == 401
    assert zd_post(sb, START, org="org-other").status_code == 401
    assert zd_post(sb, "2025-02-30").status_code == 400
    assert zd_post(sb, "03/01/2025").status_code == 400


def test_zendesk_404_days(sb):
    with_export, without = export_days(sb, n=40)
    assert without, "about one day in eight has no export"
    r = zd_post(sb, without[0])
    assert (r.status_code, r.content) == (404, b"")  # the docs show no 404 body
    assert zd_post(sb, sb.now().date()).status_code == 404
    assert zd_post(sb, sb.now().date() + timedelta(days=3)).status_code == 404
    assert zd_post(sb, with_export[0], bot="missing-bot").status_code == 404
    assert zd_post(sb, with_export[0], bot="forbidden-bot").status_code == 403
    assert sb.truth("zendesk_ai_conversations", without[0], without[0] + timedelta(days=1),
                    bot_id="bot-a") == []


def test_zendesk_signed_files(sb):
    day = export_days(sb)[0][0]
    r = zd_post(sb, day, ttl=30)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["date"] == day.isoformat()
    urls = urls_of(body)
    assert 1 <= len(urls) <= 3
    got = []
    for url in urls:
        parts = urlsplit(url)
        assert parts.path.endswith(f"_{day:%Y%m%d}_{urls.index(url):012d}.json")
        expires = int(parse_qs(parts.query)["expires"][0])
        assert 29 * 60 < expires - time.time() <= 30 * 60 + 5
        f = requests.get(url, timeout=10)
        assert f.status_code == 200
        got.extend(parse_file(f))
    truth = sb.truth("zendesk_ai_conversations", day, day + timedelta(days=1), bot_id="bot-a")
    assert got == truth and truth
    for rec in got:
        assert set(rec) <= set(FIELDS)
        # one of the two documented spellings of the customer's message count
        assert len({"customer_messages_count", "visitor_messages_count"} & set(rec)) == 1
        assert rec["conversation_end_time"].startswith(day.isoformat())
        assert rec["bot_messages_count"].isdigit()
    keys = sb.truth_keys("zendesk_ai_conversations", day, day + timedelta(days=1), bot_id="bot-a")
    assert keys == {("bot-a", rec["conversation_id"]) for rec in got}

    # tampered / missing signature: 403; a file path the signature does not cover: 403
    url = urls[0]
    parts = urlsplit(url)
    q = parse_qs(parts.query)
    sig = q["signature"][0]
    tampered = url.replace(sig, ("0" if sig[0] != "0" else "1") + sig[1:])
    r403 = requests.get(tampered, timeout=10)
    assert r403.status_code == 403 and "<Error>" in r403.text
    bare = urlunsplit(parts._replace(query=""))
    assert requests.get(bare, timeout=10).status_code == 403
    other = url.replace("_000000000000.json", "_000000000009.json")
    assert requests.get(other, timeout=10).status_code == 403


def test_zendesk_expired_urls():
    with Sandbox(seed=7, per_day=12, zendesk_expired_urls=1) as sandbox:
        day = export_days(sandbox)[0][0]
        first = urls_of(zd_post(sandbox, day).json())
        r = requests.get(first[0], timeout=10)
        assert r.status_code == 400 and "<Code>ExpiredToken</Code>" in r.text
        again = urls_of(zd_post(sandbox, day).json())
        assert requests.get(again[0], timeout=10).status_code == 200


def test_zendesk_file_variants_in_ten_days(sb):
    seen = {"upper": 0, "lower": 0, "jsonl": 0, "array": 0, "gzip": 0, "plain": 0,
            "data_str": 0, "data_obj": 0, "signed_urls": 0, "urls": 0}
    days, _ = export_days(sb)
    for day in days:
        body = zd_post(sb, day).json()
        seen["signed_urls" if "signed_urls" in body else "urls"] += 1
        records = []
        for url in urls_of(body):
            raw = requests.get(url, timeout=10, stream=True)
            assert raw.status_code == 200
            seen["gzip" if raw.headers.get("Content-Encoding") == "gzip" else "plain"] += 1
            text = raw.content.decode()
            seen["array" if text.startswith("[") else "jsonl"] += 1
            if "BOT_ID" in text:
                seen["upper"] += 1
            elif '"bot_id"' in text:
                seen["lower"] += 1
            recs = parse_file(raw)
            for rec in recs:
                kind = isinstance(rec["conversations_data"], str)
                seen["data_str" if kind else "data_obj"] += 1
            records.extend(recs)
        truth = sb.truth("zendesk_ai_conversations", day, day + timedelta(days=1), bot_id="bot-a")
        assert records == truth
    assert all(seen.values()), seen


def test_zendesk_large_file_streams():
    with Sandbox(seed=7, per_day=12, zendesk_large_file_mb=1) as sandbox:
        day = START
        urls = urls_of(zd_post(sandbox, day, bot="bot-large").json())
        assert len(urls) == 1
        r = requests.get(urls[0], timeout=30, stream=True)
        assert r.status_code == 200
        assert r.headers.get("Transfer-Encoding") == "chunked"
        size, data = 0, bytearray()
        for chunk in r.iter_content(65536):
            size += len(chunk)
            data += chunk
        assert 0.9 * 2**20 < size < 1.1 * 2**20
        records = json.loads(bytes(data))
        emu = sandbox.vendor("zendesk_ai")
        assert len(records) == emu.large_file_count(day)
        truth = sandbox.truth("zendesk_ai_conversations", day, day + timedelta(days=1),
                              bot_id="bot-large")
        assert len(truth) == len(records)
        assert truth[0] == records[0] and truth[-1] == records[-1]
        assert len({rec["conversation_id"] for rec in records}) == len(records)


# ------------------------------------------------------------------ what the vendor docs show
# (see tests/test_sandbox.py: the same check for the other three vendors)

KORE_USED = "data[].agentActions[].used[]"


def test_kore_serves_only_what_its_docs_show(sb):
    text, docs = page("kore"), documented("kore")
    prose = [  # values the page names outside its sample response
        ("Tag type: user, message, or session.", "data[].tags[].type", "user", "session"),
        ("Action type. Example: SearchBarEntry, LibrarySelection",
         "data[].agentActions[].actionType", "LibrarySelection"),
        ("Type of used object. Example: DialogTask, FAQ, Answer, File, WebPage, "
         "GeneralDataSource", f"{KORE_USED}.targetType",
         "DialogTask", "FAQ", "File", "WebPage", "GeneralDataSource"),
        ("Objects used (Sent, Copied, Executed, Feedback, Clicked).",
         f"{KORE_USED}.target.answer.status", "Copied", "Executed", "Feedback", "Clicked"),
        ("playbook type (primary and dynamic)", "data[].playbookRuntimeData[].type", "dynamic"),
        ("Coaching action type. Example: nudge, hint", "data[].coachingRuntimeData[].actionType",
         "hint"),
    ]
    for quote, path, *values in prose:
        docs.add_values(text, quote, path, *values)
    served = []
    for agentic in ("false", "true"):
        served += kore_all(sb, limit=100, includeAgenticData=agentic,
                           **{"from": "2025-03-01 00:00:00", "to": "2025-03-31 00:00:00"})[1]
    assert sum(len(body["data"]) for body in served) > 500
    decisive = (
        "data[].tags[].name", "data[].tags[].type", "data[].agentActions[].actionType",
        f"{KORE_USED}.targetType", f"{KORE_USED}.target.answer.status",
        f"{KORE_USED}.target.answer.feedback.response",
        f"{KORE_USED}.target.answer.feedback.reasonCode[]",
        "data[].playbookRuntimeData[].type", "data[].playbookRuntimeData[].triggerType",
        "data[].playbookRuntimeData[].order", "data[].coachingRuntimeData[].actionType",
        "data[].coachingRuntimeData[].expression", "data[].agenticActivities[].reqStatus",
        "data[].agenticActivities[].resStatus", "data[].agenticActivities[].response[].type",
        "data[].agenticActivities[].usageDetails.usedType",
        "data[].agenticActivities[].feedback.response",
    )
    assert undocumented(docs, served, decisive=decisive) == []
    assert any(body["data"] and "agenticActivities" in body["data"][0] for body in served)


def test_zendesk_serves_only_what_its_docs_show(sb):
    text, docs = page("zendesk_ai"), documented("zendesk_ai")
    types = {"string": ("string",), "boolean": ("boolean",), "array of strings": ("array",)}
    for row in table_fields(text, "File schema", "Response example",
                            r"^\| (?P<name>\w+) \| (?P<type>string|boolean|array of strings) \|"):
        docs.add_field(row["name"], *types[row["type"]])
        if row["type"] == "array of strings":
            docs.add_field(f"{row['name']}[]", "string")
    # decided by the product where the docs leave it open: the list may be `signed_urls`
    docs.add_field("signed_urls", "array")
    docs.add_field("signed_urls[]", "string")
    prose = [
        ('Resolution of the conversation. For example, "bot_handled"', "conversation_status",
         "bot_handled"),
        ("conversation_status not in ('email', 'agent', 'customEscalation')",
         "conversation_status", "email", "agent", "customEscalation"),
        ("conversation_status = 'failedEscalation'", "conversation_status", "failedEscalation"),
        ('Possible values are "informed", "resolved", "escalated"', "last_resolution",
         "informed", "resolved", "escalated"),
        ('Possible values are "Use case", "Knowledge", "Hybrid", "Others"',
         "conversation_type", "Use case", "Knowledge", "Hybrid", "Others"),
        ('Possible values are "messaging", "email"', "channel", "messaging", "email"),
        ("-1: User was offered BSAT but did not leave a response",
         "conversations_data.bsatScore", -1),
        ("NULL: User was not offered BSAT", "conversations_data.bsatScore", None),
    ]
    for quote, path, *values in prose:
        docs.add_values(text, quote, path, *values)
    served, statuses, counts = [], set(), set()
    for day in export_days(sb, n=30)[0]:
        body = zd_post(sb, day).json()
        served.append(body)
        for url in urls_of(body):
            records = parse_file(requests.get(url, timeout=10))  # keys as documented
            served += records
            statuses |= {r["conversation_status"] for r in records}
            counts |= {name for r in records for name in r if name.endswith("messages_count")}
    assert len(served) > 200
    decisive = ("conversation_status", "last_resolution", "conversation_type", "channel",
                "conversations_data.bsatScore", "conversations_data.lastDetectedSentiment",
                "conversations_data.channel", "conversations_data.manageBooking",
                "triggered_replies[].reply_type")
    assert undocumented(docs, served, decisive=decisive) == []
    # both spellings of what the docs spell two ways occur, each export using one
    assert {"botHandled", "bot_handled"} <= statuses
    assert {"customer_messages_count", "visitor_messages_count"} <= counts
