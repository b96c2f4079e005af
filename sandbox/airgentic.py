"""Airgentic Insights raw-records API emulator: GET /api/insights/raw.

Behaviour (its vendor doc, and docs/vendors/airgentic.md): `api-key` header; dates UTC,
both ends inclusive, end_date defaults to start_date; records newest first; one
partition per service id.
Values as the docs show them: `completeness` "Full", `user_rating` "Good" or null,
`sentiment` "Neutral", moderation results "Safe"; `product`, `question_type`,
`error_code` and `full_chat_history` are null (the docs show no value, so no type).
Errors answer the documented status with an empty body (the docs show none).

Options:
- airgentic_per_day: records per service per day (default: the sandbox's per_day).
- airgentic_enrichment_delay_hours: when set, records younger than this (relative to now)
  are served before enrichment: standalone_question_id null, taxonomies [], cluster and
  theme null (tests the lookback re-read). Default: off (records never change).
- airgentic_extra_field: a field name added to every record with a string value, a field
  the vendor docs do not have (tests schema-drift reporting).
"""

from __future__ import annotations

import json
import random
import re
from datetime import date, datetime, timedelta
from typing import Any

from .core import (
    ONE_DAY,
    DayCache,
    Request,
    Response,
    Route,
    VendorEmulator,
    day_start,
    days_overlapping,
    json_response,
    rng_uuid,
    status_response,
    to_utc,
)

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

# (node_key, taxonomy path, cluster label, theme label or None, questions, answer, url slug)
_TOPICS: tuple[tuple[str, list[str], str, str | None, tuple[str, ...], str, str], ...] = (
    ("account.password_reset", ["Account", "Password reset"], "Password reset issues",
     "Account Access", ("How do I reset my password?", "I forgot my password"),
     "You can reset your password from the sign-in page: choose 'Forgot password'.",
     "account/reset-password"),
    ("account.login", ["Account", "Login"], "Login problems", "Account Access",
     ("I can't log in to my account", "Why is my account locked?"),
     "Accounts lock after five failed attempts; they unlock automatically after 30 minutes.",
     "account/login"),
    ("billing.refunds", ["Billing", "Refunds"], "Refund requests", "Billing & Payments",
     ("How do I get a refund?", "When will my refund arrive?"),
     "Refunds are issued to the original payment method within 5-10 business days.",
     "billing/refunds"),
    ("billing.invoices", ["Billing", "Invoices"], "Invoice questions", "Billing & Payments",
     ("Where can I download my invoice?", "Can I change the address on my invoice?"),
     "Invoices are available under Account > Billing > Invoices.",
     "billing/invoices"),
    ("orders.tracking", ["Orders", "Tracking"], "Where is my order", "Orders & Delivery",
     ("Where is my order?", "How long does shipping take?"),
     "Standard shipping takes 3-5 business days; your tracking link is in the confirmation.",
     "orders/tracking"),
    ("orders.returns", ["Orders", "Returns"], "Returns and exchanges", "Orders & Delivery",
     ("How do I return an item?", "Can I exchange for a different size?"),
     "You can return unused items within 30 days from the Orders page.",
     "orders/returns"),
    ("products.compatibility", ["Products", "Compatibility"], "Device compatibility", None,
     ("Does the app work on Android 10?", "Is the charger compatible with the older model?"),
     "The app supports Android 9 and later and iOS 15 and later.",
     "products/compatibility"),
    ("support.contact", ["Support", "Contact"], "Talk to a human", "Escalation",
     ("Can I speak to a person?", "What are your opening hours?"),
     "Our team is available Monday to Friday, 8am-6pm. You can also request a call back.",
     "support/contact"),
)
_INTENTS = (
    ("intent.how_to", "How-to"),
    ("intent.complaint", "Complaint"),
    ("intent.information", "Information request"),
    ("intent.account_change", "Account change"),
)
_LANGS = ("en-AU", "en-US", "en-GB", "en-CA", "fr-CA", "es-ES", "de-DE")
_PLACES = (
    ("Vancouver", "British Columbia", "Canada", 49.2827, -123.1207),
    ("Toronto", "Ontario", "Canada", 43.6532, -79.3832),
    ("Sydney", "New South Wales", "Australia", -33.8688, 151.2093),
    ("Melbourne", "Victoria", "Australia", -37.8136, 144.9631),
    ("London", "England", "United Kingdom", 51.5072, -0.1276),
    ("Seattle", "Washington", "United States", 47.6062, -122.3321),
    ("Austin", "Texas", "United States", 30.2672, -97.7431),
    ("Berlin", "Berlin", "Germany", 52.52, 13.405),
)
_AGENTS = ("default", "default", "billing", "technical", "accounts")
_SITE = "https://www.acme-example.com"


