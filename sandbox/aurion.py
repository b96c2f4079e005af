"""AurionAI conversation-insights emulator: GET /api/v2/analytics/conversations/insights.

One aggregate object per request window, deterministic from (seed, date_from, date_to).
The tap asks for one UTC day per request; truth() gives those per-day objects (plus the
tap's `window_start`/`window_end`) for the days already over. `metadata` is `{}`, as the
docs show it. Errors: 422 with the documented `{"detail": [{"loc", "msg", "type"}]}`
body; 401 with an empty body (the docs show none).

Options:
- aurion_preview: True -> every authenticated request gets the 403 "API keys are not
  permitted for analytics endpoints in preview".
- aurion_per_day: scales the volumes (default: the sandbox's per_day).
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

from .core import (
    ONE_DAY,
    Request,
    Response,
    Route,
    VendorEmulator,
    day_start,
    days_overlapping,
    json_response,
    status_response,
    to_utc,
)

_AGENTS = (
    ("usr_4f1c2a9e", "Maya Chen"),
    ("usr_7b3d01c4", "Liam O'Brien"),
    ("usr_a90e6f12", "Sofia Rossi"),
    ("usr_c2b7e845", "Noah Williams"),
    ("usr_e51f9d30", "Aisha Khan"),
    ("usr_0d8a4b67", "Lucas Martin"),
    ("usr_93c6f2b1", "Emma Fischer"),
    ("usr_6a2e7d98", "Kenji Tanaka"),
)
_TEAMS = (
    ("team_support_tier1", "Support Tier 1"),
    ("team_support_tier2", "Support Tier 2"),
    ("team_billing", "Billing"),
    ("team_onboarding", "Onboarding"),
)
_CHANNELS = (
    ("ch_email_support", "support@acme-example.com"),
    ("ch_email_billing", "billing@acme-example.com"),
    ("ch_email_sales", "sales@acme-example.com"),
    ("ch_email_noreply", "noreply@acme-example.com"),
)
_ARTICLES = (
    ("art_1001", "reset-your-password", "Reset your password"),
    ("art_1002", "track-your-order", "Track your order"),
    ("art_1003", "return-an-item", "Return an item"),
    ("art_1004", "update-billing-details", "Update your billing details"),
    ("art_1005", "download-invoices", "Download invoices"),
    ("art_1006", "two-factor-authentication", "Set up two-factor authentication"),
    ("art_1007", "shipping-times", "Shipping times and costs"),
)
_TOPICS = (
    "Password reset", "Order status", "Refunds", "Billing questions", "Returns",
    "Account access", "Shipping delays", "Product questions", "Cancellations",
)
_PER_QUERY_BUDGET_MS = 250
_TOTAL_BUDGET_MS = 1500


#: what the sandbox accepts from a client, and a test config's block for this vendor
CREDENTIALS: dict[str, str] = {"token": "sbx-aurion-token-a4d2c9"}
#: settings a Meltano run against the sandbox gets from the environment (secrets)
MELTANO_SECRETS = ("token",)


def tap_settings() -> dict[str, Any]:
    """The vendor's settings block of a tap config against the sandbox (no base_url)."""
    return dict(CREDENTIALS)


