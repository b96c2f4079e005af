"""Dagster assets, job and schedule built from a shard plan.

- `tap_convai/state_store`: applies the Meltano system database's migrations once, so the
  shards that start together do not race on them.
- `tap_convai/shard_<i>`: one `meltano run tap-convai target-postgres` per shard, after the
  state store; the shards do not depend on each other, so the multiprocess executor (or
  the Kubernetes executor) runs them in parallel. Each has a retry policy: a failed shard
  is retried alone, the others keep their result.
- job `tap_convai_shards` and schedule `tap_convai_daily` (03:00 UTC).
"""


import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSelection,
    Backoff,
    ConfigurableResource,
    Definitions,
    ExecutorDefinition,
    Failure,
    JobDefinition,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    ScheduleDefinition,
    asset,
    define_asset_job,
    multiprocess_executor,
)

from orchestrate.meltano import MeltanoProject, ShardRun, mask_passwords, run_shard
from orchestrate.plan import Shard, ShardPlan

GROUP = "tap_convai"
JOB_NAME = "tap_convai_shards"
SCHEDULE_NAME = "tap_convai_daily"
STATE_STORE_KEY = AssetKey([GROUP, "state_store"])
#: where the code location finds the Meltano project by default: the repository root
REPOSITORY = Path(__file__).resolve().parents[1]


class MeltanoResource(ConfigurableResource):
    """The Meltano project and the state store every shard shares.

    Secrets (vendor keys, the target's password, a database URI with a password) come from
    the process environment (`TAP_CONVAI_*`, `TARGET_POSTGRES_*`, `MELTANO_DATABASE_URI`),
    never from this config, so they stay out of Dagster's run config and UI.
    """

    project_dir: str = str(REPOSITORY)
    environment: str = "prod"
    #: the shared system database; None: MELTANO_DATABASE_URI of the environment
    database_uri: str | None = None
    #: a shared state backend (s3://, gs://, azure://) instead of the system database
    state_backend_uri: str | None = None
    #: parent directory of the per-run working copies (default: the temp dir)
    workdir: str | None = None
    #: further non-secret environment of every run (e.g. TAP_CONVAI_END_DATE)
    env: dict[str, str] = {}
    timeout_seconds: float | None = None

    def project(self) -> MeltanoProject:
        return MeltanoProject(
            root=Path(self.project_dir),
            environment=self.environment,
            database_uri=self.database_uri,
            state_backend_uri=self.state_backend_uri,
            workdir=Path(self.workdir) if self.workdir else None,
            env=dict(self.env),
            timeout=self.timeout_seconds,
        )


#: shard retries: twice, after 30 s and then 90 s (Dagster: (2^n - 1) x delay)
DEFAULT_RETRY = RetryPolicy(max_retries=2, delay=30, backoff=Backoff.EXPONENTIAL)


def shard_metadata(shard: Shard, run: ShardRun, attempt: int) -> dict[str, Any]:
    """What a shard run reports to Dagster: rows per stream, failed partitions, timing."""
    metadata: dict[str, Any] = {
        "state_id": run.state_id,
        "partitions": MetadataValue.json(shard.describe()["partitions"]),
        "rate_shares": MetadataValue.json(dict(shard.rate_shares)),
        "rows": MetadataValue.json(run.rows),
        "rows_total": sum(run.rows.values()),
        "rows_by_partition": MetadataValue.json(run.rows_by_partition),
        "failed_partitions": MetadataValue.json(run.failed_partitions),
        "exit_code": run.returncode,
        "seconds": run.seconds,
        "attempt": attempt,
    }
    for stream, count in sorted(run.rows.items()):
        metadata[f"rows/{stream}"] = count
    return metadata


def _state_store_asset() -> AssetsDefinition:
    @asset(key=STATE_STORE_KEY, group_name=GROUP, kinds={"meltano"},
           description="The Meltano system database that holds every shard's state, and "
                       "the loader's tables: both are prepared here once, before the shards "
                       "start together.")
    def state_store(meltano: MeltanoResource) -> MaterializeResult:
        project = meltano.project()
        project.prepare_state_store()
        project.prepare_tables()
        backend = (project.state_backend_uri or project.base_env()["MELTANO_DATABASE_URI"])
        return MaterializeResult(metadata={"backend": backend.split(":", 1)[0]})

    return state_store


def _shard_asset(shard: Shard, retry_policy: RetryPolicy | None) -> AssetsDefinition:
    @asset(
        key=AssetKey([GROUP, shard.name]),
        group_name=GROUP,
        deps=[STATE_STORE_KEY],
        retry_policy=retry_policy,
        kinds={"meltano", "postgres"},
        metadata={"partitions": MetadataValue.json(shard.describe())},
        description=f"meltano run tap-convai target-postgres for {shard.name}: "
                    + ", ".join(f"{v} ({len(p)})" for v, p in shard.partitions.items()),
    )
    def _shard(context: AssetExecutionContext, meltano: MeltanoResource) -> MaterializeResult:
        project = meltano.project()
        run = run_shard(project, shard, context.log)
        metadata = shard_metadata(shard, run, context.retry_number)
        if not run.ok:
            for line in run.failed_partitions:
                context.log.error(f"{shard.name}: {line}")
            raise Failure(
                description=(
                    f"{shard.name}: meltano run exited {run.returncode}; "
                    f"{len(run.failed_partitions)} failed partition(s)\n"
                    + mask_passwords(run.log_tail)
                ),
                metadata=metadata,
            )
        return MaterializeResult(metadata=metadata)

    return _shard


