"""Kore.ai AgentAssist Raw Data API v2 emulator (``kore_interactions``).

``GET|POST /agentassist/api/v1/public/{streamId}/v2/agentassistinteractions``

Behaviour (its vendor doc, and docs/vendors/kore.md "Where the vendor docs are silent"):

- headers ``accountId`` (must be the sandbox account) and ``auth`` (a JWT, bare or
  ``Bearer``-prefixed, HS256 with the client secret, ``appId`` claim = client id, ``exp``
  checked when present); failures answer 401;
- the docs show no error body: every error answers its status with an empty body;
- ``streamId``: the sandbox stream id has data, ``forbidden-*`` answers 403, any other
  id (``missing-*`` included) answers 404;
- ``from``/``to``: ``YYYY-MM-DD HH:MM:SS`` (UTC) or ``YYYY-MM-DD`` (a date-only ``to``
  means the end of that day); both ends inclusive, compared with the records' millisecond
  timestamps; unparsable or ``from > to`` → 400;
- ``offset`` (default 0) / ``limit`` (default 100, > 100 → 400);
- ``includeAgenticData=true`` adds ``agenticActivities`` (absent otherwise);
- ``POST {"sessionIds": [...]}`` keeps the records of those ``botSessionID`` s;
- records are served ordered by ``segmentID`` (deterministic, not time order);
- records hold what the sample response shows, no more: tags named ``intent`` (tag keys
  are the customer's own; the sample has that one), ``SearchBarEntry`` actions (the only
  action whose ``action`` the docs describe), uses of answers only (``target.answer`` is
  the only target the docs show), and ``[]`` wherever the sample shows ``[]`` (playbook
  ``stages``, coaching ``emails``, ``answerLinkClicked``, proactive suggestions and their
  ``used``); enumerated values are the documented ones (feedback ``up``, trigger ``auto``,
  order ``sequential``, expression ``positive``, response type ``suggestion``...);
- option ``kore_omit_has_more``: pages carry no ``hasMore`` key;
- option ``kore_rate_limit``: admitted requests per stream in any sliding 60 s (default 60,
  Kore's published limit for analytics APIs; 0 disables). Over it -> 429, Retry-After: 60.
"""

from __future__ import annotations

import json
import warnings
from datetime import date, datetime, time, timedelta
from random import Random
from typing import Any, NamedTuple

import jwt

from .core import (
    UTC,
    DayCache,
    RateLimiter,
    Request,
    Response,
    Route,
    VendorEmulator,
    json_response,
    rng_between,
    rng_hex,
    rng_uuid,
    status_response,
    to_utc,
)

__all__ = ["KoreEmulator", "format_ts", "parse_window_param"]

PATH = r"/agentassist/api/v1/public/(?P<stream_id>[^/]+)/v2/agentassistinteractions"
MAX_LIMIT = 100
DEFAULT_LIMIT = 100
_CACHE_MAX_RECORDS = 25_000  # generated records kept, as JSON text (LRU of partition-days)

# --------------------------------------------------------------------------- helpers


def format_ts(dt: datetime) -> str:
    """``2026-02-25T09:33:10.120Z`` (UTC, milliseconds)."""
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_window_param(value: str | None, *, end: bool) -> datetime | None:
    """Parse ``from``/``to``; ``None`` when unparsable."""
    if not value:
        return None
    value = value.strip()
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            parsed = datetime.strptime(value, fmt)
        except ValueError:
            continue
        parsed = parsed.replace(tzinfo=UTC)
        if fmt == "%Y-%m-%d" and end:
            parsed += timedelta(days=1) - timedelta(milliseconds=1)
        return parsed
    return None


# --------------------------------------------------------------------------- pools

