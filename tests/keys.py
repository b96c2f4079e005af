"""Primary keys of records, tap output and sandbox truth alike, for set comparisons."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from tap_convai.timestamps import normalize_timestamp


def airgentic_keys(records: Iterable[dict]) -> set[tuple]:
    return {
        (r["partition_id"], r["thread_id"], normalize_timestamp(r["date_time"])) for r in records
    }


#: stream -> (partition setting, partition key, key of one record)
STREAMS: dict[str, tuple[str | None, str | None, Callable[[dict], tuple]]] = {
    "airgentic_records": (
        "service_ids", "service_id",
        lambda r: (r["partition_id"], r["thread_id"], normalize_timestamp(r["date_time"])),
    ),
    "kore_interactions": ("stream_id", "stream_id", lambda r: (r["segmentID"],)),
    "agentx_conversations": ("bot_names", "bot_name", lambda r: (r["_id"],)),
    "agentx_messages": ("bot_names", "bot_name", lambda r: (r["_id"],)),
    "aurion_insights": (None, None, lambda r: (normalize_timestamp(r["window_start"]),)),
    "zendesk_ai_conversations": ("bot_ids", "bot_id",
                                 lambda r: (r["bot_id"], r["conversation_id"])),
}
#: the columns each stream's key is made of (as `tests.keys` reads records)
KEY_COLUMNS = {
    "airgentic_records": ("partition_id", "thread_id", "date_time"),
    "kore_interactions": ("segmentID",),
    "agentx_conversations": ("_id",),
    "agentx_messages": ("_id",),
    "aurion_insights": ("window_start",),
    "zendesk_ai_conversations": ("bot_id", "conversation_id"),
}
VENDOR_OF = {
    "airgentic_records": "airgentic", "kore_interactions": "kore",
    "agentx_conversations": "agentx", "agentx_messages": "agentx",
    "aurion_insights": "aurion", "zendesk_ai_conversations": "zendesk_ai",
}


def record_keys(stream: str, records: Iterable[dict]) -> set[tuple]:
    key = STREAMS[stream][2]
    return {key(r) for r in records}


def partitions(stream: str, config: dict[str, Any]) -> list[dict[str, str]]:
    setting, key, _ = STREAMS[stream]
    if setting is None:
        return [{}]
    value = config[VENDOR_OF[stream]][setting]
    return [{key: v} for v in (value if isinstance(value, list) else [value])]


def truth_keys(sandbox: Any, stream: str, config: dict[str, Any], start: str, end: str
               ) -> set[tuple]:
    """Every key the tap must emit for `config` over [start, end) (dates, end exclusive)."""
    keys: set[tuple] = set()
    for partition in partitions(stream, config):
        keys |= record_keys(stream, sandbox.truth(stream, start, end, **partition))
    return keys


def loaded_keys(pg: Any, schema: str, stream: str) -> tuple[set[tuple], int]:
    """The keys of a stream's table in PostgreSQL, and its row count."""
    columns = KEY_COLUMNS[stream]
    quoted = ", ".join(f'"{c}"' for c in columns)
    rows = pg.query(f'select {quoted} from "{schema}"."{stream}"')
    records = [
        {c: v.isoformat() if hasattr(v, "isoformat") else v
         for c, v in zip(columns, row, strict=True)}
        for row in rows
    ]
    return record_keys(stream, records), len(rows)
