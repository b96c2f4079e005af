"""AgentX Support Export API emulator.

GET /conversations/export/v1/conversations and /conversations/export/v1/messages.
`x-api-key` header; start_time/end_time Unix seconds, records in [start_time, end_time);
bot_name is the partition; per_page <= 1000 (default 100); an opaque cursor that also pins
"now" of the first page, so paging a window is a stable snapshot. Pages are ordered by _id,
not by time. The same generated conversations feed both endpoints. Tags are the documented
ones (guideInteraction, resolved, informed); metadata holds the documented system keys;
messages are typed Question, UserInput or BotMessage and carry no `userActionType` (the docs
show no value for it, and their UserInput example has none). The docs show no error body:
errors answer their status with an empty body.

Options:
- agentx_rate_limit: admitted requests per endpoint per API key in any sliding 1.0 s
  (default 3, the documented limit; 0 disables). Over it -> 429, Retry-After: 1.
- agentx_per_day: conversations per bot per day (default: the sandbox's per_day).
- agentx_custom_metadata: True -> some conversations' metadata also carry custom keys
  (`custom_orderId`, `custom_plan`): the docs say metadata "includes both system and
  custom metadata" but name no custom key. Default: off.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from operator import itemgetter
from typing import Any

from .core import (
    UTC,
    DayCache,
    RateLimiter,
    Request,
    Response,
    Route,
    VendorEmulator,
    day_start,
    days_overlapping,
    decode_cursor,
    encode_cursor,
    json_response,
    rng_hex32,
    rng_uuid,
    status_response,
    to_utc,
)

MAX_PER_PAGE = 1000
DEFAULT_PER_PAGE = 100
_INT = re.compile(r"-?\d+")

_LOCALES = ("en_us", "en_us", "en_us", "en_gb", "de_de", "fr_fr", "es_es")
_SCREENS = ("1728x1117", "1920x1080", "1440x900", "2560x1440", "390x844", "412x915")
_TAGS = ("guideInteraction", "resolved", "informed")
_GREETINGS = (
    "Hello \U0001f44b I am a virtual assistant. How can I help you?",
    "Hi there! What can I help you with today?",
)
# (opening question, bot steps, bot options or None)
_SCENARIOS: tuple[tuple[str, tuple[str, ...], tuple[str, ...] | None], ...] = (
    ("my camera is offline",
     ("Sorry to hear that! Let's get your camera back online.",
      "Is the status light on the camera blinking blue?"), ("Yes", "No")),
    ("Tell me about Comfort Headphones",
     ("Here are the details for Comfort Headphones:\n\n\U0001f4b2 Price: $89.99\n"
      "\U0001f4e6 In Stock: Yes", "Did that answer your question?"), ("Yes", "No")),
    ("Where is my order?",
     ("I can help you track your order.", "Please enter your order number."), None),
    ("How do I return an item?",
     ("You can return any item within 30 days of delivery.",
      "Would you like me to start a return?"), ("Start a return", "No thanks")),
    ("I want to cancel my subscription",
     ("I'm sorry to see you go.", "Can you tell us why you're cancelling?"),
     ("Too expensive", "Missing features", "Other")),
    ("Can I talk to a human?", ("Sure, let me connect you with an agent.",), None),
    ("What's your warranty policy?",
     ("All devices come with a 2-year limited warranty.",), ("Claim warranty", "Thanks")),
    ("reset my password",
     ("You can reset your password from the sign-in page.", "Did that help?"), ("Yes", "No")),
)
_USER_FOLLOWUPS = ("Thanks!", "That didn't help", "order 48213", "ok", "Can you explain more?")
_FORM_INPUTS = ("email: jane.doe@example.com", "name: Sam Lee; email: sam.lee@example.org",
                "order_number: 48213")
_BOT_FOLLOWUPS = (
    "Thanks! Is there anything else I can help with?",
    "Let me connect you to a support agent.",
    "Glad I could help!",
    "Here is an article that may help: https://help.example.com/articles/1042",
)


#: what the sandbox accepts from a client, and a test config's block for this vendor
CREDENTIALS: dict[str, str] = {"api_key": "sbx-agentx-key-51be07"}
#: settings a Meltano run against the sandbox gets from the environment (secrets)
MELTANO_SECRETS = ("api_key",)


def tap_settings() -> dict[str, Any]:
    """The vendor's settings block of a tap config against the sandbox (no base_url)."""
    return {**CREDENTIALS, "bot_names": ["r3-218210", "helpdesk"]}


