"""`make demo`: the main job on a fresh machine, against the built-in sandbox.

Starts the vendor sandbox and an embedded PostgreSQL, runs
`meltano run tap-convai target-postgres`, prints the rows loaded per stream and the saved
state, builds the analytics models (`meltano run dbt-postgres:build`) and prints a metrics
table per vendor, then stops what it started.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox import Sandbox
from tests.support.dbt import dbt_env
from tests.support.pg import Postgres, postgres_server
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

        return build_and_print_metrics(pg, {**env, **dbt_env(pg, SCHEMA)}, work)
    return 0


#: (vendor, partition_key) rows of convai_daily_metrics summed per day, the rates recomputed
#: from the summed figures (null where the vendor has no signal for one)
DAILY_BY_VENDOR = f"""
select vendor, day, sum(conversations)::bigint,
       sum(deflected_conversations) / nullif(sum(conversations), 0),
       sum(escalated_conversations) / nullif(sum(conversations), 0),
       (sum(user_messages) - sum(not_understood_messages)) / nullif(sum(user_messages), 0),
       sum(csat_avg * csat_responses) / nullif(sum(csat_responses), 0),
       sum(assist_used_conversations) / nullif(sum(conversations), 0),
       max(aurion_help_center_deflection_rate)
from "{SCHEMA}".convai_daily_metrics
group by vendor, day
order by vendor, day
"""


def _fmt(value: object, percent: bool = True) -> str:
    if value is None:
        return "-"
    return f"{float(value):.1%}" if percent else f"{float(value):.2f}"


def build_and_print_metrics(pg: Postgres, env: dict[str, str], work: Path) -> int:
    """The dbt step: `meltano run dbt-postgres:build`, then a metrics table per vendor."""
    print("\nrunning: meltano run dbt-postgres:build ...", flush=True)
    build = meltano("run", "dbt-postgres:build", env=env, system_db=work / "meltano.db")
    if build.returncode != 0:
        print((build.stdout + build.stderr)[-30000:], file=sys.stderr)
        print(f"dbt build failed with exit code {build.returncode}", file=sys.stderr)
        return build.returncode
    (conversations,) = pg.query(f'select count(*) from "{SCHEMA}".convai_conversations')[0]
    print(f"convai_conversations: {conversations} rows (docs/models.md)")
    rows = pg.query(DAILY_BY_VENDOR)
    for vendor in sorted({row[0] for row in rows}):
        print(f"\n{vendor}: convai_daily_metrics by day (all partitions)")
        print(f"  {'day':<10} {'convs':>6} {'deflect':>8} {'escal':>7} {'underst':>8} "
              f"{'csat':>5} {'assist':>7} {'hc-defl':>8}")
        for _, day, convs, defl, esc, und, csat, assist, hc in (r for r in rows
                                                                 if r[0] == vendor):
            print(f"  {day!s:<10} {convs if convs is not None else '-':>6} {_fmt(defl):>8} "
                  f"{_fmt(esc):>7} {_fmt(und):>8} {_fmt(csat, percent=False):>5} "
                  f"{_fmt(assist):>7} {_fmt(hc):>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