class AurionEmulator(VendorEmulator):
    name = "aurion"
    streams = ("aurion_insights",)

    def routes(self) -> list[Route]:
        return [
            Route("GET", r"/api/v2/analytics/conversations/insights", self.insights,
                  "aurion.insights")
        ]

    # -- HTTP -------------------------------------------------------------------------------

    def insights(self, req: Request) -> Response:
        auth = req.headers.get("Authorization") or ""
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or token.strip() != CREDENTIALS["token"]:
            return status_response(401, headers={"WWW-Authenticate": "Bearer"})
        if self.options.get("aurion_preview"):
            return json_response(
                {"detail": "API keys are not permitted for analytics endpoints in preview"}, 403
            )
        errors = []
        bounds: dict[str, datetime] = {}
        for key in ("date_from", "date_to"):
            text = req.query.get(key)
            if text is None:
                continue
            try:
                bounds[key] = _parse_datetime(text)
            except ValueError:
                errors.append(
                    {"loc": ["query", key], "msg": "invalid datetime format",
                     "type": "value_error.datetime"}
                )
        if errors:
            return json_response({"detail": errors}, 422)
        date_to = bounds.get("date_to") or self.now()
        date_from = bounds.get("date_from") or date_to - timedelta(days=7)
        if date_to <= date_from:
            return json_response(
                {"detail": [{"loc": ["query", "date_to"], "msg": "date_to must be after date_from",
                             "type": "value_error"}]},
                422,
            )
        return json_response(self.generate(date_from, date_to))

    # -- truth ------------------------------------------------------------------------------

    def truth(self, stream: str, start: Any, end: Any, **partition: Any) -> list[dict]:
        """One record per UTC day in [start, end) that ended before now, oldest first."""
        if stream not in self.streams:
            raise KeyError(stream)
        now = self.now()
        out = []
        for day in days_overlapping(to_utc(start), to_utc(end)):
            window_start = day_start(day)
            window_end = window_start + ONE_DAY
            if window_start < to_utc(start) or window_end > min(to_utc(end), now):
                continue
            record = self.generate(window_start, window_end)
            record["window_start"] = window_start.isoformat()
            record["window_end"] = window_end.isoformat()
            out.append(record)
        return json.loads(json.dumps(out))

    def truth_keys(self, stream: str, start: Any, end: Any, **partition: Any) -> set[tuple]:
        return {(r["window_start"],) for r in self.truth(stream, start, end, **partition)}

    # -- data -------------------------------------------------------------------------------

    def generate(self, date_from: datetime, date_to: datetime) -> dict[str, Any]:
        """The insights object of one window (aware UTC bounds)."""
        date_from, date_to = to_utc(date_from), to_utc(date_to)
        rng = random.Random(
            f"{self.sandbox.seed}:aurion:window:{date_from.isoformat()}:{date_to.isoformat()}"
        )
        days = (date_to - date_from).total_seconds() / 86400
        per_day = max(self.per_day, 0)
        total = round(per_day * 8 * days * rng.uniform(0.7, 1.3))

        # Agents and teams: human-handled share of the conversations.
        handled = int(total * rng.uniform(0.3, 0.6))
        agents = rng.sample(_AGENTS, rng.randint(3, 6))
        agent_performance = []
        for (user_id, name), share in zip(agents, _split(rng, handled, len(agents)), strict=False):
            resolved = int(share * rng.uniform(0.6, 0.95))
            agent_performance.append({
                "assigned_count": share,
                "assignee_name": name,
                "assignee_user_id": user_id,
                "avg_first_response_minutes": round(rng.uniform(1.5, 45.0), 2),
                "avg_resolution_minutes": round(rng.uniform(20.0, 600.0), 2),
                "resolution_rate": _rate(resolved, share),
                "resolved_count": resolved,
            })
        teams = rng.sample(_TEAMS, rng.randint(2, 3))
        team_performance = []
        team_shares = _split(rng, handled, len(teams))
        for (team_id, team_name), share in zip(teams, team_shares, strict=True):
            resolved = int(share * rng.uniform(0.6, 0.95))
            team_performance.append({
                "assigned_count": share,
                "avg_resolution_minutes": round(rng.uniform(30.0, 720.0), 2),
                "resolution_rate": _rate(resolved, share),
                "resolved_count": resolved,
                "team_id": team_id,
                "team_name": team_name,
            })

        timings = {
            "agent_performance_ms": rng.randint(15, 240),
            "overview_ms": rng.randint(20, 260),
            "sla_compliance_ms": rng.randint(10, 200),
        }
        runtime = sum(timings.values()) + rng.randint(5, 80)
        aggregation_health = {
            **timings,
            "per_query_budget_ms": _PER_QUERY_BUDGET_MS,
            "target_conversation_volume": 10000,
            "target_met": runtime <= _TOTAL_BUDGET_MS
            and max(timings.values()) <= _PER_QUERY_BUDGET_MS,
            "total_budget_ms": _TOTAL_BUDGET_MS,
            "total_runtime_ms": runtime,
        }
        aggregation_health = dict(sorted(aggregation_health.items()))

        hours = sorted(
            ({"conversation_count": c, "hour_utc": h}
             for h, c in enumerate(_split(rng, total, 24, peaked=True))),
            key=lambda x: (-x["conversation_count"], x["hour_utc"]),
        )[:5]

        rated = int(total * rng.uniform(0.1, 0.3))
        ratings = _split(rng, rated, 5, weights=(0.06, 0.06, 0.13, 0.3, 0.45))
        positive = ratings[3] + ratings[4]
        csat = {
            "avg_rating": round(sum((i + 1) * n for i, n in enumerate(ratings)) / rated, 2)
            if rated else 0.0,
            "distribution": [
                {"rating": i + 1, "response_count": n} for i, n in enumerate(ratings)
            ],
            "positive_rate": _rate(positive, rated),
            "positive_responses": positive,
            "rated_responses": rated,
            "total_responses": rated + int(rated * rng.uniform(0.05, 0.4)),
        }

        email_total = int(total * rng.uniform(0.15, 0.35))
        n_channels = rng.randint(2, 4)
        active = [rng.random() < 0.85 for _ in range(n_channels)]
        active[0] = True
        counts = _split(rng, email_total, sum(active))
        by_channel = []
        for (channel_id, address), is_active in zip(_CHANNELS[:n_channels], active, strict=False):
            by_channel.append({
                "address": address,
                "channel_id": channel_id,
                "conversation_count": counts.pop(0) if is_active else 0,
                "status": "active" if is_active else "paused",
            })
        email_channel_metrics = {
            "active_channels": sum(active),
            "bounced_contacts": int(email_total * rng.uniform(0.0, 0.03)),
            "by_channel": by_channel,
            "complained_contacts": int(email_total * rng.uniform(0.0, 0.005)),
            "email_conversations": email_total,
            "inbound_messages": int(email_total * rng.uniform(1.2, 2.5)),
            "outbound_messages": int(email_total * rng.uniform(1.0, 2.2)),
            "total_channels": n_channels,
        }

        views = int(total * rng.uniform(1.5, 4.0))
        articles = rng.sample(_ARTICLES, rng.randint(3, 5))
        article_views = sorted(_split(rng, int(views * 0.7), len(articles)), reverse=True)
        top_articles = []
        for (article_id, slug, title), viewed in zip(articles, article_views, strict=False):
            helpful = int(viewed * rng.uniform(0.05, 0.2))
            top_articles.append({
                "article_id": article_id,
                "helpful_count": helpful,
                "not_helpful_count": int(viewed * rng.uniform(0.01, 0.06)),
                "slug": slug,
                "title": title,
                "view_count": viewed,
            })
        helpful_total = sum(a["helpful_count"] for a in top_articles) + int(views * 0.02)
        help_center_deflection = {
            "article_count": 42,
            "deflection_rate": round(rng.uniform(0.15, 0.45), 4) if views else 0.0,
            "helpful_feedback": helpful_total,
            "not_helpful_feedback": sum(a["not_helpful_count"] for a in top_articles),
            "top_articles": top_articles,
            "total_views": views,
        }

        sla_breach_trend = []
        trend_days = days_overlapping(date_from, date_to)[-92:]
        day_counts = _split(rng, handled, max(len(trend_days), 1))
        for day, tracked in zip(trend_days, day_counts, strict=False):
            met = int(tracked * rng.uniform(0.8, 0.99))
            sla_breach_trend.append({
                "breached": tracked - met,
                "compliance_rate": _rate(met, tracked, empty=1.0),
                "day": day.isoformat(),
                "met": met,
                "tracked": tracked,
            })

        topics = rng.sample(_TOPICS, 5)
        topic_counts = sorted(_split(rng, int(total * 0.8), 5), reverse=True)
        top_topics = [
            {"conversation_count": n, "share": _rate(n, total), "topic": topic}
            for topic, n in zip(topics, topic_counts, strict=False)
        ]

        return {
            "agent_performance": agent_performance,
            "aggregation_health": aggregation_health,
            "busiest_hours": hours,
            "csat": csat,
            "email_channel_metrics": email_channel_metrics,
            "help_center_deflection": help_center_deflection,
            "metadata": {},
            "sla_breach_trend": sla_breach_trend,
            "team_performance": team_performance,
            "top_topics": top_topics,
        }


def _rate(part: int, whole: int, empty: float = 0.0) -> float:
    return round(part / whole, 4) if whole else empty


def _split(
    rng: random.Random,
    total: int,
    parts: int,
    weights: tuple[float, ...] | None = None,
    peaked: bool = False,
) -> list[int]:
    """total split into `parts` non-negative integers (sum == total)."""
    if parts <= 0:
        return []
    if weights is None:
        if peaked:  # a working-hours curve (UTC), with noise
            weights = tuple(
                (3.0 if 13 <= i <= 21 else 1.0) * rng.uniform(0.6, 1.4) for i in range(parts)
            )
        else:
            weights = tuple(rng.uniform(0.5, 1.5) for _ in range(parts))
    scale = sum(weights)
    out = [int(total * w / scale) for w in weights]
    for i in range(total - sum(out)):
        out[i % parts] += 1
    return out


def _parse_datetime(text: str) -> datetime:
    text = text.strip()
    if not text:
        raise ValueError("empty")
    return to_utc(text)
