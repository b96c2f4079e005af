"""End to end: `meltano run tap-convai target-postgres` into a real PostgreSQL."""

from __future__ import annotations

import json

from tests.keys import airgentic_keys
from tests.sandbox.credentials import SECRETS
from tests.support.runner import meltano, sandbox_env

SCHEMA = "e2e_all"
STATE_ID = "sandbox:tap-convai-to-target-postgres"


def loaded_airgentic_keys(pg) -> set[tuple]:
    rows = pg.query(f"select partition_id, thread_id, date_time from {SCHEMA}.airgentic_records")
    return airgentic_keys(
        {"partition_id": p, "thread_id": t, "date_time": d.isoformat()} for p, t, d in rows
    )


def test_meltano_run_loads_the_truth_and_a_rerun_changes_nothing(sandbox, pg, tmp_path):
    env = {**sandbox_env(sandbox.url), **pg.target_env(SCHEMA)}
    db = tmp_path / "meltano.db"

    first = meltano("run", "tap-convai", "target-postgres", env=env, system_db=db)
    assert first.returncode == 0, first.stderr[-5000:]

    truth = set()
    for service_id in ("web", "support"):
        truth |= airgentic_keys(
            sandbox.truth("airgentic_records", "2026-10-01", "2026-10-08", service_id=service_id)
        )
    assert loaded_airgentic_keys(pg) == truth
    (count,) = pg.query(f"select count(*) from {SCHEMA}.airgentic_records")[0]
    assert count == len(truth)

    state = json.loads(meltano("state", "get", STATE_ID, env=env, system_db=db).stdout)
    partitions = state["singer_state"]["bookmarks"]["airgentic_records"]["partitions"]
    assert {p["replication_key_value"] for p in partitions} == {"2026-10-08T00:00:00.000000Z"}

    second = meltano("run", "tap-convai", "target-postgres", env=env, system_db=db)
    assert second.returncode == 0, second.stderr[-5000:]
    assert loaded_airgentic_keys(pg) == truth
    (count_again,) = pg.query(f"select count(*) from {SCHEMA}.airgentic_records")[0]
    assert count_again == count

    for output in (first.stdout, first.stderr, second.stderr):
        for secret in SECRETS:
            assert secret not in output