def _pick(rng: random.Random, seq: tuple | list) -> Any:
    return seq[int(rng.random() * len(seq))]


#: what the sandbox accepts from a client, and a test config's block for this vendor
CREDENTIALS: dict[str, str] = {"api_key": "sbx-airgentic-key-3c9f1e", "account_id": "acme"}
#: settings a Meltano run against the sandbox gets from the environment (secrets)
MELTANO_SECRETS = ("api_key",)


def tap_settings() -> dict[str, Any]:
    """The vendor's settings block of a tap config against the sandbox (no base_url)."""
    return {**CREDENTIALS, "service_ids": ["web", "support"]}


class AirgenticEmulator(VendorEmulator):
    name = "airgentic"
    streams = ("airgentic_records",)

    def __init__(self, sandbox: Any) -> None:
        super().__init__(sandbox)
        self._days = DayCache()
        self._ids: dict[tuple[str, ...], str] = {}

    def routes(self) -> list[Route]:
        return [Route("GET", r"/api/insights/raw", self.raw, "airgentic.insights_raw")]

    # -- HTTP -------------------------------------------------------------------------------

    def raw(self, req: Request) -> Response:
        creds = CREDENTIALS
        if req.headers.get("api-key") != creds["api_key"]:
            return status_response(401)
        account_id = req.query.get("account_id", "")
        service_id = req.query.get("service_id", "")
        if not account_id or not service_id:
            return status_response(400)
        start_text = req.query.get("start_date", "")
        end_text = req.query.get("end_date") or start_text
        try:
            start, end = _parse_date(start_text), _parse_date(end_text)
        except ValueError:
            return status_response(400)
        if end < start:
            return status_response(400)
        if account_id != creds["account_id"] or service_id.startswith("missing-"):
            return status_response(404)
        if service_id.startswith("forbidden-"):
            return status_response(403)
        data = self._records(service_id, day_start(start), day_start(end) + ONE_DAY)
        if extra := self.options.get("airgentic_extra_field"):  # schema drift
            data = [{**record, extra: "undocumented"} for record in data]
        return json_response(
            {
                "account_id": account_id,
                "service_id": service_id,
                "start_date": start.isoformat(),
                "end_date": end.isoformat(),
                "record_count": len(data),
                "data": data,
            }
        )

    # -- truth ------------------------------------------------------------------------------

    def truth(self, stream: str, start: Any, end: Any, **partition: Any) -> list[dict]:
        if stream not in self.streams:
            raise KeyError(stream)
        service_id = partition["service_id"]
        records = self._records(service_id, to_utc(start), to_utc(end))
        return json.loads(json.dumps(records))  # a private copy

    def truth_keys(self, stream: str, start: Any, end: Any, **partition: Any) -> set[tuple]:
        return {
            (r["partition_id"], r["thread_id"], r["date_time"])
            for r in self.truth(stream, start, end, **partition)
        }

    # -- data -------------------------------------------------------------------------------

    def _records(self, service_id: str, start: datetime, end: datetime) -> list[dict]:
        """Records of one service with date_time in [start, end) and <= now, newest first."""
        now = self.now()
        delay = self.options.get("airgentic_enrichment_delay_hours")
        enriched_before = now - timedelta(hours=float(delay)) if delay else None
        out: list[dict] = []
        for day in reversed(days_overlapping(start, min(end, now + timedelta(microseconds=1)))):
            for when, record in self._day(service_id, day):
                if when < start or when >= end or when > now:
                    continue
                if enriched_before is not None and when > enriched_before:
                    record = dict(record, standalone_question_id=None, taxonomies=[],
                                  cluster=None, theme=None)
                out.append(record)
        return out

    def _day(self, service_id: str, day: date) -> list[tuple[datetime, dict]]:
        return self._days.get((service_id, day), lambda: self._generate(service_id, day))

    def _stable_id(self, *parts: str) -> str:
        key = tuple(parts)
        found = self._ids.get(key)
        if found is None:
            found = rng_uuid(random.Random(f"{self.sandbox.seed}:airgentic:" + ":".join(parts)))
            self._ids[key] = found
        return found

    def _generate(self, service_id: str, day: date) -> list[tuple[datetime, dict]]:
        """One service-day, newest first."""
        rng = self.rng(service_id, day)
        r = rng.random
        account_id = CREDENTIALS["account_id"]
        partition_id = f"{account_id}_{service_id}"
        month = day.strftime("%Y-%m")
        base = day_start(day)
        remaining = self.day_count(rng)
        out: list[tuple[datetime, dict]] = []
        while remaining > 0:
            # One thread: 1-3 questions (records) sharing thread, session and visitor.
            n = min(remaining, 1 if r() < 0.7 else (2 if r() < 0.67 else 3))
            remaining -= n
            thread_id = rng_uuid(rng)
            session_id = rng_uuid(rng)
            previous_thread_id = rng_uuid(rng) if r() < 0.2 else None
            user_id = (
                f"GA1.1.{rng.randrange(10**8, 10**9)}.{rng.randrange(10**9, 2 * 10**9)}"
                if r() < 0.7 else None
            )
            lang = _pick(rng, _LANGS)
            place = _pick(rng, _PLACES) if r() < 0.95 else (None, None, None, None, None)
            agent = _pick(rng, _AGENTS)
            topic = _pick(rng, _TOPICS)
            opening_question = _pick(rng, topic[4])
            second = rng.randrange(0, 86400 - 3 * 600)
            history: list[str] = []
            for i in range(n):
                if i:
                    second += rng.randrange(20, 600)
                    topic = _pick(rng, _TOPICS) if r() < 0.4 else topic
                    question = _pick(rng, topic[4])
                else:
                    question = opening_question
                micro = 0 if r() < 0.2 else rng.randrange(1, 1_000_000)
                when = base + timedelta(seconds=second, microseconds=micro)
                history.append(f"User: {question}\nAssistant: {topic[5]}")
                chat = "\n".join(history)
                enriched = r() < 0.9
                taxonomies = self._taxonomies(rng, topic) if enriched and r() < 0.85 else []
                cluster = theme = None
                if enriched and r() < 0.85:
                    cluster = {
                        "cluster_id": self._stable_id("cluster", service_id, month, topic[2]),
                        "label": topic[2],
                        "period_month": month,
                    }
                    if topic[3] is not None and r() < 0.9:
                        theme = {
                            "theme_id": self._stable_id("theme", service_id, topic[3]),
                            "label": topic[3],
                        }
                record = {
                    "account_id": account_id,
                    "service_id": service_id,
                    "partition_id": partition_id,
                    "date_time": when.isoformat(),
                    "browser_url": f"{_SITE}/help/{topic[6]}" if r() < 0.8 else f"{_SITE}/",
                    "session_id": session_id,
                    "user_id": user_id,
                    "thread_id": thread_id,
                    "previous_thread_id": previous_thread_id,
                    "opening_question": opening_question,
                    "lang": lang,
                    "thread_concluded": r() < 0.6,
                    "thread_chat_history": chat,
                    "full_chat_history": None,  # the docs show no value, so no type
                    "city": place[0],
                    "region": place[1],
                    "country": place[2],
                    "latitude": place[3],
                    "longitude": place[4],
                    "expert_agent": agent,
                    "citation_urls": [
                        f"{_SITE}/help/{_pick(rng, _TOPICS)[6]}"
                        for _ in range(rng.randrange(4))
                    ],
                    "billable": r() < 0.9,
                    "moderated_hate": "Safe",
                    "moderated_selfharm": "Safe",
                    "moderated_sexual": "Safe",
                    "moderated_violence": "Safe",
                    "completeness": "Full",
                    "sentiment": "Neutral",
                    "product": None,
                    "class_custom1": r() < 0.3,
                    "class_custom2": (r() < 0.5) if r() < 0.3 else None,
                    "class_custom3": None,
                    "class_custom4": None,
                    "class_custom5": None,
                    "user_rating": "Good" if r() < 0.2 else None,
                    "question_type": None,
                    "error_code": None,
                    "needs_review": r() < 0.08,
                    "standalone_question_id": rng_uuid(rng) if enriched else None,
                    "taxonomies": taxonomies,
                    "cluster": cluster,
                    "theme": theme,
                }
                out.append((when, record))
        out.sort(key=lambda pair: pair[0], reverse=True)
        return out

    @staticmethod
    def _taxonomies(rng: random.Random, topic: tuple) -> list[dict]:
        categories = [
            {"node_key": topic[0], "label": topic[1][-1], "path": list(topic[1]),
             "is_primary": True, "rank": 1}
        ]
        for extra in rng.sample(_TOPICS, rng.randrange(3)):
            if extra[0] != topic[0]:
                categories.append(
                    {"node_key": extra[0], "label": extra[1][-1], "path": list(extra[1]),
                     "is_primary": False, "rank": len(categories) + 1}
                )
        taxonomies = [{"taxonomy_key": "topics", "taxonomy_name": "Topics",
                       "categories": categories}]
        if rng.random() < 0.4:
            intents = rng.sample(_INTENTS, 1 + (rng.random() < 0.3))
            taxonomies.append(
                {"taxonomy_key": "intents", "taxonomy_name": "Intents", "categories": [
                    {"node_key": key, "label": label, "path": [label],
                     "is_primary": i == 0, "rank": i + 1}
                    for i, (key, label) in enumerate(intents)
                ]}
            )
        return taxonomies


def _parse_date(text: str) -> date:
    if not _DATE.fullmatch(text):
        raise ValueError(text)
    return date.fromisoformat(text)
