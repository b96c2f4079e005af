"""The second loader offered in meltano.yml: pipelinewise-target-postgres loads every
stream exactly once through `meltano run`, and a rerun from the state changes nothing."""

from __future__ import annotations

from tests.keys import STREAMS, assert_table_equals_truth, loaded_keys
from tests.support.config import START, meltano_sandbox_config
from tests.support.runner import meltano, sandbox_env

SCHEMA = "e2e_pipelinewise"
END_EXCLUSIVE = "2026-10-08"
LOADER = "target-postgres-pipelinewise"


def test_pipelinewise_loader_loads_the_truth_and_a_rerun_changes_nothing(sandbox, pg, tmp_path):
    env = {**sandbox_env(sandbox.url), **pg.pipelinewise_env(SCHEMA)}
    db = tmp_path / "meltano.db"
    config = meltano_sandbox_config(sandbox.url)

    first = meltano("run", "tap-convai", LOADER, env=env, system_db=db)
    assert first.returncode == 0, first.stderr[-5000:]
    assert sorted(pg.tables(SCHEMA)) == sorted(STREAMS)
    counts = {
        stream: assert_table_equals_truth(pg, SCHEMA, sandbox, stream, config, START,
                                          END_EXCLUSIVE, lower_case=True)
        for stream in STREAMS
    }
    # nested objects land as jsonb, as with the other loader
    kinds = dict(pg.query(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = %s and table_name = 'kore_interactions'", SCHEMA))
    assert kinds["agent"] == "jsonb"
    # a field of two documented shapes (`anyOf`) is kept too, as JSON: this loader reads a
    # property's `type` only (without one it fails), so the schema gives both
    assert kinds["linksclicked"] == kinds["playbookruntimedata"] == "jsonb"

    second = meltano("run", "tap-convai", LOADER, env=env, system_db=db)
    assert second.returncode == 0, second.stderr[-5000:]
    for stream in STREAMS:
        _, rows = loaded_keys(pg, SCHEMA, stream, lower_case=True)
        assert rows == counts[stream], stream  # upserted on the key: no duplicate
