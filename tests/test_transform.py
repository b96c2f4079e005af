"""The dbt analytics layer (transform/): `meltano run tap-convai target-postgres
dbt-postgres:build` against the sandbox (which serves what the vendor docs show), compared
with figures computed here, in Python, from the sandbox's truth; figures the docs give no
signal for are null until a dbt var names the vendor's values; then incremental builds
against full rebuilds."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal

from tests.support.config import START
from tests.support.dbt import MODELS, dbt_args, dbt_env
from tests.support.runner import meltano, sandbox_env

RAW = "tx_raw"  # where target-postgres loads
ANALYTICS = "tx_analytics"  # where dbt builds (its sources: the plugin's source_schema)
END_EXCLUSIVE = "2026-10-08"
#: the partitions of the sandbox environment in meltano.yml
AIRGENTIC_SERVICES = ("web", "support")
KORE_STREAM = "st-sbx-1"
AGENTX_BOTS = ("r3-218210", "helpdesk")
ZENDESK_BOTS = ("98174e8d635471c383b9ec7b", "64628b8e55e4f2459bcb2e68")
#: Zendesk AI export documentation, "Popular metrics": the escalation statuses, and the
#: status "bot handled" as the example/SQL and the field list spell it
ESCALATION_STATUSES = {"email", "agent", "customEscalation"}
BOT_HANDLED = {"botHandled", "bot_handled"}


def days(start: str, end_exclusive: str) -> list[date]:
    first, stop = date.fromisoformat(start), date.fromisoformat(end_exclusive)
    return [first + timedelta(days=i) for i in range((stop - first).days)]


def truth_conversations(sandbox) -> dict[str, set[tuple[str, str]]]:
    """(partition, conversation key) of every conversation the sandbox serves, per vendor."""
    out: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for service in AIRGENTIC_SERVICES:
        for r in sandbox.truth("airgentic_records", START, END_EXCLUSIVE, service_id=service):
            out["airgentic"].add((r["service_id"], r["thread_id"]))
    for r in sandbox.truth("kore_interactions", START, END_EXCLUSIVE, stream_id=KORE_STREAM):
        out["kore"].add((KORE_STREAM, r["segmentID"]))
    for bot in AGENTX_BOTS:
        for r in sandbox.truth("agentx_conversations", START, END_EXCLUSIVE, bot_name=bot):
            out["agentx"].add((bot, r["_id"]))
    for bot in ZENDESK_BOTS:
        for r in sandbox.truth("zendesk_ai_conversations", START, END_EXCLUSIVE, bot_id=bot):
            out["zendesk_ai"].add((bot, r["conversation_id"]))
    return out


def _count(record: dict, name: str) -> int | None:
    value = record.get(name)
    return None if value is None else int(value)


def zendesk_truth_rates(sandbox, escalation=frozenset(ESCALATION_STATUSES)
                        ) -> dict[tuple[date, str], tuple]:
    """(export day, bot id) -> (conversations, deflection, escalation, AI-handled,
    failed-escalation and understood rates), by the export documentation's formulas
    ("Popular metrics"), from the sandbox's export files."""
    out = {}
    for bot in ZENDESK_BOTS:
        for day in days(START, END_EXCLUSIVE):
            records = sandbox.truth("zendesk_ai_conversations", day, day + timedelta(days=1),
                                    bot_id=bot)
            if not records:
                continue
            ids = {r["conversation_id"] for r in records}
            status = {r["conversation_id"]: r.get("conversation_status") for r in records}
            deflected = {i for i in ids if status[i] is not None and status[i] not in escalation}
            escalated = {i for i in ids if status[i] in escalation}
            handled = {i for i in ids if status[i] in BOT_HANDLED}
            failed = {i for i in ids if status[i] == "failedEscalation"}
            customer = [_count(r, "customer_messages_count") for r in records]
            customer = [
                c if c is not None else _count(r, "visitor_messages_count")
                for c, r in zip(customer, records, strict=True)
            ]
            customer_sum = sum(c for c in customer if c is not None)
            not_understood = sum(
                n for r in records if (n := _count(r, "not_understood_messages_count")) is not None
            )
            understood = (
                Decimal(customer_sum - not_understood) / Decimal(customer_sum)
                if customer_sum else None
            )
            out[(day, bot)] = (
                len(ids),
                Decimal(len(deflected)) / Decimal(len(ids)),
                Decimal(len(escalated)) / Decimal(len(ids)),
                Decimal(len(handled)) / Decimal(len(ids)),
                Decimal(len(failed)) / Decimal(len(ids)),
                understood,
            )
    return out


