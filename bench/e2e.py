"""End to end: `meltano run tap-convai target-postgres` into the embedded PostgreSQL,
every vendor of the sandbox environment, a fixed dataset: wall time and rows/s."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from sandbox import Sandbox
from tests.support.pg import postgres_server
from tests.support.runner import meltano, sandbox_env

SCHEMA = "bench_e2e"
PER_DAY = 200


def main() -> dict:
    with tempfile.TemporaryDirectory() as tmp, Sandbox(seed=7, per_day=PER_DAY) as sandbox, \
            postgres_server() as pg:
        env = {**sandbox_env(sandbox.url), **pg.target_env(SCHEMA)}
        started = time.perf_counter()
        run = meltano("run", "tap-convai", "target-postgres", env=env,
                      system_db=Path(tmp) / "meltano.db")
        seconds = time.perf_counter() - started
        if run.returncode != 0:
            raise RuntimeError(run.stderr[-3000:])
        counts = {
            table: pg.query(f'select count(*) from "{SCHEMA}"."{table}"')[0][0]
            for table in pg.tables(SCHEMA)
        }
    rows = sum(counts.values())
    for table, count in counts.items():
        print(f"  {table:<28} {count:>7} rows")
    print(f"meltano run: {rows} rows in {seconds:.1f} s = {rows / seconds:.0f} rows/s "
          f"(per_day={PER_DAY}, sandbox in process)", flush=True)
    return {"rows": rows, "seconds": seconds, "tables": counts}


if __name__ == "__main__":
    main()
