"""Stand-alone sandbox: python -m sandbox --port 8765 [--seed 7] [--per-day 12].

Serves until SIGINT/SIGTERM. Vendor switches: --option KEY=VALUE (repeatable; VALUE is read
as JSON when it parses, else kept as a string), e.g. --option aurion_preview=true.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import Any

from .core import Sandbox


def _option(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--per-day", type=int, default=12)
    parser.add_argument("--option", "-o", type=_option, action="append", default=[],
                        metavar="KEY=VALUE", help="a vendor switch (repeatable)")
    args = parser.parse_args(argv)

    sandbox = Sandbox(seed=args.seed, per_day=args.per_day, host=args.host, port=args.port,
                      **dict(args.option))
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    sandbox.start()
    if sandbox._missing:
        for name, why in sandbox._missing.items():
            print(f"sandbox: vendor {name} unavailable: {why}", file=sys.stderr)
    print(f"sandbox listening on {sandbox.url}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
