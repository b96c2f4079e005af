"""Scale-out on Dagster (orchestrate/): four shards of the sandbox run in parallel with the
multiprocess executor, each `meltano run` into the embedded PostgreSQL with its own state
id in one shared state store (Meltano's system database in that PostgreSQL)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import psycopg
import pytest
from dagster import (
    AssetKey,
    DagsterEventType,
    DagsterInstance,
    JobDefinition,
    RetryPolicy,
    execute_job,
    instance_for_test,
    reconstructable,
)

from orchestrate.assets import (
    JOB_NAME,
    MeltanoResource,
    build_definitions,
    plan_from_file,
)
from orchestrate.meltano import mask_passwords, parse_log
from orchestrate.plan import ShardPlan, divide
from sandbox.credentials import SECRETS
from tests.keys import (
    KEY_COLUMNS,
    STREAMS,
    VENDOR_OF,
    assert_table_equals_truth,
    loaded_keys,
    truth_keys,
)
from tests.support.config import START
from tests.support.runner import PROJECT, sandbox_env

SCHEMA = "orchestrate"
SYSTEM_DB = "orchestrate_meltano"
STATE_PREFIX = "sandbox:tap-convai-to-target-postgres:"
FIRST_END, FIRST_END_EXCLUSIVE = "2026-10-04", "2026-10-05"
END, END_EXCLUSIVE = "2026-10-07", "2026-10-08"
PARTITIONS = {
    "airgentic": ["web", "support", "billing"],
    "kore": ["st-sbx-1"],
    "agentx": ["r3-218210", "helpdesk", "sales", "ops"],
    "aurion": [""],
    "zendesk_ai": ["98174e8d635471c383b9ec7b", "64628b8e55e4f2459bcb2e68"],
}
#: the partitions as a tap config, for the sandbox truth
TRUTH_CONFIG = {
    "airgentic": {"service_ids": PARTITIONS["airgentic"]},
    "kore": {"stream_id": PARTITIONS["kore"][0]},
    "agentx": {"bot_names": PARTITIONS["agentx"]},
    "zendesk_ai": {"bot_ids": PARTITIONS["zendesk_ai"]},
}
#: the column that dates each stream's records, to find the first day's rows
DAY_COLUMN = {
    "airgentic_records": "date_time", "kore_interactions": "segmentStartTime",
    "agentx_conversations": "startTime", "agentx_messages": "time",
    "aurion_insights": "window_start", "zendesk_ai_conversations": "export_date",
}


def sandbox_job() -> JobDefinition:
    """The job of the plan in CONVAI_SHARD_PLAN against the sandbox environment, with an
    immediate retry (rebuilt in each step's process by `reconstructable`)."""
    meltano = MeltanoResource(
        project_dir=str(PROJECT), environment="sandbox",
        workdir=os.environ["CONVAI_SHARD_WORKDIR"],
    )
    plan = plan_from_file(Path(os.environ["CONVAI_SHARD_PLAN"]))
    defs = build_definitions(plan, meltano, retry_policy=RetryPolicy(max_retries=1))
    return defs.resolve_job_def(JOB_NAME)


# -- the plan ------------------------------------------------------------------------------


def test_plan_places_each_partition_once_and_divides_each_credential():
    plan = ShardPlan(partitions=PARTITIONS, shards=4)
    shards = plan.plan()
    placed = [(v, p) for s in shards for v, ps in s.partitions.items() for p in ps]
    assert sorted(placed) == sorted((v, p) for v, ps in PARTITIONS.items() for p in ps)

    agentx_shards = [s for s in shards if "agentx" in s.partitions]
    assert 2 <= len(agentx_shards) <= 3  # 3 requests/s divided in whole shares
    assert sum(s.rate_shares["agentx"] for s in agentx_shards) == 3
    for s in agentx_shards:
        env = s.env()
        assert json.loads(env["TAP_CONVAI_AGENTX_BOT_NAMES"]) == list(s.partitions["agentx"])
        assert env["TAP_CONVAI_AGENTX_REQUESTS_PER_SECOND"] == str(s.rate_shares["agentx"])
        assert set(json.loads(env["TAP_CONVAI__SELECT_FILTER"])) >= {
            "agentx_conversations", "agentx_messages"}
    kore = [s for s in shards if "kore" in s.partitions]
    assert len(kore) == 1 and "kore" not in kore[0].rate_shares  # alone: keeps its pace

    # more shards than the credential's limit: its partitions stay on `limit` shards
    wide = ShardPlan(partitions={"agentx": [f"bot-{i}" for i in range(40)]}, shards=16)
    shares = [s.rate_shares["agentx"] for s in wide.plan()]
    assert len(shares) == 3 and shares == [1, 1, 1]

    # adding a partition moves no other partition
    grown = ShardPlan(partitions={**PARTITIONS, "agentx": [*PARTITIONS["agentx"], "new"]},
                      shards=4).assign()
    before = plan.assign()
    for vendor, placed_before in before.items():
        for partition, index in placed_before.items():
            assert grown[vendor][partition] == index

    # shares are whole, at least 1, proportional to the partitions held, and add up
    assert divide(3, [3, 1]) == [2, 1]
    assert divide(60, [5, 1, 1, 1]) == [38, 8, 7, 7]
    assert divide(3, [10, 1, 1]) == [1, 1, 1]
    with pytest.raises(ValueError):
        divide(3, [1, 1, 1, 1])

    with pytest.raises(ValueError, match="one stream_id per tap config"):
        ShardPlan(partitions={"kore": ["st-1", "st-2"]})


def test_plan_from_a_tap_config_keeps_the_configured_pace():
    config = {"start_date": START, "agentx": {"bot_names": ["a", "b", "c", "d"],
                                              "requests_per_second": 2},
              "aurion": {"base_url": "https://x"}}
    plan = ShardPlan.from_tap_config(config, shards=4)
    assert plan.partitions == {"agentx": ["a", "b", "c", "d"], "aurion": [""]}
    shares = [s.rate_shares.get("agentx") for s in plan.plan() if "agentx" in s.partitions]
    assert sum(shares) == 2 and len(shares) == 2


def test_definitions_hold_the_shards_the_job_and_the_daily_schedule():
    plan = ShardPlan(partitions=PARTITIONS, shards=4)
    defs = build_definitions(plan, MeltanoResource(project_dir=str(PROJECT)))
    keys = {k.to_user_string() for k in defs.resolve_all_asset_keys()}
    assert keys == {"tap_convai/state_store", *(f"tap_convai/{s.name}" for s in plan.plan())}
    assert defs.resolve_job_def(JOB_NAME).executor_def.name == "multiprocess"
    schedule = defs.resolve_schedule_def("tap_convai_daily")
    assert schedule.cron_schedule == "0 3 * * *" and schedule.job_name == JOB_NAME
    assert schedule.execution_timezone == "UTC"
    for shard in plan.plan():
        op = defs.resolve_assets_def(AssetKey(["tap_convai", shard.name])).op
        assert op.retry_policy is not None and op.retry_policy.max_retries == 2


def test_summary_is_read_from_the_meltano_log():
    log = "\n".join([
        '2026-12-01T22:48:16Z [info     ] tap-convai   METRIC: {"type":"counter",'
        '"metric":"record_count","value":67,"tags":{"stream":"agentx_messages",'
        '"context":{"bot_name":"a"}}}',
        '2026-12-01T22:48:17Z [info     ] tap-convai   METRIC: {"type":"counter",'
        '"metric":"record_count","value":3,"tags":{"stream":"agentx_messages",'
        '"context":{"bot_name":"b"}}}',
        '2026-12-01T22:48:17Z [info     ] tap-convai   METRIC: {"type":"timer",'
        '"metric":"http_request_duration","value":0.2,"tags":{"stream":"agentx_messages"}}',
        "2026-12-01T22:49:44Z [info     ] tap-convai   Run finished with 2 failed partition(s):",
        "2026-12-01T22:49:44Z [info     ] tap-convai     AurionAI: aurion_insights [all] x",
        "2026-12-01T22:49:44Z [info     ] target-postgres Loading",
        "2026-12-01T22:49:44Z [info     ] tap-convai     AgentX: agentx_messages [b] y",
    ])
    run = parse_log(log)
    assert run.rows == {"agentx_messages": 70}
    assert run.rows_by_partition == {"agentx_messages[a]": 67, "agentx_messages[b]": 3}
    assert run.failed_partitions == ["AurionAI: aurion_insights [all] x",
                                     "AgentX: agentx_messages [b] y"]
    # a log tail shown in a failure never carries a database password
    assert mask_passwords("to postgresql+psycopg://meltano:pw-1@db:5432/m failed") == (
        "to postgresql+psycopg://meltano:***@db:5432/m failed")


# -- four shards in parallel, end to end --------------------------------------------------


def _materializations(result) -> dict[str, dict]:
    """shard name -> metadata of its materialization (as plain values)."""
    out = {}
    for event in result.all_events:
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            mat = event.event_specific_data.materialization
            out[mat.asset_key.path[-1]] = {k: v.value for k, v in mat.metadata.items()}
    return out


def _steps(instance: DagsterInstance, run_id: str, kind: DagsterEventType) -> list[str]:
    records = instance.get_records_for_run(run_id, of_type=kind).records
    return [r.event_log_entry.step_key for r in records]


def _system_db(pg, sql: str) -> list[tuple]:
    """A query on Meltano's system database (the shared state store)."""
    with psycopg.connect(host=pg.socket_dir, port=pg.port, user=pg.user,
                         dbname=SYSTEM_DB) as conn:
        return conn.execute(sql).fetchall()


def _meltano_runs(pg) -> dict[str, list[str]]:
    """state id -> statuses of its `meltano run`s, oldest first (Meltano's runs table)."""
    out: dict[str, list[str]] = {}
    for job, status in _system_db(pg, "select job_name, state from runs order by id"):
        out.setdefault(job, []).append(status)
    return out


def _states(pg) -> dict[str, dict]:
    rows = _system_db(pg, "select state_id, completed_state from state")
    return {state_id: json.loads(value) for state_id, value in rows}


def _first_day(pg, stream: str) -> dict[tuple, object]:
    """Rows of the first day (outside every lookback of the second run) -> extracted at."""
    keys = ", ".join(f'"{c}"' for c in KEY_COLUMNS[stream])
    rows = pg.query(
        f'select {keys}, "_sdc_extracted_at" from "{SCHEMA}"."{stream}" '
        f'where "{DAY_COLUMN[stream]}" < %s', "2026-10-02",
    )
    return {tuple(r[:-1]): r[-1] for r in rows}


def test_four_shards_run_in_parallel_load_the_truth_and_retry_alone(
    sandbox, pg, tmp_path, monkeypatch
):
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps({"shards": 4, "partitions": PARTITIONS}))
    shards = ShardPlan(partitions=PARTITIONS, shards=4).plan()
    assert len(shards) == 4
    names = [s.name for s in shards]
    with pg.connect() as conn:
        conn.execute(f'drop database if exists "{SYSTEM_DB}"')
        conn.execute(f'create database "{SYSTEM_DB}"')
    env = {
        **sandbox_env(sandbox.url),
        **pg.target_env(SCHEMA),
        "MELTANO_DATABASE_URI": (
            f"postgresql+psycopg://{pg.user}@/{SYSTEM_DB}?host={pg.socket_dir}&port={pg.port}"
        ),
        "MELTANO_ENVIRONMENT": "sandbox",
        "CONVAI_SHARD_PLAN": str(plan_file),
        "CONVAI_SHARD_WORKDIR": str(tmp_path / "work"),
        "TAP_CONVAI_END_DATE": FIRST_END,
        # the sandbox does not limit Kore: its default pace (1/s) would only slow the test
        "TAP_CONVAI_KORE_REQUESTS_PER_MINUTE": "600",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    job = reconstructable(sandbox_job)

    (tmp_path / "dagster").mkdir()
    with instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        # 1. the first materialisation: four shards at once
        first = execute_job(job, instance=instance)
        assert first.success
        mats = _materializations(first)
        assert set(mats) == {"state_store", *names}

        starts = {
            r.event_log_entry.step_key: r.event_log_entry.timestamp
            for r in instance.get_records_for_run(
                first.run_id, of_type=DagsterEventType.STEP_START).records
        }
        ends = {
            r.event_log_entry.step_key: r.event_log_entry.timestamp
            for r in instance.get_records_for_run(
                first.run_id, of_type=DagsterEventType.STEP_SUCCESS).records
        }
        shard_steps = [k for k in starts if k.endswith(tuple(names))]
        assert len(shard_steps) == 4
        # they ran in parallel: every shard started before the first shard finished
        assert max(starts[k] for k in shard_steps) < min(ends[k] for k in shard_steps)

        counts = {}
        for stream in STREAMS:
            counts[stream] = assert_table_equals_truth(
                pg, SCHEMA, sandbox, stream, TRUTH_CONFIG, START, FIRST_END_EXCLUSIVE)
            # the summary's rows per stream, over all shards, are the loaded rows
            assert sum(m.get("rows", {}).get(stream, 0) for m in mats.values()) == counts[stream]

        # each shard has its own state id in the one store, with its partitions only
        for shard in shards:
            assert mats[shard.name]["state_id"] == STATE_PREFIX + shard.name
            assert mats[shard.name]["failed_partitions"] == []
        states = _states(pg)
        assert set(states) == {STATE_PREFIX + n for n in names}
        for shard in shards:
            bookmarks = states[STATE_PREFIX + shard.name]["singer_state"]["bookmarks"]
            assert set(bookmarks) == set(shard.streams), shard.name
            for stream, bookmark in bookmarks.items():
                parts = bookmark.get("partitions") or [bookmark]
                values = {p["replication_key_value"] for p in parts}
                assert values == {f"{FIRST_END_EXCLUSIVE}T00:00:00.000000Z"}, stream
                if "partitions" in bookmark:  # exactly this shard's partitions
                    ids = sorted(next(iter(p["context"].values())) for p in parts)
                    assert ids == sorted(shard.partitions[VENDOR_OF[stream]]), stream

        # shards that share the AgentX key together stayed under its limit
        stats = sandbox.stats.snapshot()
        assert stats["agentx.conversations"]["requests"] > 0
        assert stats["agentx.conversations"]["refused"] == 0
        assert stats["agentx.messages"]["refused"] == 0

        first_day = {s: _first_day(pg, s) for s in STREAMS}
        assert sum(map(len, first_day.values())) > 50, {k: len(v) for k, v in first_day.items()}
        runs_before = _meltano_runs(pg)
        assert {k: len(v) for k, v in runs_before.items()} == {
            STATE_PREFIX + n: 1 for n in names}

        # 2. three more days; AurionAI refuses the first request: its shard fails once
        monkeypatch.setenv("TAP_CONVAI_END_DATE", END)
        sandbox.faults.add(vendor="aurion", status=403, count=1)
        aurion_shard = next(s.name for s in shards if "aurion" in s.partitions)
        second = execute_job(job, instance=instance)
        assert second.success
        assert not sandbox.faults.rules  # the fault fired

        retried = _steps(instance, second.run_id, DagsterEventType.STEP_UP_FOR_RETRY)
        assert [k.split("__")[-1] for k in retried] == [aurion_shard]
        failures = instance.get_records_for_run(
            second.run_id, of_type=DagsterEventType.STEP_FAILURE).records
        assert failures == []  # the retry succeeded
        # one more `meltano run` per shard, two for the failed one (failed, then success)
        runs_after = _meltano_runs(pg)
        for name in names:
            new = runs_after[STATE_PREFIX + name][len(runs_before[STATE_PREFIX + name]):]
            assert new == (["FAIL", "SUCCESS"] if name == aurion_shard else ["SUCCESS"]), (
                name, new)
        logs = [str(e.user_message) for e in instance.all_logs(second.run_id)]
        assert any(m.startswith(f"{aurion_shard}: AurionAI: aurion_insights") for m in logs)

        mats2 = _materializations(second)
        assert mats2[aurion_shard]["attempt"] == 1
        assert all(mats2[n]["attempt"] == 0 for n in names if n != aurion_shard)

        for stream in STREAMS:
            truth = truth_keys(sandbox, stream, TRUTH_CONFIG, START, END_EXCLUSIVE)
            new_truth = truth - truth_keys(sandbox, stream, TRUTH_CONFIG, START,
                                           FIRST_END_EXCLUSIVE)
            keys, rows = loaded_keys(pg, SCHEMA, stream)
            assert keys == truth, stream
            assert rows == counts[stream] + len(new_truth), stream  # only new rows added
            # the first day, outside every lookback, was not extracted again
            assert _first_day(pg, stream) == first_day[stream], stream

        assert set(_states(pg)) == {STATE_PREFIX + n for n in names}
        assert list((tmp_path / "work").iterdir()) == []  # working copies removed

        outputs = json.dumps([mats, mats2]) + "".join(
            str(e.user_message) for e in instance.all_logs(second.run_id))
        for secret in SECRETS:
            assert secret not in outputs

