"""The two PostgreSQL loaders of meltano.yml on the same tap output: seconds and rows/s.

The tap's output is written to a file once, then each loader reads that file into its own
schema of one embedded PostgreSQL, so the figures are the loaders' alone (the loader, not
the tap, bounds a backfill: see README, "Which loader").
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import PROJECT, TAP, sandbox_process, write_config
from tests.support.config import every_vendor_config
from tests.support.pg import postgres_server

PER_DAY = 200
START, END = "2026-09-01", "2026-09-14"
VENV = PROJECT / ".meltano/loaders"


def _load(executable: Path, config: dict, output: Path) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(config, handle)
    started = time.perf_counter()
    with output.open("rb") as stdin:
        proc = subprocess.run([str(executable), "--config", handle.name], stdin=stdin,
                              capture_output=True, check=False)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.decode()[-3000:])
    return seconds


def main() -> dict:
    with tempfile.TemporaryDirectory() as tmp, sandbox_process(per_day=PER_DAY) as url, \
            postgres_server() as pg:
        output = Path(tmp) / "tap-output.jsonl"
        config = write_config(Path(tmp) / "tap.json", every_vendor_config(url, START, END))
        started = time.perf_counter()
        with output.open("wb") as stdout:
            subprocess.run([TAP, "--config", config], stdout=stdout,
                           stderr=subprocess.DEVNULL, check=True)
        tap_seconds = time.perf_counter() - started
        records = sum(1 for line in output.open("rb") if line.startswith(b'{"type":"RECORD"'))
        meltanolabs = pg.target_env("bench_meltanolabs")
        loaders = {
            "meltanolabs-target-postgres 0.8.1": (
                VENV / "target-postgres/venv/bin/target-postgres",
                {"sqlalchemy_url": meltanolabs["TARGET_POSTGRES_SQLALCHEMY_URL"],
                 "default_target_schema": "bench_meltanolabs"}),
            "pipelinewise-target-postgres 2.1.2": (
                VENV / "target-postgres-pipelinewise/venv/bin/target-postgres",
                {"host": pg.socket_dir, "port": pg.port, "user": pg.user,
                 "password": "unused", "dbname": pg.database,
                 "default_target_schema": "bench_pipelinewise",
                 "add_metadata_columns": True, "primary_key_required": True}),
        }
        print(f"  tap-convai alone: {records} records in {tap_seconds:.1f} s "
              f"= {records / tap_seconds:.0f}/s (output to a file)", flush=True)
        figures = {"records": records, "tap_seconds": tap_seconds}
        for name, (executable, target_config) in loaders.items():
            seconds = _load(executable, target_config, output)
            figures[name] = seconds
            print(f"  {name:<36} {seconds:6.1f} s = {records / seconds:7.0f} records/s",
                  flush=True)
    return figures


if __name__ == "__main__":
    main()
