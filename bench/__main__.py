"""`make bench`: every benchmark in turn; figures on stdout (see docs/benchmarks.md)."""

from __future__ import annotations

import platform
import sys
import time

from bench import concurrency, e2e, loaders, pacing, throughput


def main() -> int:
    print(f"tap-convai benchmarks — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"Python {platform.python_version()}, {platform.machine()}", flush=True)
    print("\n1. throughput (records/s, medians of 3, output to /dev/null)", flush=True)
    throughput.main()
    print("\n2. memory on large export files (peak RSS of the tap)", flush=True)
    from bench import zendesk_memory

    zendesk_memory.main()
    print("\n2b. memory of long backfills, stdout read at 4 MB/s (peak RSS of the tap)",
          flush=True)
    from bench import memory

    memory.main()
    print("\n3. concurrency at 200 ms a request", flush=True)
    concurrency.main()
    print("\n4. pacing (AgentX, documented limit 3 requests/s per endpoint)", flush=True)
    pacing.main()
    print("\n5. end to end (meltano run tap-convai target-postgres)", flush=True)
    e2e.main()
    print("\n6. loaders (the same tap output into each PostgreSQL loader)", flush=True)
    loaders.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