def zendesk_outcome(record: dict, escalation=frozenset(ESCALATION_STATUSES)) -> str:
    status, resolution = record.get("conversation_status"), record.get("last_resolution")
    if status in escalation:
        return "escalated"
    if status == "failedEscalation":
        return "unresolved"
    return resolution if resolution in ("resolved", "informed") else "unknown"


def agentx_outcome(tags: list[str] | None, escalated_tags: tuple[str, ...] = ()) -> str:
    """The documented outcome tags (resolved, informed); escalated only by a tag the
    analyst names (the docs name none)."""
    if set(tags or []) & set(escalated_tags):
        return "escalated"
    for tag in ("resolved", "informed"):
        if tag in (tags or []):
            return tag
    return "unknown"


#: (vendor, column of convai_daily_metrics) that stay null on documented data: AgentX names
#: no escalation tag, Airgentic no negative rating and no unanswered value, Kore.ai
#: counts no messages and has no outcome, AurionAI counts no conversations
NULL_BY_DEFAULT = {
    ("agentx", "deflection_rate"), ("agentx", "escalation_rate"),
    ("agentx", "understood_rate"), ("agentx", "csat_avg"),
    ("airgentic", "deflection_rate"), ("airgentic", "escalation_rate"),
    ("airgentic", "understood_rate"), ("airgentic", "csat_avg"),
    ("kore", "deflection_rate"), ("kore", "escalation_rate"),
    ("kore", "understood_rate"), ("kore", "csat_avg"),
    ("aurion", "conversations"), ("aurion", "deflection_rate"), ("aurion", "escalation_rate"),
    ("aurion", "understood_rate"), ("kore", "language"),
}
FIGURES = ("conversations", "deflection_rate", "escalation_rate", "understood_rate",
           "csat_avg")


def no_signal(pg) -> set[tuple[str, str]]:
    """(vendor, figure) null on every day of the vendor; the Kore language column too."""
    nulls = ", ".join(f"bool_and({name} is null)" for name in FIGURES)
    found = {
        (vendor, name)
        for vendor, *flags in pg.query(
            f'select vendor, {nulls} from "{ANALYTICS}".convai_daily_metrics group by vendor')
        for name, null in zip(FIGURES, flags, strict=True) if null
    }
    (languages,) = pg.query(f"select count(language) from \"{ANALYTICS}\".convai_conversations "
                            f"where vendor = 'kore'")[0]
    return found | ({("kore", "language")} if languages == 0 else set())


def model_rows(pg, model: str) -> list[tuple]:
    return pg.query(f'select * from "{ANALYTICS}"."{model}" order by 1, 2, 3')


def snapshot(pg) -> dict[str, list[tuple]]:
    return {model: model_rows(pg, model) for model in MODELS}


