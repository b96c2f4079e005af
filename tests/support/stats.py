"""Reading the sandbox's request statistics."""

from __future__ import annotations

import bisect


def busiest_window(times: list[float], seconds: float) -> int:
    """The most arrivals in any `seconds` (half-open, as the sandbox's limiter counts)."""
    ordered = sorted(times)
    return max(
        (bisect.bisect_left(ordered, t + seconds) - i for i, t in enumerate(ordered)),
        default=0,
    )
