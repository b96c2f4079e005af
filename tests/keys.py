"""Primary keys of records, tap output and sandbox truth alike, for set comparisons."""

from __future__ import annotations

from collections.abc import Iterable

from tap_convai.windows import normalize_timestamp


def airgentic_keys(records: Iterable[dict]) -> set[tuple]:
    return {
        (r["partition_id"], r["thread_id"], normalize_timestamp(r["date_time"])) for r in records
    }
