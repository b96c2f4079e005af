"""Throughput: tap-convai vs the bare client on the same pages (records/s, medians)."""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.common import TAP, median, run_timed, sandbox_process, write_config
from sandbox import Sandbox
from tests.support.config import sandbox_config


@dataclass(frozen=True)
class Case:
    stream: str
    vendor: str
    partition_key: str
    partition: str
    sandbox_options: dict
    config: dict
    start: str = "2026-09-01"
    days: int = 20


CASES = (
    Case("airgentic_records", "airgentic", "service_id", "web",
         {"airgentic_per_day": 5000},
         {"airgentic": {"service_ids": ["web"]}}),
    Case("agentx_messages", "agentx", "bot_name", "r3-218210",
         {"agentx_per_day": 2000, "agentx_rate_limit": 0},
         {"agentx": {"bot_names": ["r3-218210"], "requests_per_second": 1000}}, days=25),
    Case("kore_interactions", "kore", "stream_id", "st-sbx-1",
         {"kore_per_day": 600, "kore_rate_limit": 0},
         {"kore": {"requests_per_minute": 600000}}, days=20),
)


def expected_records(case: Case) -> int:
    sandbox = Sandbox(seed=7, per_day=12, **case.sandbox_options)  # same data, not served
    end = (dt.date.fromisoformat(case.start) + dt.timedelta(days=case.days)).isoformat()
    return len(sandbox.truth(case.stream, case.start, end, **{case.partition_key: case.partition}))


def measure(case: Case, repetitions: int, work: Path) -> dict:
    last_day = dt.date.fromisoformat(case.start) + dt.timedelta(days=case.days - 1)
    with sandbox_process(**case.sandbox_options) as url:
        config = sandbox_config(url, vendors=(case.vendor,), start_date=case.start,
                                end_date=last_day.isoformat(), **case.config)
        config_path = write_config(work / f"{case.stream}.json", config)
        catalog = work / f"{case.stream}.catalog.json"
        tap_cmd = [TAP, "--config", config_path]
        if case.vendor == "agentx":  # select only the stream measured
            tap_cmd += ["--catalog", str(select_only(config_path, case.stream, catalog))]
        bare_cmd = [sys.executable, "-m", "bench.bare", case.stream, url, case.start,
                    str(case.days), case.partition]
        run_timed(bare_cmd)  # warm the sandbox's caches for both contenders
        bare, tap = [], []
        for _ in range(repetitions):
            bare.append(run_timed(bare_cmd).seconds)
            tap.append(run_timed(tap_cmd).seconds)
    records = expected_records(case)
    bare_rate, tap_rate = records / median(bare), records / median(tap)
    return {"stream": case.stream, "records": records, "bare_s": median(bare),
            "tap_s": median(tap), "bare_rps": bare_rate, "tap_rps": tap_rate,
            "ratio": tap_rate / bare_rate}


def select_only(config_path: str, stream: str, out: Path) -> Path:
    import json
    import subprocess

    catalog = json.loads(subprocess.run([TAP, "--config", config_path, "--discover"],
                                        capture_output=True, text=True, check=True).stdout)
    for entry in catalog["streams"]:
        selected = entry["tap_stream_id"] == stream
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = selected
    out.write_text(json.dumps(catalog))
    return out


def main(repetitions: int = 3, streams: tuple[str, ...] = ()) -> list[dict]:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            if streams and case.stream not in streams:
                continue
            result = measure(case, repetitions, Path(tmp))
            results.append(result)
            print(
                f"{result['stream']:<20} {result['records']:>7} records  "
                f"bare {result['bare_rps']:>8.0f}/s ({result['bare_s']:.2f} s)  "
                f"tap {result['tap_rps']:>8.0f}/s ({result['tap_s']:.2f} s)  "
                f"ratio {result['ratio']:.2f}",
                flush=True,
            )
    return results


if __name__ == "__main__":
    main(streams=tuple(sys.argv[1:]))
