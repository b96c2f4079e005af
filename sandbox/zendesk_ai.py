"""Zendesk AI agents (ultimate.ai) Data Export API emulator (``zendesk_ai_conversations``).

``POST /data-export/v3/get-signed-urls`` (headers ``botId``, ``organizationId``,
``authorization`` = the API key as it is; body ``{"date": "YYYY-MM-DD", "ttl": minutes}``)
answers ``{"date": ..., "urls": [...]}`` (or, for about half the (bot, day) pairs,
``"signed_urls"``) with 1-3 signed URLs ``/files/{bot}/{date}/conversation_..._N.json``
on the same server, which emulate Google Cloud Storage signed URLs (bad signature → 403,
expired → 400, both with an XML ``<Error>`` body).

Per (bot, day), deterministic from the sandbox rng: about 1 day in 8 has no export (404);
today, future days and days before 2024-01-01 have none either; ``missing-*`` bots answer
404 for every day, ``forbidden-*`` bots 403. Error bodies are what the docs show: 401
``Unauthorized`` (plain text), the other statuses an empty body.

Records hold the documented fields and values. Where the docs spell one thing two ways,
a (bot, day) export uses one spelling throughout: the status ``botHandled`` (example, SQL)
or ``bot_handled`` (field list); the customer's message count ``customer_messages_count``
(example, SQL) or ``visitor_messages_count`` (field list). ``automated_resolution`` is not
sent (the docs give none of its values); the "array of strings" whose strings the docs do
not show (``triggered_procedures``, ``triggered_use_cases``, ``knowledge_sources``) are
``[]``; ``conversations_data`` keys and values are the example's (``bsatScore`` 5, -1 or
null; ``email`` and ``location`` null).

Per file, deterministic: a JSON array or JSON Lines; top-level keys in upper case or not;
gzip-compressed (``Content-Encoding: gzip``) or not; ``conversations_data`` as a JSON
string or as an object.

Options (``sandbox.options``):
- ``zendesk_expired_urls`` = N: the first N successful get-signed-urls answers hand out
  URLs that have already expired;
- ``zendesk_large_file_mb`` = N: bot ``bot-large`` serves, for every past day, one JSON
  array file of about N MB, generated while it is sent (chunked), never held in memory;
  ``large_file_count(day)`` says how many records it holds;
- ``zendesk_large_record_kb`` = K: each record of that file is about K KB (padded in
  ``automated_resolution_reasoning``); default: its natural ~1.6 KB.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import os
import re
import threading
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from random import Random
from typing import Any
from urllib.parse import quote

from .core import (
    UTC,
    DayCache,
    Request,
    Response,
    Route,
    VendorEmulator,
    day_start,
    json_response,
    rng_between,
    rng_hex,
    rng_uuid,
    status_response,
    to_utc,
)

__all__ = ["FIELDS", "LARGE_BOT", "ZendeskAIEmulator", "normalise_keys"]

LARGE_BOT = "bot-large"
FIRST_EXPORT_DAY = date(2024, 1, 1)
DEFAULT_TTL_MINUTES = 1440
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CACHE_MAX_RECORDS = 20_000  # generated records kept (LRU of bot-days)
_CHUNK_BYTES = 64 * 1024

# --------------------------------------------------------------------------- helpers


def _ts(dt: datetime) -> str:
    """``2024-05-03T08:10:01.211+00:00``."""
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}+00:00"


def _gcs_error(status: int, code: str, message: str) -> Response:
    body = (
        "<?xml version='1.0' encoding='UTF-8'?>"
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    )
    return Response(
        status=status,
        body=body.encode(),
        headers={"Content-Type": "application/xml; charset=UTF-8"},
    )


# The documented top-level fields, as the docs spell them (a few have camelCase parts).
FIELDS = (
    "bot_id",
    "bot_name",
    "conversation_id",
    "platform_conversation_id",
    "conversation_start_time",
    "conversation_end_time",
    "conversation_type",
    "language",
    "channel",
    "labels",
    "segments",
    "conversations_data",
    "test_mode",
    "conversation_status",
    "automated_resolution",
    "automated_resolution_reasoning",
    "last_resolution",
    "triggered_replies",
    "triggered_intent_replies",
    "triggered_procedures",
    "triggered_use_cases",
    "has_knowledge_response_attempt",
    "is_llm_conversation",
    "knowledge_notUnderstood_count",
    "knowledge_responseGenerated_count",
    "knowledge_errorOccurred_count",
    "knowledge_escalationRequired_count",
    "knowledge_fallback_count",
    "knowledge_sources",
    "bot_messages_count",
    "visitor_messages_count",
    "customer_messages_count",
    "not_understood_messages_count",
)
_BY_UPPER = {name.upper(): name for name in FIELDS}


def normalise_keys(record: dict[str, Any]) -> dict[str, Any]:
    """Top-level keys as the docs spell them (``KNOWLEDGE_NOTUNDERSTOOD_COUNT`` ->
    ``knowledge_notUnderstood_count``); unknown keys in lower case."""
    return {_BY_UPPER.get(k.upper(), k.lower()): v for k, v in record.items()}


# --------------------------------------------------------------------------- pools

_BOT_NAMES = [
    "INDUSTRY DEMO (Travel) - SunCo",
    "Customer Care EN",
    "Retail Support Bot",
    "Billing Assistant",
    "Helpdesk DE",
]
_CONVERSATION_TYPES = ["Use case", "Knowledge", "Hybrid", "Others"]
_LANGUAGES = ["eng", "eng", "eng", "deu", "fra", "spa", "nld"]
_CHANNELS = ["messaging", "messaging", "messaging", "email", "chat"]
BOT_HANDLED = "botHandled"  # spelt "bot_handled" by the field list
_STATUSES = [
    (BOT_HANDLED, "resolved"),
    (BOT_HANDLED, "informed"),
    (BOT_HANDLED, "resolved"),
    ("agent", "escalated"),
    ("email", "escalated"),
    ("customEscalation", "escalated"),
    ("failedEscalation", "escalated"),
]
_LABELS = [
    "web",
    "API:getBookingDetails-Success",
    "API:getBookingDetails-Failure",
    "vip",
    "returning_customer",
    "mobile",
    "promo_2024",
]
_SEGMENTS = ["EU customers", "Premium", "New visitors", "Logged in"]
_REPLIES = ["Greeting", "Order status", "Refund policy", "Escalate to agent", "Goodbye"]
_INTENTS = ["Greeting", "Track order", "Request refund", "Change booking", "Talk to agent"]
_CITIES = [("Spain", "Barcelona"), ("Germany", "Berlin"), ("France", "Lyon"), ("Italy", "Rome")]
_REASONING = [
    "The customer confirmed the answer solved their question.",
    "The AI agent provided the tracking link and the customer ended the chat.",
    "The customer asked for a human agent.",
    "The customer's question was not answered.",
]


def bot_name(bot_id: str) -> str:
    return _BOT_NAMES[zlib.crc32(bot_id.encode()) % len(_BOT_NAMES)]


@dataclass(frozen=True)
class Spelling:
    """How one export spells what the docs spell two ways."""

    bot_handled: str = BOT_HANDLED  # or "bot_handled"
    customer_count: str = "customer_messages_count"  # or "visitor_messages_count"

    @classmethod
    def draw(cls, rng: Random) -> Spelling:
        return cls(
            bot_handled=BOT_HANDLED if rng.random() < 0.5 else "bot_handled",
            customer_count=(
                "customer_messages_count" if rng.random() < 0.5 else "visitor_messages_count"
            ),
        )


def _conversation(rng: Random, bot_id: str, day: date, spelling: Spelling) -> dict[str, Any]:
    r = rng
    end = day_start(day) + timedelta(milliseconds=r.randint(0, 86_400_000 - 1))
    start = end - timedelta(milliseconds=r.randint(5_000, 3 * 3_600_000))
    conversation_type = r.choice(_CONVERSATION_TYPES)
    status, last_resolution = r.choice(_STATUSES)
    if status == BOT_HANDLED:
        status = spelling.bot_handled
    language = r.choice(_LANGUAGES)
    knowledge = conversation_type in ("Knowledge", "Hybrid") or r.random() < 0.1
    customer = r.randint(0, 12)
    bot_messages = r.randint(0, 2) if customer == 0 else r.randint(customer, customer * 2 + 2)

    data: dict[str, Any] = {
        "bsatScore": r.choice([5, 5, -1, None, None]),
        "convoId": rng_hex(r),
        "email": None,
        "location": None,
        "confidence_score": r.randint(35, 100),
        "lastDetectedLanguage": language,
        "lastDetectedSentiment": "neutral",
        "usedLanguage": language,
        "channel": "web",
    }
    if r.random() < 0.35:
        country, city = r.choice(_CITIES)
        data["booking"] = [
            {
                "country": country,
                "url": "https://cdn.example.com/photo/house.jpg",
                "location": "41.3485806,1.9787689",
                "city": city,
                "numOfGuests": r.randint(1, 6),
                "days": r.randint(1, 14),
                "arrivalDate": f"{r.randint(1, 28):02d}-{r.randint(1, 12):02d}-2025",
            }
            for _ in range(r.randint(1, 2))
        ]
        data["city"] = city
        data["manageBooking"] = "possible"

    replies = []
    intent_replies = []
    for _ in range(r.randint(1, 5) if bot_messages else 0):
        at = rng_between(r, start, end)
        intent_id = rng_hex(r)
        replies.append(
            {
                "reply_timestamp": _ts(at),
                "reply_id": rng_hex(r),
                "reply_language": language,
                "reply_name": r.choice(_REPLIES),
                "reply_type": "normal",
                "intent_id": intent_id,
            }
        )
        intent_replies.append(
            {
                "intent_timestamp": _ts(at),
                "intent_id": intent_id,
                "intent_name": r.choice(_INTENTS),
                "not_meaningful": r.random() < 0.15,
            }
        )
    order = sorted(range(len(replies)), key=lambda i: replies[i]["reply_timestamp"])
    replies = [replies[i] for i in order]
    intent_replies = [intent_replies[i] for i in order]
    generated = r.randint(1, 4) if knowledge else 0
    not_understood = r.randint(0, customer // 2) if customer else 0
    return {
        "bot_id": bot_id,
        "bot_name": bot_name(bot_id),
        "conversation_id": rng_uuid(r),
        "platform_conversation_id": rng_hex(r),
        "conversation_start_time": _ts(start),
        "conversation_end_time": _ts(end),
        "conversation_type": conversation_type,
        "language": language,
        "channel": r.choice(_CHANNELS),
        "labels": r.sample(_LABELS, r.choice([0, 1, 2, 3])),
        "segments": r.sample(_SEGMENTS, r.choice([0, 0, 1, 2])),
        "conversations_data": data,
        "test_mode": r.random() < 0.05,
        "conversation_status": status,
        **({"automated_resolution_reasoning": r.choice(_REASONING)} if r.random() < 0.8 else {}),
        "last_resolution": last_resolution,
        "triggered_replies": replies,
        "triggered_intent_replies": intent_replies,
        "triggered_procedures": [],
        "triggered_use_cases": [],
        "has_knowledge_response_attempt": knowledge,
        "is_llm_conversation": knowledge and r.random() < 0.7,
        "knowledge_notUnderstood_count": str(r.randint(0, 2) if knowledge else 0),
        "knowledge_responseGenerated_count": str(generated),
        "knowledge_errorOccurred_count": str(r.choice([0, 0, 0, 1]) if knowledge else 0),
        "knowledge_escalationRequired_count": str(r.choice([0, 0, 1]) if knowledge else 0),
        "knowledge_fallback_count": str(r.choice([0, 0, 1, 2]) if knowledge else 0),
        "knowledge_sources": [],
        "bot_messages_count": str(bot_messages),
        spelling.customer_count: str(customer),
        "not_understood_messages_count": str(not_understood),
    }


# --------------------------------------------------------------------------- large file


def _large_record(bot_id: str, day: date, i: int, pad: int = 0) -> dict[str, Any]:
    """Record ``i`` of the large file: every serialisation has the same length."""
    end = day_start(day) + timedelta(milliseconds=(i * 7919) % 86_400_000)
    start = end - timedelta(seconds=61)
    ymd = day.strftime("%Y%m%d")
    return {
        "bot_id": bot_id,
        "bot_name": bot_name(bot_id),
        "conversation_id": f"large-{ymd}-{i:012d}",
        "platform_conversation_id": f"{i:024x}",
        "conversation_start_time": _ts(start),
        "conversation_end_time": _ts(end),
        "conversation_type": "Knowledge",
        "language": "eng",
        "channel": "messaging",
        "labels": ["web", "bulk"],
        "segments": [],
        "conversations_data": {
            "bsatScore": i % 5 + 1,
            "convoId": f"{i:024x}",
            "email": None,
            "location": None,
            "confidence_score": 50 + i % 50,
            "lastDetectedLanguage": "eng",
            "lastDetectedSentiment": "neutral",
            "usedLanguage": "eng",
            "channel": "web",
        },
        "test_mode": False,
        "conversation_status": "botHandled",
        "automated_resolution_reasoning": "The customer confirmed the answer solved it."
        + " " * pad,
        "last_resolution": "resolved",
        "triggered_replies": [
            {
                "reply_timestamp": _ts(start + timedelta(seconds=1)),
                "reply_id": f"{i:024x}",
                "reply_language": "eng",
                "reply_name": "Greeting",
                "reply_type": "normal",
                "intent_id": f"{i + 1:024x}",
            }
        ],
        "triggered_intent_replies": [
            {
                "intent_timestamp": _ts(start + timedelta(seconds=1)),
                "intent_id": f"{i + 1:024x}",
                "intent_name": "Greeting",
                "not_meaningful": False,
            }
        ],
        "triggered_procedures": [],
        "triggered_use_cases": [],
        "has_knowledge_response_attempt": True,
        "is_llm_conversation": True,
        "knowledge_notUnderstood_count": "0",
        "knowledge_responseGenerated_count": str(i % 9 + 1),
        "knowledge_errorOccurred_count": "0",
        "knowledge_escalationRequired_count": "0",
        "knowledge_fallback_count": "0",
        "knowledge_sources": [],
        "bot_messages_count": str(i % 9 + 1),
        "customer_messages_count": str(i % 7 + 1),
        "not_understood_messages_count": "0",
    }


def _large_line(bot_id: str, day: date, i: int, pad: int = 0) -> bytes:
    return json.dumps(_large_record(bot_id, day, i, pad), separators=(",", ":")).encode()


class _LazyRecords(Sequence):
    """The large file's records across days, generated on access."""

    def __init__(self, bot_id: str, days: list[tuple[date, int]], pad: int) -> None:
        self.bot_id = bot_id
        self.days = days
        self.pad = pad

    def __len__(self) -> int:
        return sum(n for _, n in self.days)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        for day, n in self.days:
            if 0 <= index < n:
                return _large_record(self.bot_id, day, index, self.pad)
            index -= n
        raise IndexError(index)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for day, n in self.days:
            for i in range(n):
                yield _large_record(self.bot_id, day, i, self.pad)