class AgentXEmulator(VendorEmulator):
    name = "agentx"
    streams = ("agentx_conversations", "agentx_messages")

    def __init__(self, sandbox: Any) -> None:
        super().__init__(sandbox)
        self._days = DayCache()
        self._queries = DayCache(max_size=16)
        self._limiter = RateLimiter(window=1.0)

    def routes(self) -> list[Route]:
        return [
            Route("GET", r"/conversations/export/v1/conversations",
                  lambda req: self.export(req, "conversations"), "agentx.conversations"),
            Route("GET", r"/conversations/export/v1/messages",
                  lambda req: self.export(req, "messages"), "agentx.messages"),
        ]

    # -- HTTP -------------------------------------------------------------------------------

    def export(self, req: Request, kind: str) -> Response:
        api_key = req.headers.get("x-api-key")
        if api_key != CREDENTIALS["api_key"]:
            return status_response(401)
        limit = int(self.options.get("agentx_rate_limit", 3) or 0)
        if limit > 0 and not self._limiter.admit((kind, api_key), limit):
            return status_response(429, headers={"Retry-After": "1"})

        q = req.query
        for key in ("start_time", "end_time"):
            if key not in q:
                return status_response(400)
            if not _INT.fullmatch(q[key]):
                return status_response(400)
        start, end = int(q["start_time"]), int(q["end_time"])
        if end < start:
            return status_response(400)
        bot_name = q.get("bot_name", "")
        if not bot_name:
            return status_response(400)
        per_page_text = q.get("per_page", str(DEFAULT_PER_PAGE))
        if not _INT.fullmatch(per_page_text) or not 1 <= int(per_page_text) <= MAX_PER_PAGE:
            return status_response(400)
        per_page = int(per_page_text)
        if "cursor" in q:
            try:
                offset, cap = _read_cursor(q["cursor"])
            except ValueError:
                return status_response(400)
        else:
            offset, cap = 0, self.now().timestamp()
        if bot_name.startswith("missing-"):
            return status_response(404)
        if bot_name.startswith("forbidden-"):
            return status_response(403)
        conversation_id = q.get("conversation_id") if kind == "messages" else None

        records = self._select(kind, bot_name, start, end, conversation_id, cap)
        page = records[offset: offset + per_page]
        following = offset + per_page
        cursor = encode_cursor([following, cap]) if following < len(records) else None
        return json_response({"data": page, "cursor": cursor})

    # -- truth ------------------------------------------------------------------------------

    def truth(self, stream: str, start: Any, end: Any, **partition: Any) -> list[dict]:
        """Records of one bot with startTime/time in [start, end) and <= now, by _id."""
        if stream not in self.streams:
            raise KeyError(stream)
        kind = "conversations" if stream == "agentx_conversations" else "messages"
        records = self._select(
            kind,
            partition["bot_name"],
            to_utc(start).timestamp(),
            to_utc(end).timestamp(),
            partition.get("conversation_id"),
            self.now().timestamp(),
        )
        return json.loads(json.dumps(records))

    def truth_keys(self, stream: str, start: Any, end: Any, **partition: Any) -> set[tuple]:
        return {(r["_id"],) for r in self.truth(stream, start, end, **partition)}

    # -- data -------------------------------------------------------------------------------

    def _select(
        self,
        kind: str,
        bot_name: str,
        start: float,
        end: float,
        conversation_id: str | None,
        cap: float,
    ) -> list[dict]:
        """All records of a window, sorted by _id (cached: pages of one window share it)."""

        def build() -> list[dict]:
            hits: list[tuple[str, dict]] = []
            upper = min(end, cap + 1)
            for day in days_overlapping(to_utc(start), to_utc(upper)):
                conversations, messages = self._day(bot_name, day)
                if kind == "conversations":
                    for ts, rid, record in conversations:
                        if start <= ts < end and ts <= cap:
                            hits.append((rid, record))
                else:
                    for ts, rid, cid, record in messages:
                        if start <= ts < end and ts <= cap and (
                            conversation_id is None or cid == conversation_id
                        ):
                            hits.append((rid, record))
            hits.sort(key=itemgetter(0))
            return [record for _, record in hits]

        key = (kind, bot_name, start, end, conversation_id, cap, self._custom_metadata)
        return self._queries.get(key, build, size=lambda _: 1)

    @property
    def _custom_metadata(self) -> bool:
        return bool(self.options.get("agentx_custom_metadata"))

    def _day(self, bot_name: str, day: date) -> tuple[list, list]:
        return self._days.get(
            (bot_name, day, self._custom_metadata),
            lambda: self._generate(bot_name, day),
            size=lambda v: len(v[0]) + len(v[1]),
        )

    def _generate(self, bot_name: str, day: date) -> tuple[list, list]:
        """One bot-day: [(startTime, _id, conversation)], [(time, _id, conversationId, message)]."""
        rng = self.rng(bot_name, day)
        r = rng.random
        randrange = rng.randrange
        base = int(day_start(day).timestamp())
        conversations: list[tuple[int, str, dict]] = []
        messages: list[tuple[float, str, str, dict]] = []
        for _ in range(self.day_count(rng)):
            cid = rng_hex32(rng)
            start = base + randrange(0, 86400 - 1800)
            locale = _LOCALES[int(r() * len(_LOCALES))]
            question, steps, options = _SCENARIOS[int(r() * len(_SCENARIOS))]
            n_messages = randrange(2, 7)
            t = start + 0.2 + r() * 2
            user_inputs: list[str] = []
            previous_options: tuple[str, ...] | None = None
            for i in range(n_messages):
                mid = rng_uuid(rng) if r() < 0.2 else rng_hex32(rng)
                when: float = int(t) if r() < 0.5 else round(t, 3)
                if i % 2:  # the visitor
                    if i == 1:
                        text = question
                    elif previous_options and r() < 0.7:
                        text = previous_options[int(r() * len(previous_options))]
                    elif r() < 0.15:
                        text = _FORM_INPUTS[int(r() * len(_FORM_INPUTS))]
                    else:
                        text = _USER_FOLLOWUPS[int(r() * len(_USER_FOLLOWUPS))]
                    user_inputs.append(text)
                    message = {"_id": mid, "time": when, "type": "UserInput", "userInput": text,
                               "conversationId": cid}
                    previous_options = None
                else:  # the AI agent
                    if i == 0:
                        texts: tuple[str, ...] = (_GREETINGS[int(r() * len(_GREETINGS))],)
                        opts = None
                    elif i == 2:
                        texts, opts = steps, options
                    else:
                        texts = (_BOT_FOLLOWUPS[int(r() * len(_BOT_FOLLOWUPS))],)
                        opts = ("Yes", "No") if r() < 0.3 else None
                    out_msg: dict[str, Any] = {"steps": [{"text": text} for text in texts]}
                    if opts:
                        out_msg["options"] = [{"txt": o} for o in opts]
                    mtype = "Question" if (i == 0 or opts) else "BotMessage"
                    message = {"_id": mid, "time": when, "type": mtype, "outMsg": out_msg,
                               "conversationId": cid}
                    previous_options = opts
                messages.append((when, mid, cid, message))
                t += 2 + r() * 88
            # naive UTC ISO with microseconds, as the API sends it
            last_action = datetime.fromtimestamp(t - 2 + r() * 3, UTC).replace(tzinfo=None)
            metadata: dict[str, Any] = {
                "locale": locale,
                "browser_visitorType": "repeat",
                "browser_screenResolution": _SCREENS[int(r() * len(_SCREENS))],
                "browser_localTime": start * 1000 + randrange(0, 60_000),
                "draft": r() < 0.3,
                "question": user_inputs[0],
                "transcript": "\n".join(f"User:\t{text}" for text in user_inputs),
                "guideNodeCount": randrange(0, 13),
            }
            # drawn whether or not they are served: the option changes no other value
            custom = {
                "custom_orderId": f"ORD-{randrange(100000, 1000000)}" if r() < 0.4 else None,
                "custom_plan": ("free", "pro", "enterprise")[randrange(3)] if r() < 0.3 else None,
            }
            if self._custom_metadata:
                metadata.update((key, value) for key, value in custom.items() if value)
            conversation = {
                "_id": cid,
                "startTime": start,
                "locale": locale,
                "metadata": metadata,
                "tags": rng.sample(_TAGS, randrange(0, 3)),
                "userMessageCount": len(user_inputs),
                "lastActionAt": last_action.strftime("%Y-%m-%dT%H:%M:%S.%f"),
            }
            conversations.append((start, cid, conversation))
        return conversations, messages


def _read_cursor(cursor: str) -> tuple[int, float]:
    value = decode_cursor(cursor)
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not isinstance(value[0], int)
        or isinstance(value[0], bool)
        or value[0] < 0
        or not isinstance(value[1], (int, float))
    ):
        raise ValueError(cursor)
    return value[0], float(value[1])
