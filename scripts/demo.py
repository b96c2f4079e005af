"""`make demo`: the main job on a fresh machine, against the built-in sandbox.

Starts the vendor sandbox and an embedded PostgreSQL, runs
`meltano run tap-convai target-postgres`, prints the rows loaded per stream and the saved
state, then stops what it started.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.sandbox import Sandbox
from tests.support.pg import postgres_server
from tests.support.runner import meltano, sandbox_env

SCHEMA = "convai"
STATE_ID = "sandbox:tap-convai-to-target-postgres"


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="convai-demo-"))
    with Sandbox(seed=7, per_day=12) as sandbox, postgres_server() as pg:
        print(f"sandbox: {sandbox.url}   postgres: {pg.socket_dir}", flush=True)
        env = {**sandbox_env(sandbox.url), **pg.target_env(SCHEMA)}
        print("running: meltano run tap-convai target-postgres ...", flush=True)
        run = meltano("run", "tap-convai", "target-postgres", env=env,
                      system_db=work / "meltano.db")
        if run.returncode != 0:
            print(run.stderr[-30000:], file=sys.stderr)
            print(f"meltano run failed with exit code {run.returncode}", file=sys.stderr)
            return run.returncode

        print(f"\nrows loaded into PostgreSQL schema '{SCHEMA}':")
        print(f"  {'stream':<28} {'rows':>7}")
        for table in pg.tables(SCHEMA):
            (count,) = pg.query(f'select count(*) from "{SCHEMA}"."{table}"')[0]
            print(f"  {table:<28} {count:>7}")

        state = meltano("state", "get", STATE_ID, env=env, system_db=work / "meltano.db")
        print(f"\nsaved state ({STATE_ID}):")
        try:
            print(json.dumps(json.loads(state.stdout), indent=2))
        except ValueError:
            print(state.stdout or state.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
