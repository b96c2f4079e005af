"""End to end: `meltano run tap-convai target-postgres` into a real PostgreSQL, with every
vendor of the sandbox environment (meltano.yml), twice."""

from __future__ import annotations

import json

from sandbox.credentials import SECRETS
from tests.keys import STREAMS, assert_table_equals_truth, loaded_keys, truth_keys
from tests.support.config import START, meltano_sandbox_config
from tests.support.runner import meltano, sandbox_env

SCHEMA = "e2e_all"
STATE_ID = "sandbox:tap-convai-to-target-postgres"
END_EXCLUSIVE = "2026-10-08"

def test_meltano_run_loads_the_truth_and_a_rerun_changes_nothing(sandbox, pg, tmp_path):
    # a number setting from the environment, as schedulers set them (Meltano passes text)
    env = {**sandbox_env(sandbox.url), **pg.target_env(SCHEMA),
           "TAP_CONVAI_AGENTX_REQUESTS_PER_SECOND": "2.5"}
    db = tmp_path / "meltano.db"
    config = meltano_sandbox_config(sandbox.url)

    first = meltano("run", "tap-convai", "target-postgres", env=env, system_db=db)
    assert first.returncode == 0, first.stderr[-5000:]

    assert sorted(pg.tables(SCHEMA)) == sorted(STREAMS)
    counts = {
        stream: assert_table_equals_truth(pg, SCHEMA, sandbox, stream, config, START,
                                          END_EXCLUSIVE)
        for stream in STREAMS
    }

    state = json.loads(meltano("state", "get", STATE_ID, env=env, system_db=db).stdout)
    bookmarks = state["singer_state"]["bookmarks"]
    assert set(bookmarks) == set(STREAMS)
    for stream in STREAMS:
        partitions = bookmarks[stream].get("partitions") or [bookmarks[stream]]
        values = {p["replication_key_value"] for p in partitions}
        assert values == {f"{END_EXCLUSIVE}T00:00:00.000000Z"}, (stream, values)

    second = meltano("run", "tap-convai", "target-postgres", env=env, system_db=db)
    assert second.returncode == 0, second.stderr[-5000:]
    for stream in STREAMS:
        keys, rows = loaded_keys(pg, SCHEMA, stream)
        assert rows == counts[stream], stream
        assert keys == truth_keys(sandbox, stream, config, START, END_EXCLUSIVE), stream

    for output in (first.stdout, first.stderr, second.stderr):
        for secret in SECRETS:
            assert secret not in output