_AGENTS = [
    ("John", "Smith", "jsmith01"),
    ("Maria", "Garcia", "mgarcia"),
    ("Wei", "Chen", "agent-7c21"),
    ("Aisha", "Khan", "akhan22"),
    ("Lukas", "Müller", "lmueller"),
    ("Sofia", "Rossi", "agent-91fe"),
    ("Kenji", "Tanaka", "ktanaka"),
    ("Olivia", "Brown", "obrown07"),
]
_CHANNELS = ["chat", "chat", "chat", "voice", "email", "sms", "whatsapp"]
_QUEUES = [
    ("qu-2335c1-8et33-33535-133535", "CreditCard"),
    ("qu-5a7f10-1bd42-9c0e2-77aa01", "SupportQueue"),
    ("qu-91d3e2-66fa0-0b1c4-3e5d20", "Billing"),
    ("qu-0c4b77-2e1d9-a8f35-c4e911", "Retention"),
]
_INTENTS = ["refund_request", "balance_inquiry", "card_lost", "address_change"]
_PHRASES = [
    "refund policy",
    "how to reset pin",
    "card replacement fee",
    "change billing address",
    "international transfer limits",
    "cancel subscription",
    "dispute a charge",
]
_UTTERANCES = [
    "What is my account balance?",
    "I want a refund for my last order.",
    "My card was stolen yesterday.",
    "Can I change the address on my account?",
    "Why was I charged twice?",
    "How do I cancel my subscription?",
    "Hola, necesito ayuda con mi tarjeta.",
]
_DIALOGS = ["Cancel Account", "Reset PIN", "Block Card", "Update Address", "Open Dispute"]
_SOURCES = [
    ("Refund Policy", "https://example.com/refund"),
    ("Card Services FAQ", "https://example.com/help/cards"),
    ("Fees and Charges", "https://example.com/fees"),
    ("Account Closure", "https://example.com/help/close-account"),
]
_USED_STATUS = ["Sent", "Copied", "Executed", "Feedback", "Clicked"]
_COACHING_RULES = [
    ("Greeting Compliance", "Use Standard Greeting"),
    ("Empathy Check", "Acknowledge the customer's frustration"),
    ("Hold Etiquette", "Ask before placing the customer on hold"),
    ("Closing Script", "Offer further help before closing"),
]


# --------------------------------------------------------------------------- records


