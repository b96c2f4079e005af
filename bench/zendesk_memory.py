"""Peak memory of the tap on one very large Zendesk AI export file (not part of the tests).

Runs the real CLI against the sandbox's `bot-large` (one JSON-array file per day,
generated while it is sent) for one day, output to /dev/null, and prints the peak RSS
of the tap process (its VmHWM, sampled every 20 ms). A streamed parser keeps the peak
flat: the 1 MB row is the baseline the larger files are compared to.

    .venv/bin/python bench/zendesk_memory.py            # 200 and 1000 MB x 1, 10, 100 KB
    .venv/bin/python bench/zendesk_memory.py 100 300    # chosen sizes (MB), natural records
    .venv/bin/python bench/zendesk_memory.py 200 1000 --record-kb 10
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox import Sandbox  # noqa: E402
from sandbox.zendesk_ai import LARGE_BOT  # noqa: E402
from tests.support.config import sandbox_config  # noqa: E402
from tests.support.runner import TAP  # noqa: E402

DAY = date(2026, 10, 5)
SIZES_MB = (200, 1000)
RECORD_KB = (1, 10, 100)
WINDOW_LINE = re.compile(r"window \d{4}-\d{2}-\d{2}: (\d+) records in ([\d.]+) s")


def measure(size_mb: float, work: Path, record_kb: float = 0) -> dict[str, float]:
    """Run the tap on one `size_mb` file of `record_kb` records (0: natural size); its
    peak RSS, records and time."""
    with Sandbox(seed=7, per_day=12, zendesk_large_file_mb=size_mb,
                 zendesk_large_record_kb=record_kb) as sandbox:
        expected = sandbox.vendor("zendesk_ai").large_file_count(DAY)
        config = sandbox_config(
            sandbox.url, vendors=("zendesk_ai",), start_date=DAY.isoformat(),
            end_date=DAY.isoformat(), zendesk_ai={"bot_ids": [LARGE_BOT]},
            request_timeout=120,
        )
        config_path = work / "config.json"
        config_path.write_text(json.dumps(config))
        log_path = work / f"tap-{size_mb:g}mb-{record_kb:g}kb.log"
        started = time.monotonic()
        with open(os.devnull, "wb") as out, log_path.open("wb") as err:
            proc = subprocess.Popen([TAP, "--config", str(config_path)], stdout=out, stderr=err)
            peak_kib = 0
            while proc.poll() is None:
                peak_kib = max(peak_kib, high_water_mark_kib(proc.pid))
                time.sleep(0.02)
        elapsed = time.monotonic() - started
    log = log_path.read_text(errors="replace")
    if proc.returncode != 0:
        raise SystemExit(f"tap failed ({proc.returncode}) at {size_mb} MB; see {log_path}")
    found = WINDOW_LINE.search(log)
    records = int(found.group(1)) if found else -1
    if records != expected:
        raise SystemExit(f"{size_mb} MB: tap emitted {records} records, file has {expected}")
    return {
        "mb": size_mb,
        "records": records,
        "seconds": elapsed,
        "peak_rss_mb": peak_kib / 1024,
    }


def high_water_mark_kib(pid: int) -> int:
    """The process's peak RSS so far (VmHWM), 0 once it is gone.

    Not `wait4`'s ru_maxrss: that counts the parent's memory copied at fork, before
    exec, and so reports the benchmark's own size when it is larger than the tap's.
    """
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main(argv: list[str] | None = None) -> int:
    args = list(argv or ())
    kbs: list[float] = list(RECORD_KB)
    if "--record-kb" in args:
        at = args.index("--record-kb")
        kbs = [float(k) for k in args[at + 1].split(",")]
        del args[at: at + 2]
    elif args:
        kbs = [0]
    sizes = [float(a) for a in args] or list(SIZES_MB)
    work = Path(tempfile.mkdtemp(prefix="zendesk-bench-"))
    print(f"{'record KB':>9} {'file MB':>8} {'records':>9} {'seconds':>8} {'rec/s':>7} "
          f"{'peak RSS MB':>12}")
    for kb in kbs:
        for size in sizes:
            row = measure(size, work, kb)
            rate = row["records"] / row["seconds"] if row["seconds"] else 0
            print(f"{kb or 1.6:>9g} {row['mb']:>8g} {row['records']:>9} {row['seconds']:>8.1f} "
                  f"{rate:>7.0f} {row['peak_rss_mb']:>12.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