def close(a: Decimal | None, b: Decimal | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(Decimal(a) - Decimal(b)) < Decimal("1e-15")


def load_and_build(sandbox, pg, tmp_path):
    """`meltano run tap-convai target-postgres dbt-postgres:build` into fresh schemas:
    the streams in RAW, the models in ANALYTICS. Its environment and system database."""
    for schema in (RAW, ANALYTICS):
        pg.drop_schema(schema)
    env = {**sandbox_env(sandbox.url), **pg.target_env(RAW), **dbt_env(pg, ANALYTICS),
           "DBT_POSTGRES_SOURCE_SCHEMA": RAW}
    db = tmp_path / "meltano.db"
    run = meltano("run", "tap-convai", "target-postgres", "dbt-postgres:build",
                  env=env, system_db=db)
    assert run.returncode == 0, (run.stdout + run.stderr)[-6000:]
    return env, db


def test_meltano_run_builds_the_models_from_the_truth(sandbox, pg, tmp_path):
    env, db = load_and_build(sandbox, pg, tmp_path)
    assert set(MODELS) <= set(pg.tables(ANALYTICS))
    assert not set(MODELS) & set(pg.tables(RAW))

    # every conversation of every vendor, once
    truth = truth_conversations(sandbox)
    assert set(truth) == {"airgentic", "kore", "agentx", "zendesk_ai"}
    rows = pg.query(f'select vendor, partition_key, conversation_key '
                    f'from "{ANALYTICS}".convai_conversations')
    loaded: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for vendor, partition, key in rows:
        loaded[vendor].add((partition, key))
    for vendor, keys in truth.items():
        assert keys, vendor
        assert loaded[vendor] == keys, vendor
    counts = dict(pg.query(f'select vendor, count(*) from "{ANALYTICS}".convai_conversations '
                           f'group by vendor'))
    assert counts == {vendor: len(keys) for vendor, keys in truth.items()}

    # Zendesk AI figures per export day and bot, by the export documentation's formulas
    expected = zendesk_truth_rates(sandbox)
    assert expected
    metrics = {
        (day, bot): values
        for day, bot, *values in pg.query(
            f"select day, partition_key, conversations, deflection_rate, escalation_rate, "
            f"ai_handled_rate, failed_escalation_rate, understood_rate "
            f"from \"{ANALYTICS}\".convai_daily_metrics "
            f"where vendor = 'zendesk_ai'"
        )
    }
    assert set(metrics) == set(expected)
    for key, (n, *rates) in expected.items():
        assert metrics[key][0] == n, key
        for got, want in zip(metrics[key][1:], rates, strict=True):
            assert close(got, want), (key, metrics[key], rates)

    # outcomes as docs/models.md maps them, from the vendors' own values
    outcomes = {
        (vendor, key): outcome
        for vendor, key, outcome in pg.query(
            f"select vendor, conversation_key, outcome from \"{ANALYTICS}\".convai_conversations")
    }
    for bot in ZENDESK_BOTS:
        for r in sandbox.truth("zendesk_ai_conversations", START, END_EXCLUSIVE, bot_id=bot):
            assert outcomes[("zendesk_ai", r["conversation_id"])] == zendesk_outcome(r), r
    for bot in AGENTX_BOTS:
        for r in sandbox.truth("agentx_conversations", START, END_EXCLUSIVE, bot_name=bot):
            assert outcomes[("agentx", r["_id"])] == agentx_outcome(r["tags"]), r
    assert {o for (v, _), o in outcomes.items() if v == "kore"} == {"unknown"}

    # AurionAI's daily aggregates: one row per day of the truth, its CSAT beside the others;
    # its documented response counts no conversations
    aurion = sandbox.truth("aurion_insights", START, END_EXCLUSIVE)
    aurion_rows = {
        day: (conversations, csat, deflection)
        for day, conversations, csat, deflection in pg.query(
            f"select day, conversations, csat_avg, aurion_help_center_deflection_rate "
            f"from \"{ANALYTICS}\".convai_daily_metrics where vendor = 'aurion'"
        )
    }
    assert aurion_rows == {
        date.fromisoformat(r["window_start"][:10]): (
            None,
            Decimal(str(r["csat"]["avg_rating"])),
            Decimal(str(r["help_center_deflection"]["deflection_rate"])),
        )
        for r in aurion
    }

    # figures the vendor docs give no signal for are null, never guessed
    assert no_signal(pg) == NULL_BY_DEFAULT

    # a second build over the same data changes nothing
    before = snapshot(pg)
    again = meltano("run", "dbt-postgres:build", env=env, system_db=db)
    assert again.returncode == 0, (again.stdout + again.stderr)[-6000:]
    assert snapshot(pg) == before


#: dbt vars naming vendor values the docs do not give (or widening the documented ones)
VARS = {
    "convai_agentx_escalated_tags": ["guideInteraction"],
    "convai_airgentic_unanswered": ["Full"],
    "convai_airgentic_negative_ratings": ["Bad"],
    "convai_zendesk_ai_escalated_statuses": [*sorted(ESCALATION_STATUSES), "failedEscalation"],
    "convai_kore_language_tag": "intent",
}


def test_dbt_vars_map_vendor_values_and_move_outcomes_and_rates(sandbox, pg, tmp_path):
    env, db = load_and_build(sandbox, pg, tmp_path)
    build = meltano(*dbt_args("build", "--full-refresh", "--vars", json.dumps(VARS)),
                    env=env, system_db=db)
    assert build.returncode == 0, (build.stdout + build.stderr)[-6000:]
    conversations = named(pg, "convai_conversations", "vendor, conversation_key")
    daily = named(pg, "convai_daily_metrics", "day, vendor, partition_key")
    moved = {("agentx", "deflection_rate"), ("agentx", "escalation_rate"),
             ("airgentic", "understood_rate"), ("airgentic", "csat_avg"), ("kore", "language")}
    assert no_signal(pg) == NULL_BY_DEFAULT - moved

    # AgentX: the tag named escalated now escalates; escalation and deflection are counted
    tags = {r["_id"]: r["tags"] for bot in AGENTX_BOTS
            for r in sandbox.truth("agentx_conversations", START, END_EXCLUSIVE, bot_name=bot)}
    escalated = Counter()
    for (vendor, key), row in conversations.items():
        if vendor == "agentx":
            assert row["outcome"] == agentx_outcome(tags[key], ("guideInteraction",)), key
            assert row["escalated"] is ("guideInteraction" in tags[key])
            escalated[(row["day"], row["partition_key"])] += row["escalated"]
    agentx_days = {k: v for k, v in daily.items() if k[1] == "agentx"}
    assert agentx_days and 0 < sum(escalated.values()) < len(tags)
    for (day, _, bot), row in agentx_days.items():
        n = Decimal(row["conversations"])
        assert close(row["escalation_rate"], escalated[(day, bot)] / n)
        assert close(row["deflection_rate"], (n - escalated[(day, bot)]) / n)

    # Zendesk AI: failedEscalation counted as escalated, by the same formulas
    escalation = frozenset(VARS["convai_zendesk_ai_escalated_statuses"])
    for (day, bot), (n, deflection, esc, *_) in zendesk_truth_rates(sandbox, escalation).items():
        row = daily[(day, "zendesk_ai", bot)]
        assert row["conversations"] == n
        assert close(row["deflection_rate"], deflection) and close(row["escalation_rate"], esc)
    for bot in ZENDESK_BOTS:
        for r in sandbox.truth("zendesk_ai_conversations", START, END_EXCLUSIVE, bot_id=bot):
            want = zendesk_outcome(r, escalation)
            assert conversations[("zendesk_ai", r["conversation_id"])]["outcome"] == want

    # Airgentic: every answer counted unanswered (understood 0, outcome unresolved); a
    # negative rating named, so CSAT is the share of Good among rated records (all Good)
    rated = {r["thread_id"] for service in AIRGENTIC_SERVICES
             for r in sandbox.truth("airgentic_records", START, END_EXCLUSIVE, service_id=service)
             if r["user_rating"] == "Good"}
    csat_threads = Counter()
    for (vendor, key), row in conversations.items():
        if vendor == "airgentic":
            assert row["outcome"] == "unresolved"
            assert row["csat"] == (1 if key in rated else None)
            csat_threads[(row["day"], row["partition_key"])] += key in rated
    for (day, vendor, service), row in daily.items():
        if vendor == "airgentic":
            assert row["understood_rate"] == 0
            assert row["csat_responses"] == csat_threads[(day, service)]
            assert row["csat_avg"] == (1 if csat_threads[(day, service)] else None)

    # Kore.ai: the language is the segment's first `intent` tag (a tag key named by a var)
    for r in sandbox.truth("kore_interactions", START, END_EXCLUSIVE, stream_id=KORE_STREAM):
        intents = sorted((t["createdAt"], i, t["value"]) for i, t in enumerate(r["tags"])
                         if t["name"] == "intent")
        want = intents[0][2] if intents else None
        assert conversations[("kore", r["segmentID"])]["language"] == want


def named(pg, model: str, key: str) -> dict[tuple, dict]:
    """A model's rows as dicts by column name, by `key` (a column list)."""
    with pg.connect() as conn:
        cur = conn.execute(f'select {key}, * from "{ANALYTICS}"."{model}"')
        width = len(key.split(","))
        names = [d.name for d in cur.description][width:]
        return {tuple(r[:width]): dict(zip(names, r[width:], strict=True))
                for r in cur.fetchall()}


def merged_rows(output: str, model: str) -> int:
    """The row count dbt reports for an incremental model's MERGE."""
    match = re.search(rf"OK created sql incremental model \S+\.{model} .*?\[MERGE (\d+)", output)
    assert match, f"no MERGE line for {model}"
    return int(match.group(1))


def test_incremental_builds_process_only_changed_rows_and_equal_a_full_rebuild(
    sandbox, pg, tmp_path
):
    env, db = load_and_build(sandbox, pg, tmp_path)
    total = len(snapshot(pg)["convai_conversations"])
    built_conversations = named(pg, "convai_conversations", "vendor, conversation_key")
    built_days = named(pg, "convai_daily_metrics", "day, vendor, partition_key")

    # A nightly load re-reads and changes a few rows (target-postgres stamps them with a
    # newer _sdc_batched_at): a Zendesk conversation now escalated, an Airgentic thread
    # that went on into the next day, a new AgentX message, a new Kore segment.
    (bot, zendesk_id, export_day) = pg.query(
        f"select bot_id, conversation_id, export_date from {RAW}.zendesk_ai_conversations "
        f"where conversation_status = 'botHandled' order by conversation_id limit 1")[0]
    (thread, moved_from) = pg.query(
        f"select thread_id, max(date_time)::date from {RAW}.airgentic_records r "
        f"group by service_id, thread_id having (select count(distinct thread_id) "
        f"  from {RAW}.airgentic_records o where o.service_id = r.service_id "
        f"  and o.date_time::date = max(r.date_time)::date"
        f") > 1 and max(r.date_time)::date < date '2026-10-07' order by 1 limit 1")[0]
    (agentx_id,) = pg.query(
        f"select _id from {RAW}.agentx_conversations order by _id limit 1")[0]
    with pg.connect() as conn:
        conn.execute(
            f"update {RAW}.zendesk_ai_conversations set conversation_status = 'agent', "
            f"last_resolution = 'escalated', _sdc_batched_at = now() at time zone 'UTC' "
            f"where bot_id = %s and conversation_id = %s", (bot, zendesk_id))
        conn.execute(
            f"update {RAW}.airgentic_records set date_time = date_time + interval '1 day', "
            f"_sdc_batched_at = now() at time zone 'UTC' where thread_id = %s and "
            f"date_time = (select max(date_time) from {RAW}.airgentic_records "
            f"where thread_id = %s)", (thread, thread))
        conn.execute(
            f'insert into {RAW}.agentx_messages (_id, bot_name, "conversationId", time, type, '
            f'"userInput", _sdc_batched_at) select \'added-message\', bot_name, _id, '
            f'"lastActionAt", \'UserInput\', \'one more thing\', now() at time zone \'UTC\' '
            f"from {RAW}.agentx_conversations where _id = %s", (agentx_id,))
        conn.execute(
            f'create temp table added as select * from {RAW}.kore_interactions '
            f'order by "segmentID" limit 1')
        conn.execute(
            "update added set \"segmentID\" = 'ac-added-segment', "
            "_sdc_batched_at = now() at time zone 'UTC'")
        conn.execute(f"insert into {RAW}.kore_interactions select * from added")

    nightly = meltano("run", "dbt-postgres:build", env=env, system_db=db)
    assert nightly.returncode == 0, (nightly.stdout + nightly.stderr)[-6000:]
    output = nightly.stdout + nightly.stderr
    assert merged_rows(output, "convai_conversations") == 4  # only the changed ones
    incremental = snapshot(pg)
    assert len(incremental["convai_conversations"]) == total + 1

    conversations = named(pg, "convai_conversations", "vendor, conversation_key")
    assert conversations[("zendesk_ai", zendesk_id)]["outcome"] == "escalated"
    assert conversations[("airgentic", thread)]["day"] == moved_from + timedelta(days=1)
    assert ("kore", "ac-added-segment") in conversations
    assert (conversations[("agentx", agentx_id)]["user_messages"]
            == built_conversations[("agentx", agentx_id)]["user_messages"] + 1)

    # the escalated conversation moved its day's Zendesk escalation rate by one conversation
    day_rows = named(pg, "convai_daily_metrics", "day, vendor, partition_key")
    now = day_rows[(export_day, "zendesk_ai", bot)]
    old = built_days[(export_day, "zendesk_ai", bot)]
    assert now["escalated_conversations"] == old["escalated_conversations"] + 1
    assert close(now["escalation_rate"],
                 Decimal(now["escalated_conversations"]) / Decimal(now["conversations"]))

    # an incremental build gives what a full rebuild gives
    full = meltano(*dbt_args("build", "--full-refresh"), env=env, system_db=db)
    assert full.returncode == 0, (full.stdout + full.stderr)[-6000:]
    rebuilt = snapshot(pg)
    assert rebuilt == incremental
