"""Run one shard: `meltano run tap-convai target-postgres` in a working copy of its own.

Meltano keeps a run's files (`tap.properties.json`, the config it hands the tap) under
`<sys dir>/run/<plugin>/`, so two runs of the same tap in one project directory overwrite
each other's files (meltano/meltano#8763). Each shard run gets a fresh system directory
(`MELTANO_SYS_DIR_ROOT`) whose plugin folders are symlinks to the project's installed
virtualenvs: nothing is reinstalled, and nothing under `run/` is shared. The project
(`meltano.yml`) is read in place. All shards share one state store (the system database
or a state backend) and each writes its own state id (`--state-id-suffix`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from orchestrate.plan import Shard

TAP = "tap-convai"
TARGET = "target-postgres"
#: the plugin folders of `.meltano/` that hold installed virtualenvs
PLUGIN_DIRS = ("extractors", "loaders", "mappers", "transformers", "utilities", "orchestrators")

_LOG_LINE = re.compile(r"^\S+\s+\[\s*\w+\s*\]\s+(?P<name>\S+)\s(?P<message>.*)$")
_METRIC = re.compile(r"METRIC: (\{.*\})\s*$")
_FAILED = re.compile(r"Run finished with (\d+) failed partition")
_URI_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")


def mask_passwords(text: str) -> str:
    """`scheme://user:password@host` -> `scheme://user:***@host` (database URIs in logs)."""
    return _URI_PASSWORD.sub(r"\1***@", text)


@dataclass
class MeltanoProject:
    """Where the Meltano project is and how its runs reach the shared state store."""

    root: Path
    environment: str
    #: MELTANO_DATABASE_URI for every shard (the system database holds the state);
    #: None: the process environment's, else the project's own `.meltano/meltano.db`
    database_uri: str | None = None
    #: MELTANO_STATE_BACKEND_URI (s3://, gs://, azure://...) if state is kept there
    state_backend_uri: str | None = None
    #: parent of the per-run working copies (default: the system temp dir)
    workdir: Path | None = None
    #: further environment for every run (non-secret settings, e.g. end_date)
    env: Mapping[str, str] = field(default_factory=dict)
    meltano: str | None = None
    timeout: float | None = None

    @property
    def executable(self) -> str:
        if self.meltano:
            return self.meltano
        beside = Path(sys.executable).parent / "meltano"
        return str(beside) if beside.exists() else shutil.which("meltano") or "meltano"

    def base_env(self) -> dict[str, str]:
        env = {**os.environ, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
               "MELTANO_ENVIRONMENT": self.environment, **self.env}
        if self.database_uri:
            env["MELTANO_DATABASE_URI"] = self.database_uri
        elif "MELTANO_DATABASE_URI" not in env:
            # the default URI is relative to the system dir, which each run replaces
            env["MELTANO_DATABASE_URI"] = f"sqlite:///{self.root / '.meltano' / 'meltano.db'}"
        if self.state_backend_uri:
            env["MELTANO_STATE_BACKEND_URI"] = self.state_backend_uri
        env.pop("MELTANO_SYS_DIR_ROOT", None)
        env.pop("MELTANO_RUN_STATE_ID_SUFFIX", None)
        return env

    def state_id(self, shard: Shard) -> str:
        """The state id Meltano gives `meltano run tap target` with this shard's suffix."""
        return f"{self.environment}:{TAP}-to-{TARGET}:{shard.name}"

    def command(self, *args: str, env: Mapping[str, str] | None = None,
                sys_dir: Path | None = None,
                stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run a meltano command in the project (e.g. `state get`)."""
        full_env = {**self.base_env(), **(env or {})}
        if sys_dir is not None:
            full_env["MELTANO_SYS_DIR_ROOT"] = str(sys_dir)
        return subprocess.run(
            [self.executable, *args], cwd=self.root, env=full_env, capture_output=True,
            text=True, timeout=self.timeout, check=False, input=stdin,
        )

    def prepare_state_store(self) -> None:
        """Apply the system database's migrations once, before shards start together."""
        with working_copy(self) as sys_dir:
            proc = self.command("upgrade", "database", sys_dir=sys_dir)
        if proc.returncode != 0:
            raise RuntimeError(
                f"meltano upgrade database failed: {mask_passwords(_tail(proc.stderr))}"
            )


    def prepare_tables(self) -> None:
        """Create the loader's tables once, from the selected streams' SCHEMA messages,
        before shards start together: target-postgres runs creating the same table at
        once collide in PostgreSQL's catalog (duplicate key in pg_type) and fail."""
        with working_copy(self) as sys_dir:
            proc = self.command("invoke", TAP, "--test=schema", sys_dir=sys_dir)
            if proc.returncode == 0:
                proc = self.command("invoke", TARGET, sys_dir=sys_dir, stdin=proc.stdout)
        if proc.returncode != 0:
            raise RuntimeError(
                f"creating the loader's tables failed: {mask_passwords(_tail(proc.stderr))}"
            )


@contextmanager
def working_copy(project: MeltanoProject, prefix: str = "convai-") -> Iterator[Path]:
    """A fresh Meltano system directory whose plugin folders link to the project's
    installed virtualenvs; deleted afterwards."""
    base = project.workdir
    if base is not None:
        base.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    try:
        sys_dir = root / ".meltano"
        sys_dir.mkdir()
        installed = project.root / ".meltano"
        for name in PLUGIN_DIRS:
            if (installed / name).is_dir():
                (sys_dir / name).symlink_to(installed / name, target_is_directory=True)
        yield sys_dir
    finally:
        shutil.rmtree(root, ignore_errors=True)


class Logger(Protocol):
    def info(self, msg: str) -> None: ...


@dataclass
class ShardRun:
    """What one shard run did, read from its log."""

    shard: str
    state_id: str
    returncode: int
    seconds: float
    #: records the tap emitted per stream, and per stream and partition
    rows: dict[str, int] = field(default_factory=dict)
    rows_by_partition: dict[str, int] = field(default_factory=dict)
    #: the tap's failure summary, one line per failed partition
    failed_partitions: list[str] = field(default_factory=list)
    log_tail: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run_shard(project: MeltanoProject, shard: Shard, log: Logger | None = None) -> ShardRun:
    """`meltano run --state-id-suffix <shard> tap-convai target-postgres` in its own copy.

    `log` (e.g. Dagster's context.log) gets one line at start and the summary at the end.
    """
    started = time.monotonic()
    with working_copy(project, prefix=f"convai-{shard.name}-") as sys_dir:
        log_path = sys_dir.parent / "meltano.log"
        env = {**project.base_env(), **shard.env(), "MELTANO_SYS_DIR_ROOT": str(sys_dir)}
        cmd = [project.executable, "run", "--state-id-suffix", shard.name, TAP, TARGET]
        _info(log, f"{shard.name}: meltano run, partitions {json.dumps(shard.describe())}")
        with log_path.open("w") as out:
            proc = subprocess.Popen(cmd, cwd=project.root, env=env, stdout=out,
                                    stderr=subprocess.STDOUT, text=True)
            try:
                returncode = proc.wait(timeout=project.timeout)
            finally:
                if proc.poll() is None:  # interrupted or timed out: let the tap save state
                    proc.terminate()
                    try:
                        proc.wait(timeout=60)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
        text = log_path.read_text(errors="replace")
    result = parse_log(text)
    result.shard = shard.name
    result.state_id = project.state_id(shard)
    result.returncode = returncode
    result.seconds = round(time.monotonic() - started, 1)
    _info(log, f"{shard.name}: exit {returncode} in {result.seconds} s, rows {result.rows}")
    return result


def parse_log(text: str) -> ShardRun:
    """Rows per stream (the tap's `record_count` metrics) and failed partitions (the tap's
    closing summary) from a `meltano run` console log."""
    run = ShardRun(shard="", state_id="", returncode=0, seconds=0.0)
    expect_failures = 0
    for line in text.splitlines():
        match = _LOG_LINE.match(line)
        if match is None or match["name"] != TAP:
            continue
        message = match["message"].strip()
        if expect_failures:
            run.failed_partitions.append(message)
            expect_failures -= 1
            continue
        metric = _METRIC.search(message)
        if metric:
            try:
                point = json.loads(metric.group(1))
            except ValueError:
                continue
            if point.get("metric") != "record_count":
                continue
            tags = point.get("tags") or {}
            stream = tags.get("stream", "?")
            value = int(point.get("value") or 0)
            run.rows[stream] = run.rows.get(stream, 0) + value
            context = tags.get("context") or {}
            label = stream + "".join(f"[{v}]" for v in context.values())
            run.rows_by_partition[label] = run.rows_by_partition.get(label, 0) + value
            continue
        failed = _FAILED.search(message)
        if failed:
            expect_failures = int(failed.group(1))
    run.log_tail = _tail(text)
    return run


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _info(log: Logger | None, message: str) -> None:
    if log is not None:
        log.info(message)
