"""Peak memory of the tap on long backfills and on one very large day (not part of the tests).

The tap's stdout is read at 4 MB/s — a loader slower than the fetching, as target-postgres
is — so what the tap fetches ahead waits in memory: the byte budget must hold it. Peak RSS
is the tap process's VmHWM (sampled every 20 ms). Flat = the 365-day figure within 10% of
the 30-day one; every figure at most 150 MB.

    .venv/bin/python -m bench.memory                 # every case below
    .venv/bin/python -m bench.memory airgentic-30    # chosen cases
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.common import TAP, sandbox_process, write_config
from bench.zendesk_memory import high_water_mark_kib
from tests.support.config import sandbox_config

READ_BYTES_PER_SECOND = 4_000_000
LAST_DAY = dt.date(2026, 10, 31)
#: name -> (vendor, days, records per partition and day, partitions, last day)
CASES = {
    "airgentic-30": ("airgentic", 30, 100, ["web", "support"], LAST_DAY),
    "airgentic-365": ("airgentic", 365, 100, ["web", "support"], LAST_DAY),
    "kore-30": ("kore", 30, 100, None, LAST_DAY),
    "kore-365": ("kore", 365, 100, None, LAST_DAY),
    # the sandbox draws 108,245 records for this service-day at 100,000 a day
    "airgentic-one-day-100k": ("airgentic", 1, 100_000, ["web"], dt.date(2026, 10, 25)),
}


def measure(name: str, work: Path) -> dict[str, float]:
    vendor, days, per_day, partitions, last = CASES[name]
    first = last - dt.timedelta(days=days - 1)
    options = {f"{vendor}_per_day": per_day, "kore_rate_limit": 0}
    with sandbox_process(per_day=per_day, **options) as url:
        block: dict = {"lookback_days": 0} if vendor == "airgentic" else {
            "requests_per_minute": 100_000}
        if partitions:
            block["service_ids"] = partitions
        config = sandbox_config(url, vendors=(vendor,), start_date=first.isoformat(),
                                end_date=last.isoformat(), request_timeout=300,
                                **{vendor: block})
        config_path = write_config(work / f"{name}.json", config)
        log = (work / f"{name}.log").open("wb")
        started = time.monotonic()
        proc = subprocess.Popen([TAP, "--config", config_path], stdout=subprocess.PIPE,
                                stderr=log)
        peak = [0]

        def watch() -> None:
            while proc.poll() is None:
                peak[0] = max(peak[0], high_water_mark_kib(proc.pid))
                time.sleep(0.02)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        records = read_slowly(proc)
        proc.wait()
        watcher.join()
        seconds = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"{name}: the tap failed ({proc.returncode}); see {log.name}")
    return {"records": records, "seconds": seconds, "peak_rss_mb": peak[0] / 1024}


def read_slowly(proc: subprocess.Popen) -> int:
    """Read the tap's stdout at READ_BYTES_PER_SECOND; the RECORD messages read."""
    assert proc.stdout is not None
    started = time.monotonic()
    total = records = 0
    tail = b""
    while block := proc.stdout.read1(64 * 1024):  # type: ignore[attr-defined]
        total += len(block)
        lines = (tail + block).split(b"\n")
        tail = lines.pop()
        records += sum(1 for line in lines if line.startswith(b'{"type":"RECORD"'))
        ahead = started + total / READ_BYTES_PER_SECOND - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    return records


def main(argv: list[str] | None = None) -> int:
    names = list(argv or ()) or list(CASES)
    work = Path(tempfile.mkdtemp(prefix="memory-bench-"))
    print(f"{'case':<24} {'records':>9} {'seconds':>8} {'peak RSS MB':>12}", flush=True)
    rows = {}
    for name in names:
        rows[name] = row = measure(name, work)
        print(f"{name:<24} {row['records']:>9} {row['seconds']:>8.1f} "
              f"{row['peak_rss_mb']:>12.1f}", flush=True)
    print(json.dumps({name: round(row["peak_rss_mb"], 1) for name, row in rows.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
