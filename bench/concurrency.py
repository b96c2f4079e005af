"""Concurrency at real-world latency: the sandbox adds 200 ms to every request.

    .venv/bin/python -m bench.concurrency

1. Airgentic, 2 services x 30 days: default `max_concurrency` (8) against 1.
2. Each vendor alone, then all five in one run (20 days, default settings): a run of all
   vendors should take about as long as the slowest vendor alone (Kore, paced at 60/min).
3. AgentX, both streams in one run: requests/s per endpoint and refusals (limit 3/s).
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench import pacing
from bench.common import TAP, run_timed, sandbox_process, write_config
from tests.support.config import sandbox_config

LATENCY = 0.2
START = dt.date(2026, 9, 1)
VENDORS = ("airgentic", "kore", "agentx", "aurion", "zendesk_ai")
TWO_BOTS = {"zendesk_ai": {"bot_ids": ["98174e8d635471c383b9ec7b", "64628b8e55e4f2459bcb2e68"]}}


def timed_run(vendors: tuple[str, ...], days: int, **overrides: Any) -> tuple[float, dict]:
    """One tap run against a fresh sandbox with latency: wall time and the sandbox's stats."""
    end = START + dt.timedelta(days=days - 1)
    with sandbox_process(latency=LATENCY, kore_rate_limit=60) as url, \
            tempfile.TemporaryDirectory() as tmp:
        blocks = {v: TWO_BOTS[v] for v in vendors if v in TWO_BOTS}
        config = sandbox_config(url, vendors=vendors, start_date=START.isoformat(),
                                end_date=end.isoformat(), request_timeout=60, **blocks,
                                **overrides)
        config.pop("retry_initial_delay")  # the defaults, as users run it
        config.pop("max_retries")
        path = write_config(Path(tmp) / "config.json", config)
        seconds = run_timed([TAP, "--config", path]).seconds
        with urllib.request.urlopen(f"{url}/_sandbox/stats") as response:
            stats = json.loads(response.read())
    return seconds, stats


def requests_of(stats: dict) -> int:
    return sum(entry["requests"] for entry in stats.values())


def main() -> dict[str, Any]:
    out: dict[str, Any] = {}
    print(f"sandbox latency {LATENCY * 1000:.0f} ms per request", flush=True)

    one, stats_one = timed_run(("airgentic",), 30, max_concurrency=1)
    many, stats_many = timed_run(("airgentic",), 30)
    out["airgentic"] = {"sequential": one, "default": many, "speedup": one / many}
    print(f"1. airgentic 2 services x 30 days: max_concurrency 1 {one:.1f} s "
          f"({requests_of(stats_one)} requests), default {many:.1f} s "
          f"({requests_of(stats_many)} requests): {one / many:.1f}x faster", flush=True)

    alone = {}
    for vendor in VENDORS:
        alone[vendor], stats = timed_run((vendor,), 20)
        print(f"2. {vendor:<11} alone, 20 days: {alone[vendor]:5.1f} s "
              f"({requests_of(stats)} requests)", flush=True)
    started = time.perf_counter()
    together, stats = timed_run(VENDORS, 20)
    slowest = max(alone, key=alone.get)
    out["together"] = {"alone": alone, "all": together, "slowest": slowest,
                       "ratio": together / alone[slowest]}
    print(f"2. all five together: {together:.1f} s ({requests_of(stats)} requests) = "
          f"{together / alone[slowest]:.2f}x the slowest alone ({slowest}, "
          f"{alone[slowest]:.1f} s); the sum alone would be {sum(alone.values()):.1f} s "
          f"[{time.perf_counter() - started:.0f} s]", flush=True)

    _, stats = timed_run(("agentx",), 40)
    print("3. agentx, both streams in one run, 40 days:", flush=True)
    out["agentx"] = pacing.report(stats)
    return out


if __name__ == "__main__":
    main()
