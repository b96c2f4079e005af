"""Shared bench plumbing: a sandbox in its own process, timed runs, medians."""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TAP = str(BIN / "tap-convai")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def sandbox_process(per_day: int = 12, **options: Any) -> Iterator[str]:
    """The sandbox as a separate process (its own interpreter and GIL), so the tap and
    the bare client compete with it no more than with a real remote API."""
    port = free_port()
    cmd = [sys.executable, "-m", "sandbox", "--port", str(port), "--per-day", str(per_day)]
    for key, value in options.items():
        cmd += ["--option", f"{key}={json.dumps(value)}"]
    proc = subprocess.Popen(cmd, cwd=PROJECT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening" not in line:
        proc.kill()
        raise RuntimeError(f"sandbox did not start: {line!r}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@dataclass
class Timed:
    seconds: float
    peak_rss_mb: float


def run_timed(cmd: list[str], env: dict[str, str] | None = None) -> Timed:
    """Run a command with stdout to /dev/null: wall time and peak RSS (sampled 50/s)."""
    import psutil

    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    watched = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            peak = max(peak, watched.memory_info().rss)
        except psutil.Error:
            break
        time.sleep(0.02)
    proc.wait()
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} exited {proc.returncode}")
    return Timed(seconds, peak / 2**20)


def median(values: list[float]) -> float:
    return statistics.median(values)


def write_config(path: Path, config: dict[str, Any]) -> str:
    path.write_text(json.dumps(config))
    return str(path)