# --------------------------------------------------------------------------- exports


@dataclass
class _File:
    n: int
    jsonl: bool
    upper: bool
    gzipped: bool
    data_as_string: bool
    records: list[dict[str, Any]] = field(default_factory=list)

    def served_records(self) -> list[dict[str, Any]]:
        """Records as in the file, keys as documented (lower case)."""
        out = []
        for rec in self.records:
            rec = dict(rec)
            if self.data_as_string:
                rec["conversations_data"] = json.dumps(rec["conversations_data"])
            out.append(rec)
        return out

    def content(self) -> bytes:
        recs = self.served_records()
        if self.upper:
            recs = [{k.upper(): v for k, v in rec.items()} for rec in recs]
        if self.jsonl:
            raw = "".join(json.dumps(rec) + "\n" for rec in recs)
        elif recs:
            raw = "[\n" + ",\n".join(json.dumps(rec) for rec in recs) + "\n]\n"
        else:
            raw = "[]\n"
        data = raw.encode()
        return gzip.compress(data, mtime=0) if self.gzipped else data


@dataclass
class _Export:
    list_key: str
    files: list[_File]


#: what the sandbox accepts from a client, and a test config's block for this vendor
CREDENTIALS: dict[str, str] = {"api_key": "sbx-zendesk-key-e7b310", "organization_id": "org-sbx"}
#: settings a Meltano run against the sandbox gets from the environment (secrets)
MELTANO_SECRETS = ("api_key",)