class _Gen:
    """Builds one day's segment records from one ``Random``."""

    def __init__(self, rng: Random, day: date, stream_id: str) -> None:
        self.rng = rng
        self.day = day
        self.stream_id = stream_id

    def counts(self) -> dict[str, int]:
        r = self.rng
        return {
            "countDialogTasks": r.randint(0, 2),
            "countFaqs": r.randint(0, 2),
            "countAnswers": r.randint(0, 3),
            "countFiles": r.randint(0, 1),
            "countWebPages": r.randint(0, 2),
            "countFromNonNativeDataSource": r.randint(0, 1),
        }

    def suggestions(self) -> dict[str, Any]:
        r = self.rng
        dialogs = [{"name": n} for n in r.sample(_DIALOGS, r.randint(0, 2))]
        answers = []
        for _ in range(r.randint(0, 2)):
            sources = [{"title": t, "url": u} for t, u in r.sample(_SOURCES, r.randint(0, 2))]
            answers.append(
                {
                    "content": r.choice(
                        [
                            "You can request a refund within 30 days of purchase.",
                            "Replacement cards arrive in 5-7 business days.",
                            "[REDACTED_GENERATED_ANSWER]",
                            "International transfers are limited to 10,000 USD per day.",
                        ]
                    ),
                    "positionId": f"dg-{r.randint(10**9, 10**10 - 1)}",
                    "sources": sources,
                    "internalFlag": r.random() < 0.2,
                }
            )
        return {"dialogs": dialogs, "answers": answers}

    def used(self, start: datetime, end: datetime, position_id: str | None) -> list[dict]:
        r = self.rng
        out = []
        for _ in range(r.choice([0, 0, 1, 1, 2])):
            out.append(
                {
                    "targetType": "Answer",
                    "target": {
                        "answer": {
                            "status": r.choice(_USED_STATUS),
                            "usedTime": format_ts(rng_between(r, start, end)),
                            "showMoreClicked": r.random() < 0.3,
                            "answerLinkClicked": [],
                            "internalInfoMoreClicked": r.random() < 0.1,
                            "positionId": position_id or f"dg-{r.randint(10**9, 10**10 - 1)}",
                            "feedback": {
                                "response": "up",
                                "reasonCode": ["Correct Intent"] if r.random() < 0.6 else [],
                                "comment": r.choice(
                                    ["", "[REDACTED]", "Answer was spot on", "Outdated fee table"]
                                ),
                            },
                        }
                    },
                }
            )
        return out

    def agent_action(self, start: datetime, end: datetime) -> dict[str, Any]:
        r = self.rng
        typing = rng_between(r, start, end)
        execution = typing + timedelta(milliseconds=r.randint(100, 3000))
        display = execution + timedelta(milliseconds=r.randint(200, 2500))
        suggestions = self.suggestions()
        shown = [f"Suggestion {i + 1}" for i in range(r.randint(0, 3))]
        answers = suggestions["answers"]
        position = answers[0]["positionId"] if answers else None
        return {
            "actionType": "SearchBarEntry",
            "action": {
                "searchPhrase": r.choice(_PHRASES),
                "typingStartTime": format_ts(typing),
                "executionStartTime": format_ts(execution),
                "displayTime": format_ts(display),
                "suggestionsShown": shown,
                "suggestionUsed": r.randint(0, len(shown)),
                "phraseInput": r.choice(_PHRASES),
                "correctionsPresented": (presented := r.randint(0, 3)),
                "correctionsAccepted": r.randint(0, presented),
                "countDisplayedAnswers": self.counts(),
                "suggestions": suggestions,
            },
            "used": self.used(display, end + timedelta(seconds=1), position),
        }

    def proactive(self, start: datetime, end: datetime) -> dict[str, Any]:
        r = self.rng
        display = rng_between(r, start, end)
        return {
            "utterance": r.choice(_UTTERANCES),
            "suggestions": {"dialogs": [], "answers": []},
            "displayTime": format_ts(display),
            "countDisplayedAnswers": self.counts(),
            "used": [],
        }

    def playbook(self, start: datetime, end: datetime) -> dict[str, Any]:
        r = self.rng
        opened = rng_between(r, start, start + (end - start) / 4)
        closed = rng_between(r, opened, end)
        total = r.randint(1, 6)
        adhered = sum(r.random() < 0.75 for _ in range(total))
        rate = round(100 * adhered / total, 2)
        if isinstance(rate, float) and rate.is_integer():
            rate = int(rate)
        return {
            "_id": f"playbookRuntime-{rng_hex(r, 12)}",
            "playbookId": f"acl-{rng_uuid(r)}",
            "type": r.choice(["primary", "primary", "dynamic"]),
            "triggerType": "auto",
            "language": r.choice(["en", "en", "es", "de"]),
            "order": "sequential",
            "openedAt": format_ts(opened),
            "closedAt": format_ts(closed),
            "adheredSteps": adhered,
            "adherenceRate": rate,
            "stages": [],
            "totalStages": {"stage-1": total},
        }

    def coaching(self, start: datetime, end: datetime) -> dict[str, Any]:
        r = self.rng
        rule, title = r.choice(_COACHING_RULES)
        triggered = rng_between(r, start, end)
        adhered = r.random() < 0.6
        return {
            "_id": f"coachingRuntime-{rng_hex(r, 12)}",
            "ruleId": f"acr-{rng_uuid(r)}",
            "ruleName": rule,
            "messageId": f"ms-{rng_uuid(r)}",
            "triggeredAt": format_ts(triggered),
            "actionType": r.choice(["nudge", "hint"]),
            "actionId": f"action-{rng_hex(r, 6)}",
            "expression": "positive",
            "message": {"title": title, "body": r.choice(["[REDACTED]", f"Reminder: {title}."])},
            "emails": [],
            "adherence": {"criteria": r.choice(["Greeting template used", "Phrase detected"])},
            "isAdhered": adhered,
            # a time only when there was adherence (the docs show no null)
            **({"adheredAt": format_ts(triggered + timedelta(seconds=r.randint(2, 60)))}
               if adhered else {}),
        }

    def agentic(self, start: datetime, end: datetime, session_id: str) -> dict[str, Any]:
        r = self.rng
        requested = rng_between(r, start, end)
        return {
            "utterance": r.choice(_UTTERANCES),
            "requestId": f"aa-{rng_uuid(r)}",
            "requestTime": format_ts(requested),
            "reqStatus": "200",
            "response": [
                {
                    "type": "suggestion",
                    "content": r.choice(["[REDACTED_RESPONSE]", "Offer the card block dialog."]),
                }
                for _ in range(r.randint(1, 2))
            ],
            "responseTime": format_ts(requested + timedelta(milliseconds=r.randint(300, 4000))),
            "resStatus": 200,
            "sessionInfo": {"botSessionID": session_id},
            "participantId": f"participant-{rng_hex(r, 8)}",
            "streaming": r.random() < 0.4,
            "usageDetails": {"usedType": "send"},
            "feedback": {"response": "up"},
        }

    def day_records(self, n: int) -> list[tuple[datetime, dict[str, Any]]]:
        """``n`` records of the day, as ``(segment start, record)`` (agenticActivities kept)."""
        r = self.rng
        day_start = datetime.combine(self.day, time(), tzinfo=UTC)
        n_sessions = max(1, min(n, r.randint(2, 4) if n > 2 else 1))
        sessions = [
            (rng_hex(r, 24), f"conv-{rng_hex(r, 10)}", r.choice(_CHANNELS))
            for _ in range(n_sessions)
        ]
        out = []
        for _ in range(n):
            session_id, conversation_id, channel = r.choice(sessions)
            start = day_start + timedelta(milliseconds=r.randint(0, 86_400_000 - 1))
            end = start + timedelta(milliseconds=r.randint(20_000, 1_500_000))
            first, last, agent_id = r.choice(_AGENTS)
            if r.random() < 0.7:
                agent = {
                    "firstName": first,
                    "lastName": last,
                    "email": f"{first.lower()}.{agent_id}@example.com",
                    "name": f"{first} {last}",
                    "agentId": agent_id,
                }
            else:
                agent = {"agentId": agent_id}
            tags = []
            for _ in range(r.choice([0, 0, 1, 2, 3])):
                tags.append(
                    {
                        "type": "message",
                        "name": "intent",
                        "value": r.choice(_INTENTS),
                        "messageID": f"ms-{rng_uuid(r)}",
                        "createdAt": format_ts(rng_between(r, start, end)),
                    }
                )
            queue_id, queue_name = r.choice(_QUEUES)
            record = {
                "conversationID": conversation_id,
                "botSessionID": session_id,
                "channel": channel,
                "segmentID": f"ac-{rng_uuid(r)}",
                "agent": agent,
                "tags": tags,
                "segmentStartTime": format_ts(start),
                "segmentEndTime": format_ts(end),
                "agentActions": [
                    self.agent_action(start, end) for _ in range(r.choice([0, 0, 1, 1, 2, 3]))
                ],
                "proActiveSuggestions": [
                    self.proactive(start, end) for _ in range(r.choice([0, 1, 1, 2]))
                ],
                "queueInfo": {"queueId": queue_id, "queueName": queue_name},
                "countScrollUp": r.randint(0, 6),
                "countScrollDn": r.randint(0, 8),
                "isWelcomeMsgRead": r.random() < 0.65,
                "linksClicked": [
                    {"url": u, "timestamp": format_ts(rng_between(r, start, end))}
                    for _, u in r.sample(_SOURCES, r.choice([0, 0, 1, 2]))
                ],
                "playbookRuntimeData": [
                    self.playbook(start, end) for _ in range(r.choice([0, 0, 1, 1, 2]))
                ],
                "coachingRuntimeData": [
                    self.coaching(start, end) for _ in range(r.choice([0, 0, 1, 2]))
                ],
                "agenticActivities": [
                    self.agentic(start, end, session_id)
                    for _ in range(r.choice([0, 0, 0, 1, 1, 2, 3]))
                ],
            }
            out.append((start, record))
        return out


