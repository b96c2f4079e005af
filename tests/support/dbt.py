"""The dbt project (transform/) run through Meltano against the embedded PostgreSQL."""

from __future__ import annotations

from tests.support.pg import Postgres

#: the Meltano utility plugin that runs dbt (meltano.yml)
DBT = "dbt-postgres"
#: the dbt project's two analytics models
MODELS = ("convai_conversations", "convai_daily_metrics")


def dbt_env(pg: Postgres, schema: str) -> dict[str, str]:
    """Settings of the dbt-postgres plugin as environment variables: build in `schema`,
    reading the streams target-postgres loaded into the same schema."""
    return {
        "DBT_POSTGRES_HOST": pg.socket_dir,
        "DBT_POSTGRES_PORT": str(pg.port),
        "DBT_POSTGRES_USER": pg.user,
        "DBT_POSTGRES_DBNAME": pg.database,
        "DBT_POSTGRES_SCHEMA": schema,
        "DBT_POSTGRES_SOURCE_SCHEMA": schema,
    }


def dbt_args(*args: str) -> tuple[str, ...]:
    """`meltano invoke` arguments running dbt itself on the project with `args`."""
    return ("invoke", DBT, *args, "--project-dir", "transform", "--profiles-dir", "transform")