def build_definitions(
    plan: ShardPlan,
    meltano: MeltanoResource,
    *,
    retry_policy: RetryPolicy | None = DEFAULT_RETRY,
    cron_schedule: str = "0 3 * * *",
    max_concurrent: int | None = None,
    executor: ExecutorDefinition | None = None,
) -> Definitions:
    """Assets (state store + one per shard), the job, the daily schedule, the resource.

    `executor`: default the multiprocess executor (one process per shard, all at once);
    in Kubernetes e.g. `dagster_k8s.k8s_job_executor` (one pod per shard).
    """
    shards = plan.plan()
    assets = [_state_store_asset(), *(_shard_asset(s, retry_policy) for s in shards)]
    if executor is None:
        executor = multiprocess_executor.configured(
            {"max_concurrent": max_concurrent or len(shards) or 1}
        )
    job = define_asset_job(
        JOB_NAME,
        selection=AssetSelection.groups(GROUP),
        executor_def=executor,
        # one run of the job at a time: shards of two runs would share state ids
        # (meltano#3113); honoured when the run queue has a limit on this tag
        tags={"tap_convai/job": JOB_NAME},
    )
    schedule = ScheduleDefinition(
        name=SCHEDULE_NAME, job=job, cron_schedule=cron_schedule, execution_timezone="UTC"
    )
    return Definitions(assets=assets, jobs=[job], schedules=[schedule],
                       resources={"meltano": meltano})


# -- the plan from a file or from the Meltano project --------------------------------------

PLAN_ENV = "CONVAI_SHARD_PLAN"
SHARDS_ENV = "CONVAI_SHARDS"


def plan_from_file(path: Path) -> ShardPlan:
    """A plan file: `{"shards": N, "partitions": {vendor: [...]}, "rate_limits": {...}}`."""
    data = json.loads(path.read_text())
    return ShardPlan(partitions=data["partitions"], shards=int(data.get("shards", 4)),
                     rate_limits=data.get("rate_limits") or {})


def plan_from_meltano(project: MeltanoProject, shards: int) -> ShardPlan:
    """The partitions the project's tap config lists (for its environment).

    `meltano config print` masks sensitive settings; only partition lists and pacing
    settings are kept from its output.
    """
    proc = project.command(f"--environment={project.environment}", "config", "--safe",
                           "print", "--format=json", "tap-convai")
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or [""])[-1]
        raise RuntimeError(
            f"meltano config print tap-convai failed (exit {proc.returncode}): "
            + mask_passwords(last)
        )
    config = _nest(json.loads(proc.stdout))
    return ShardPlan.from_tap_config(config, shards)


def _nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """`{"agentx.bot_names": [...]}` -> `{"agentx": {"bot_names": [...]}}`."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        if isinstance(value, Mapping):
            out.setdefault(key, {}).update(value)
            continue
        head, _, tail = key.partition(".")
        if tail:
            out.setdefault(head, {})[tail] = value
        else:
            out[key] = value
    return out


def load_plan(meltano: MeltanoResource) -> ShardPlan:
    """CONVAI_SHARD_PLAN (a JSON plan file) if set, else the project's config split into
    CONVAI_SHARDS (default 4) shards."""
    path = os.environ.get(PLAN_ENV)
    if path:
        return plan_from_file(Path(path))
    return plan_from_meltano(meltano.project(), int(os.environ.get(SHARDS_ENV, "4")))


def resource_from_env() -> MeltanoResource:
    """The resource of the code location, from MELTANO_PROJECT_ROOT / MELTANO_ENVIRONMENT."""
    return MeltanoResource(
        project_dir=os.environ.get("MELTANO_PROJECT_ROOT", str(REPOSITORY)),
        environment=os.environ.get("MELTANO_ENVIRONMENT", "prod"),
        workdir=os.environ.get("CONVAI_SHARD_WORKDIR") or None,
    )


def definitions_from_env() -> Definitions:
    """CONVAI_EXECUTOR=k8s runs each shard in its own pod (needs `dagster-k8s`)."""
    meltano = resource_from_env()
    executor = None
    if os.environ.get("CONVAI_EXECUTOR") == "k8s":
        from dagster_k8s import k8s_job_executor  # type: ignore[import-not-found]

        executor = k8s_job_executor
    return build_definitions(load_plan(meltano), meltano, executor=executor)


def shard_job() -> JobDefinition:
    """The job of the environment's plan (a module-level target for `reconstructable`)."""
    return definitions_from_env().resolve_job_def(JOB_NAME)