# --------------------------------------------------------------------------- emulator


class _Stored(NamedTuple):
    """One generated record, kept as JSON text (a fraction of the memory of the dicts)."""

    start: datetime
    segment_id: str
    session_id: str
    text: str


KORE_CLIENT_ID = "cs-sbx-client"
KORE_CLIENT_SECRET = "sbx-kore-secret-8d2a61"
# A ready JWT for Kore's `auth` header: HS256, signed with the client secret, `appId` claim =
# client id, fixed issue time and an expiry far in the future (so the value is constant).
# (PyJWT warns that this 22-byte secret is short for HS256; it is the spec's fixed value.)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    KORE_JWT = jwt.encode(
        {"appId": KORE_CLIENT_ID, "iat": 1735689600, "exp": 4102444800},  # 2025 .. 2100
        KORE_CLIENT_SECRET,
        algorithm="HS256",
    )

#: what the sandbox accepts from a client, and a test config's block for this vendor
CREDENTIALS: dict[str, str] = {
    "account_id": "acct-sbx",
    "stream_id": "st-sbx-1",
    "jwt": KORE_JWT,
    "client_id": KORE_CLIENT_ID,
    "client_secret": KORE_CLIENT_SECRET,
}
#: settings a Meltano run against the sandbox gets from the environment (the sandbox
#: environment of meltano.yml mints its JWTs from client_id + client_secret)
MELTANO_SECRETS = ("client_secret",)
#: a test config that runs as fast as the sandbox allows (its Kore limit is off in tests)
FAST = {"requests_per_minute": 6000}


