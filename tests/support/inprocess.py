"""Run the tap in this process, with an injected clock: for behaviour that depends on "now"
(complete days, windows ending now) without depending on today's date."""

from __future__ import annotations

import copy
import datetime as dt
import io
import logging
import sys
from collections.abc import Callable, Mapping
from typing import Any

from tap_convai.tap import TapConvAI
from tests.support.runner import TapRun, check_output, parse_messages


def run_in_process(
    config: Mapping[str, Any],
    *,
    state: Mapping[str, Any] | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> TapRun:
    """A sync as `tap-convai --config ... [--state ...]` would run it, output parsed."""
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s | %(message)s"))
    root = logging.getLogger()
    saved_level, saved_stdout = root.level, sys.stdout
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    sys.stdout = stdout
    returncode = 0
    tap = None
    try:
        tap = TapConvAI(config=copy.deepcopy(dict(config)),
                        state=copy.deepcopy(dict(state)) if state else None)
        if clock is not None:
            tap.run.clock = clock
        tap.sync_all()
    except SystemExit as exc:
        returncode = exc.code if isinstance(exc.code, int) else 1
    finally:
        stdout.flush()
        sys.stdout = saved_stdout
        root.removeHandler(handler)
        root.setLevel(saved_level)
    output = stdout.buffer.getvalue().decode()
    check_output(output, log.getvalue())
    failures = tap.run.failures if tap is not None else []
    return TapRun(returncode, output, log.getvalue(), parse_messages(output), failures)
