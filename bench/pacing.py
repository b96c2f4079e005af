"""Pacing: an AgentX sync long enough for 60+ requests per endpoint at the documented
3 requests/second, against the sandbox's enforcement (sliding 1 s window per endpoint)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import subprocess
import tempfile
import urllib.request
from pathlib import Path

from bench.common import TAP, sandbox_process, write_config
from tests.support.config import sandbox_config
from tests.support.stats import busiest_window

DAYS = 62  # one request per endpoint and day (a day's records fit in one page)


def main() -> list[dict]:
    start = dt.date(2026, 7, 1)
    end = start + dt.timedelta(days=DAYS - 1)
    with sandbox_process(agentx_per_day=40) as url, tempfile.TemporaryDirectory() as tmp:
        config = sandbox_config(url, vendors=("agentx",), start_date=start.isoformat(),
                                end_date=end.isoformat(), agentx={"bot_names": ["r3-218210"]})
        config_path = write_config(Path(tmp) / "pacing.json", config)
        subprocess.run([TAP, "--config", config_path], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=True)
        with urllib.request.urlopen(f"{url}/_sandbox/stats") as response:
            stats = json.loads(response.read())
    return report(stats)


def report(stats: dict) -> list[dict]:
    """Rate, refusals and busiest second of each AgentX endpoint in the sandbox's stats."""
    results = []
    for endpoint, entry in sorted(stats.items()):
        if not endpoint.startswith("agentx"):
            continue
        times = entry["times"]
        span = times[-1] - times[0]
        rate = (len(times) - 1) / span if span else 0.0
        worst = busiest_window(times, 1.0)
        gaps = [b - a for a, b in itertools.pairwise(times)]
        results.append({"endpoint": endpoint, "requests": entry["requests"], "rate": rate,
                        "of_limit": rate / 3, "refused": entry["refused"],
                        "max_in_1s": worst, "min_gap": min(gaps)})
        print(f"{endpoint:<24} {entry['requests']:>4} requests  {rate:.3f} req/s "
              f"({rate / 3:.1%} of 3/s)  refused {entry['refused']}  busiest 1 s window "
              f"{worst}  min gap {min(gaps) * 1000:.0f} ms", flush=True)
    return results


if __name__ == "__main__":
    main()