def tap_settings() -> dict[str, Any]:
    """The vendor's settings block of a tap config against the sandbox (no base_url)."""
    return {key: CREDENTIALS[key] for key in ("stream_id", "account_id", "jwt")}


class KoreEmulator(VendorEmulator):
    name = "kore"
    streams = ("kore_interactions",)

    def __init__(self, sandbox: Any) -> None:
        super().__init__(sandbox)
        self._cache = DayCache(_CACHE_MAX_RECORDS)
        self._limiter = RateLimiter(window=60.0)

    # ---- routing
    def routes(self) -> list[Route]:
        return [
            Route("GET", PATH, self.handle, endpoint="kore.interactions"),
            Route("POST", PATH, self.handle, endpoint="kore.interactions"),
        ]

    # ---- data
    def _day(self, stream_id: str, day: date) -> list[_Stored]:
        """All records of (stream, day), agentic data kept."""

        def build() -> list[_Stored]:
            rng = self.rng(stream_id, day)
            return [
                _Stored(ts, rec["segmentID"], rec["botSessionID"], json.dumps(rec))
                for ts, rec in _Gen(rng, day, stream_id).day_records(self.day_count(rng))
            ]

        return self._cache.get((stream_id, self.per_day, day), build)

    def select(
        self,
        stream_id: str,
        start: datetime,
        end: datetime,
        *,
        end_inclusive: bool,
        session_ids: list[str] | None = None,
    ) -> list[_Stored]:
        """Stored records with ``start <= segmentStartTime <= end`` (``< end`` unless
        ``end_inclusive``), never later than now, ordered by segmentID."""
        now = self.now()
        upper = min(end, now)
        wanted = set(session_ids) if session_ids else None
        out = []
        day = start.date()
        while day <= upper.date():
            for stored in self._day(stream_id, day):
                ts = stored.start
                if ts < start or ts > now:
                    continue
                if ts > end or (ts == end and not end_inclusive):
                    continue
                if wanted is not None and stored.session_id not in wanted:
                    continue
                out.append(stored)
            day += timedelta(days=1)
        out.sort(key=lambda stored: stored.segment_id)
        return out

    @staticmethod
    def _shape(stored: _Stored, include_agentic_data: bool) -> dict[str, Any]:
        shaped = json.loads(stored.text)
        if not include_agentic_data:
            shaped.pop("agenticActivities", None)
        return shaped

    def truth(
        self,
        stream: str,
        start: date | datetime,
        end: date | datetime,
        *,
        stream_id: str | None = None,
        include_agentic_data: bool | str = False,
        session_ids: list[str] | str | None = None,
    ) -> list[dict[str, Any]]:
        """Records with segmentStartTime in ``[start, end)`` (dates mean midnight UTC), as
        served: ordered by segmentID, ``agenticActivities`` only with include_agentic_data,
        only the ``session_ids`` sessions when given. String arguments (from
        ``/_sandbox/truth``) are accepted: "true", "a,b"."""
        if stream != "kore_interactions":
            raise KeyError(f"kore has no stream {stream!r}")
        stream_id = stream_id or CREDENTIALS["stream_id"]
        if isinstance(include_agentic_data, str):
            include_agentic_data = include_agentic_data.lower() in ("1", "true", "yes")
        if isinstance(session_ids, str):
            session_ids = [s for s in session_ids.split(",") if s]
        records = self.select(
            stream_id, to_utc(start), to_utc(end), end_inclusive=False, session_ids=session_ids
        )
        return [self._shape(rec, include_agentic_data) for rec in records]

    def truth_keys(
        self, stream: str, start: date | datetime, end: date | datetime, **partition: Any
    ) -> set[tuple]:
        return {(r["segmentID"],) for r in self.truth(stream, start, end, **partition)}

    # ---- handler
    def _authorised(self, req: Request) -> bool:
        """The account header and the JWT (bare or Bearer-prefixed) are the sandbox's."""
        creds = CREDENTIALS
        if req.headers.get("accountId") != creds["account_id"]:
            return False
        token = (req.headers.get("auth") or "").strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        if not token:
            return False
        try:
            with warnings.catch_warnings():  # the sandbox secret is short on purpose
                warnings.simplefilter("ignore", UserWarning)
                claims = jwt.decode(
                    token,
                    creds["client_secret"],
                    algorithms=["HS256"],
                    options={"verify_aud": False},
                )
        except jwt.PyJWTError:
            return False
        return claims.get("appId") == creds["client_id"]

    def handle(self, req: Request) -> Response:
        if not self._authorised(req):
            return status_response(401)
        stream_id = req.match.group("stream_id")
        limit = int(self.options.get("kore_rate_limit", 60) or 0)
        if limit > 0 and not self._limiter.admit(stream_id, limit):
            return status_response(429, headers={"Retry-After": "60"})
        if stream_id.startswith("forbidden-"):
            return status_response(403)
        if stream_id != CREDENTIALS["stream_id"]:
            return status_response(404)

        q = req.query
        start = parse_window_param(q.get("from"), end=False)
        end = parse_window_param(q.get("to"), end=True)
        if start is None or end is None or start > end:
            return status_response(400)
        try:
            offset = int(q.get("offset", 0))
            limit = int(q.get("limit", DEFAULT_LIMIT))
        except ValueError:
            return status_response(400)
        if not 0 <= limit <= MAX_LIMIT or offset < 0:
            return status_response(400)
        include = (q.get("includeAgenticData") or "").lower() == "true"

        session_ids = None
        if req.method == "POST" and req.body and req.body.strip():
            try:
                payload = json.loads(req.body)
            except ValueError:
                return status_response(400)
            if not isinstance(payload, dict):
                return status_response(400)
            session_ids = payload.get("sessionIds")
            if session_ids is not None and (
                not isinstance(session_ids, list)
                or not all(isinstance(s, str) for s in session_ids)
            ):
                return status_response(400)

        records = self.select(stream_id, start, end, end_inclusive=True, session_ids=session_ids)
        page = [self._shape(rec, include) for rec in records[offset : offset + limit]]
        body: dict[str, Any] = {"numResults": len(page)}
        if not self.options.get("kore_omit_has_more"):
            body["hasMore"] = offset + len(page) < len(records)
        body["data"] = page
        return json_response(body)
