"""Run the real tap CLI and real Meltano as subprocesses, the way users run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sandbox.credentials import SANDBOX, SECRETS, vendor_module

if TYPE_CHECKING:
    from tap_convai.run import Failure

PROJECT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TAP = str(BIN / "tap-convai")
MELTANO = str(BIN / "meltano")

#: what must never be printed besides the sandbox's secrets: signed URLs' query parameters
SIGNATURE_MARKS = ("signature=", "expires=")


def leaks(text: str) -> list[str]:
    """Secrets (shown by their first 6 characters) and signature marks found in `text`."""
    found = [secret[:6] + "…" for secret in SECRETS if secret in text]
    return found + [mark for mark in SIGNATURE_MARKS if mark in text]


def check_output(*texts: str) -> None:
    """Every run of the suite (tap, Meltano, target) passes through here: a secret or a
    signature in its output fails the test that made the run, whatever tests are selected."""
    found = sorted({leak for text in texts for leak in leaks(text)})
    if found:
        raise AssertionError(f"printed by a run: {', '.join(found)}")


def sandbox_env(url: str) -> dict[str, str]:
    """Environment for `meltano run` against the sandbox: its URL and its secrets."""
    env = {"SANDBOX_URL": url}
    for vendor, credentials in SANDBOX.items():
        for name in vendor_module(vendor).MELTANO_SECRETS:
            env[f"TAP_CONVAI_{vendor.upper()}_{name.upper()}"] = credentials[name]
    return env


@dataclass
class TapRun:
    """The output of one tap run, parsed."""

    returncode: int
    stdout: str
    stderr: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    #: the run's failed partitions, as the tap recorded them (in-process runs only)
    failures: list[Failure] = field(default_factory=list)

    def records(self, stream: str | None = None) -> list[dict[str, Any]]:
        return [
            m["record"]
            for m in self.messages
            if m["type"] == "RECORD" and (stream is None or m["stream"] == stream)
        ]

    def states(self) -> list[dict[str, Any]]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def final_state(self) -> dict[str, Any]:
        states = self.states()
        return states[-1] if states else {}


def parse_messages(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def run_tap(
    config: Mapping[str, Any],
    tmp: Path,
    *,
    state: Mapping[str, Any] | None = None,
    args: tuple[str, ...] = (),
    timeout: float = 300,
) -> TapRun:
    """Run `tap-convai --config ... [--state ...]` and parse what it printed."""
    config_path = tmp / "config.json"
    config_path.write_text(json.dumps(config))
    cmd = [TAP, "--config", str(config_path), *args]
    if state is not None:
        state_path = tmp / "state.json"
        state_path.write_text(json.dumps(state))
        cmd += ["--state", str(state_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    check_output(proc.stdout, proc.stderr)
    listing = "--discover" in args or "--about" in args
    messages = [] if listing else parse_messages(proc.stdout)
    return TapRun(proc.returncode, proc.stdout, proc.stderr, messages)


def meltano(
    *args: str, env: Mapping[str, str], system_db: Path, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """Run meltano in the project with its own system database (state store)."""
    full_env = {
        **os.environ,
        "MELTANO_ENVIRONMENT": "sandbox",
        "MELTANO_DATABASE_URI": f"sqlite:///{system_db}",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        **env,
    }
    proc = subprocess.run(
        [MELTANO, *args], cwd=PROJECT, env=full_env, capture_output=True, text=True,
        timeout=timeout, check=False,
    )
    check_output(proc.stdout, proc.stderr)
    return proc


def run_tap_killed(
    config: Mapping[str, Any],
    tmp: Path,
    *,
    after_states: int = 1,
    state: Mapping[str, Any] | None = None,
    timeout: float = 120,
    sig: int = 9,
) -> TapRun:
    """Run the tap and send it `sig` (default SIGKILL) right after its `after_states`-th
    STATE message.

    Returns what it had written (returncode -9 for SIGKILL; for SIGTERM/SIGINT the tap
    writes its state and exits on its own). If the run ends before, the complete run is
    returned with its real return code.
    """
    config_path = tmp / "config-killed.json"
    config_path.write_text(json.dumps(config))
    cmd = [TAP, "--config", str(config_path)]
    if state is not None:
        state_path = tmp / "state-killed.json"
        state_path.write_text(json.dumps(state))
        cmd += ["--state", str(state_path)]
    stderr_path = tmp / "killed-stderr.log"
    with stderr_path.open("w") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
        lines: list[str] = []
        seen = 0
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith('{"type":"STATE"') and seen < after_states:
                seen += 1
                if seen == after_states:
                    proc.send_signal(sig)
                    if sig == 9:
                        break
        proc.stdout.close()
        proc.wait(timeout=timeout)
    stdout = "".join(lines)
    check_output(stdout, stderr_path.read_text())
    return TapRun(proc.returncode, stdout, stderr_path.read_text(), parse_messages(stdout))


TARGET_POSTGRES = str(PROJECT / ".meltano/loaders/target-postgres/venv/bin/target-postgres")


def load_into_postgres(singer_output: str, target_env: Mapping[str, str], tmp: Path) -> None:
    """Pipe a tap's output into the real target-postgres (installed by `meltano install`)."""
    config = {
        "sqlalchemy_url": target_env["TARGET_POSTGRES_SQLALCHEMY_URL"],
        "default_target_schema": target_env["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"],
    }
    config_path = tmp / "target-config.json"
    config_path.write_text(json.dumps(config))
    proc = subprocess.run(
        [TARGET_POSTGRES, "--config", str(config_path)], input=singer_output,
        capture_output=True, text=True, timeout=300, check=False,
    )
    check_output(proc.stdout, proc.stderr)
    if proc.returncode != 0:
        raise AssertionError(f"target-postgres failed: {proc.stderr[-3000:]}")


def meltano_load(streams: list[str], schema: str, sandbox_url: str, pg: Any,
                 tmp: Path) -> subprocess.CompletedProcess[str]:
    """`meltano run tap-convai target-postgres` of `streams` only (the select setting from
    the environment) into a fresh `schema`; asserts it worked and loaded just those."""
    pg.drop_schema(schema)
    env = {**sandbox_env(sandbox_url), **pg.target_env(schema),
           "TAP_CONVAI__SELECT": json.dumps([f"{stream}.*" for stream in streams])}
    run = meltano("run", "tap-convai", "target-postgres", env=env, system_db=tmp / "m.db")
    assert run.returncode == 0, run.stderr[-5000:]
    assert pg.tables(schema) == sorted(streams)  # the select setting was honoured
    return run