def tap_settings() -> dict[str, Any]:
    """The vendor's settings block of a tap config against the sandbox (no base_url)."""
    return {**CREDENTIALS, "bot_ids": ["98174e8d635471c383b9ec7b"]}


class ZendeskAIEmulator(VendorEmulator):
    name = "zendesk_ai"
    streams = ("zendesk_ai_conversations",)

    def __init__(self, sandbox: Any) -> None:
        super().__init__(sandbox)
        self._secret = os.urandom(32)
        self._lock = threading.Lock()
        self._issued = 0  # successful get-signed-urls answers so far
        self._cache = DayCache(_CACHE_MAX_RECORDS)

    def routes(self) -> list[Route]:
        return [
            Route(
                "POST",
                r"/data-export/v3/get-signed-urls",
                self.handle_signed_urls,
                endpoint="zendesk_ai.signed_urls",
            ),
            Route(
                "GET",
                r"/files/(?P<bot>[^/]+)/(?P<date>[^/]+)/(?P<name>[^/]+)",
                self.handle_file,
                endpoint="zendesk_ai.files",
            ),
        ]

    # ---- data
    def _large_mb(self, bot_id: str) -> float:
        if bot_id != LARGE_BOT:
            return 0
        return float(self.options.get("zendesk_large_file_mb") or 0)

    def _large_pad(self) -> int:
        """Padding that makes each large-file record about `zendesk_large_record_kb` KB."""
        kb = float(self.options.get("zendesk_large_record_kb") or 0)
        natural = len(_large_line(LARGE_BOT, date(2026, 1, 1), 0))
        return max(0, int(kb * 1024) - natural)

    def _available(self, bot_id: str, day: date) -> bool:
        """Could an export exist for that day (bot prefix, date range)?"""
        if bot_id.startswith(("missing-", "forbidden-")):
            return False
        return FIRST_EXPORT_DAY <= day < self.now().date()

    def large_file_count(self, day: date, bot_id: str = LARGE_BOT) -> int:
        """Records in the large file of ``day`` (0 when the day has no export)."""
        mb = self._large_mb(bot_id)
        if not mb or not self._available(bot_id, day):
            return 0
        size = len(_large_line(bot_id, day, 0, self._large_pad())) + 2  # ",\n"
        return max(1, int(mb * 1024 * 1024) // size)

    def export(self, bot_id: str, day: date) -> _Export | None:
        """The export of (bot, day), ``None`` when there is none."""
        if not self._available(bot_id, day):
            return None
        if self._large_mb(bot_id):
            large = _File(0, jsonl=False, upper=False, gzipped=False, data_as_string=False)
            return _Export("urls", [large])
        found = self._cache.get(
            (bot_id, self.per_day, day),
            lambda: [self._build_export(bot_id, day)],
            lambda box: 1 + sum(len(f.records) for f in (box[0].files if box[0] else [])),
        )
        return found[0]

    def _build_export(self, bot_id: str, day: date) -> _Export | None:
        r = self.rng(bot_id, day)
        if r.random() < 1 / 8:
            return None
        list_key = "signed_urls" if r.random() < 0.5 else "urls"
        files = [
            _File(
                n,
                jsonl=r.random() < 0.35,
                upper=r.random() < 0.3,
                gzipped=r.random() < 0.3,
                data_as_string=r.random() < 0.5,
            )
            for n in range(r.choice([1, 1, 2, 3]))
        ]
        count = self.day_count(r)
        spelling = Spelling.draw(r)
        records = [_conversation(r, bot_id, day, spelling) for _ in range(count)]
        records.sort(key=lambda rec: rec["conversation_end_time"])
        # contiguous chunks, some possibly empty
        cuts = sorted(r.randint(0, count) for _ in range(len(files) - 1))
        bounds = [0, *cuts, count]
        for f, lo, hi in zip(files, bounds[:-1], bounds[1:], strict=True):
            f.records = records[lo:hi]
        return _Export(list_key, files)

    # ---- truth
    def truth(
        self,
        stream: str,
        start: date | datetime,
        end: date | datetime,
        *,
        bot_id: str,
        **_: Any,
    ) -> Sequence[dict[str, Any]]:
        """Records (keys as documented, otherwise as served) of the export days in
        ``[start, end)``; for the large bot a lazy sequence."""
        if stream != "zendesk_ai_conversations":
            raise KeyError(stream)
        lo, hi = to_utc(start), to_utc(end)
        day = lo.date() if lo == day_start(lo.date()) else lo.date() + timedelta(days=1)
        days = []
        while day_start(day) < hi:
            days.append(day)
            day += timedelta(days=1)
        if self._large_mb(bot_id):
            return _LazyRecords(bot_id, [(d, self.large_file_count(d, bot_id)) for d in days],
                                self._large_pad())
        out: list[dict[str, Any]] = []
        for d in days:
            exp = self.export(bot_id, d)
            for f in exp.files if exp else []:
                out.extend(f.served_records())
        return out

    def truth_keys(
        self, stream: str, start: date | datetime, end: date | datetime, **partition: Any
    ) -> set[tuple]:
        return {
            (r["bot_id"], r["conversation_id"])
            for r in self.truth(stream, start, end, **partition)
        }

    def truth_days(self, start: date, end: date, bot_id: str) -> list[date]:
        """Days in ``[start, end)`` that have an export."""
        out = []
        day = start
        while day < end:
            if self.export(bot_id, day) is not None:
                out.append(day)
            day += timedelta(days=1)
        return out

    # ---- signed URLs
    @staticmethod
    def file_name(bot_id: str, day: date, n: int) -> str:
        return f"conversation_{bot_id}_{day:%Y%m%d}_{n:012d}.json"

    def _path(self, bot_id: str, day: date, n: int) -> str:
        """The file's (percent-decoded) path, which the signature covers."""
        return f"/files/{bot_id}/{day.isoformat()}/{self.file_name(bot_id, day, n)}"

    def _sign(self, path: str, expires: int) -> str:
        return hmac.new(self._secret, f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def signed_url(self, bot_id: str, day: date, n: int, expires: int) -> str:
        path = self._path(bot_id, day, n)
        parts = ("files", bot_id, day.isoformat(), self.file_name(bot_id, day, n))
        quoted = "".join("/" + quote(part, safe="") for part in parts)
        return f"{self.sandbox.url}{quoted}?expires={expires}&signature={self._sign(path, expires)}"

    # ---- handlers
    def handle_signed_urls(self, req: Request) -> Response:
        creds = CREDENTIALS
        if req.headers.get("organizationId") != creds["organization_id"]:
            return status_response(401, "Unauthorized")
        if req.headers.get("authorization") != creds["api_key"]:
            return status_response(401, "Unauthorized")
        bot_id = (req.headers.get("botId") or "").strip()
        if not bot_id:
            return status_response(400)
        try:
            payload = json.loads(req.body or b"")
        except ValueError:
            return status_response(400)
        if not isinstance(payload, dict):
            return status_response(400)
        raw_date = payload.get("date")
        if not isinstance(raw_date, str) or not _DATE_RE.fullmatch(raw_date):
            return status_response(400)
        try:
            day = date.fromisoformat(raw_date)
        except ValueError:
            return status_response(400)
        ttl = payload.get("ttl", DEFAULT_TTL_MINUTES)
        if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0:
            return status_response(400)

        if bot_id.startswith("forbidden-"):
            return status_response(403)
        exp = self.export(bot_id, day)
        if exp is None:
            return status_response(404)

        with self._lock:
            index = self._issued
            self._issued += 1
        now = self.now().timestamp()
        if index < int(self.options.get("zendesk_expired_urls") or 0):
            expires = int(now) - 3600
        else:
            expires = int(now) + ttl * 60
        urls = [self.signed_url(bot_id, day, f.n, expires) for f in exp.files]
        return json_response({"date": day.isoformat(), exp.list_key: urls})

    def handle_file(self, req: Request) -> Response:
        bot_id = req.match.group("bot")
        raw_date = req.match.group("date")
        name = req.match.group("name")
        expires_raw = req.query.get("expires") or ""
        signature = req.query.get("signature") or ""
        if not signature or not expires_raw.isdigit():
            return _gcs_error(
                403,
                "AccessDenied",
                "Access denied. Anonymous caller does not have storage.objects.get access "
                "to the Google Cloud Storage object.",
            )
        try:
            day = date.fromisoformat(raw_date)
        except ValueError:
            day = None
        m = re.fullmatch(r"conversation_.+_(\d{8})_(\d{12})\.json", name)
        path = None
        if day is not None and m and m.group(1) == f"{day:%Y%m%d}":
            path = self._path(bot_id, day, int(m.group(2)))
        expires = int(expires_raw)
        if (
            path is None
            or path != req.path
            or not hmac.compare_digest(signature, self._sign(path, expires))
        ):
            return _gcs_error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you "
                "provided. Check your Google secret key and signing method.",
            )
        if expires < self.now().timestamp():
            return _gcs_error(
                400,
                "ExpiredToken",
                "Invalid argument. The provided token has expired. Request signature expired.",
            )
        assert day is not None and m is not None
        n = int(m.group(2))
        exp = self.export(bot_id, day)
        if exp is None or n >= len(exp.files):
            return _gcs_error(404, "NoSuchKey", "The specified key does not exist.")
        headers = {"Content-Type": "application/json"}
        if self._large_mb(bot_id):
            return Response(status=200, body=self._large_stream(bot_id, day), headers=headers)
        f = exp.files[n]
        if f.gzipped:
            headers["Content-Encoding"] = "gzip"
        return Response(status=200, body=f.content(), headers=headers)

    def _large_stream(self, bot_id: str, day: date) -> Iterator[bytes]:
        count = self.large_file_count(day, bot_id)
        pad = self._large_pad()
        buf = bytearray(b"[\n")
        for i in range(count):
            if i:
                buf += b",\n"
            buf += _large_line(bot_id, day, i, pad)
            if len(buf) >= _CHUNK_BYTES:
                yield bytes(buf)
                buf.clear()
        buf += b"\n]\n"
        yield bytes(buf)
