"""Primary keys of records, tap output and sandbox truth alike, for set comparisons."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from tap_convai.tap import VENDORS, TapConvAI
from tap_convai.timestamps import normalize_timestamp


def airgentic_keys(records: Iterable[dict]) -> set[tuple]:
    return {
        (r["partition_id"], r["thread_id"], normalize_timestamp(r["date_time"])) for r in records
    }


def _streams() -> dict[str, Any]:
    """Every stream of the tap's registry, as instances (their schemas need a tap)."""
    from tests.support.config import sandbox_config

    config = sandbox_config("http://127.0.0.1:9", vendors=VENDOR_KEYS)  # never contacted
    return dict(TapConvAI(config=config).streams)


def _key_function(stream: Any) -> Callable[[dict], tuple]:
    """A record's primary key; date-time columns in the tap's canonical form, so tap
    output, sandbox truth and PostgreSQL rows compare equal."""
    properties = stream.schema["properties"]
    timed = {k for k in stream.primary_keys if properties[k].get("format") == "date-time"}
    columns = tuple(stream.primary_keys)
    return lambda r: tuple(normalize_timestamp(r[c]) if c in timed else r[c] for c in columns)


#: the vendors' keys (settings blocks), in the registry's order
VENDOR_KEYS: tuple[str, ...] = tuple(v.key for v in VENDORS)
_INSTANCES = _streams()
#: stream -> (partition setting, partition key, key of one record)
STREAMS: dict[str, tuple[str | None, str | None, Callable[[dict], tuple]]] = {
    name: (s.partition_setting, s.partition_key, _key_function(s))
    for name, s in _INSTANCES.items()
}
#: the columns each stream's key is made of (as `tests.keys` reads records)
KEY_COLUMNS = {name: tuple(s.primary_keys) for name, s in _INSTANCES.items()}
REPLICATION_KEY = {name: s.replication_key for name, s in _INSTANCES.items()}
VENDOR_OF = {stream.name: v.key for v in VENDORS for stream in v.streams}


def record_keys(stream: str, records: Iterable[dict]) -> set[tuple]:
    key = STREAMS[stream][2]
    return {key(r) for r in records}


def partitions(stream: str, config: dict[str, Any]) -> list[dict[str, str]]:
    vendor = next(v for v in VENDORS if v.key == VENDOR_OF[stream])
    if vendor.partition_setting is None:
        return [{}]
    return [{vendor.partition_key: v} for v in vendor.partition_ids(config[vendor.key])]


def truth_keys(sandbox: Any, stream: str, config: dict[str, Any], start: str, end: str
               ) -> set[tuple]:
    """Every key the tap must emit for `config` over [start, end) (dates, end exclusive)."""
    keys: set[tuple] = set()
    for partition in partitions(stream, config):
        keys |= record_keys(stream, sandbox.truth(stream, start, end, **partition))
    return keys


def loaded_keys(pg: Any, schema: str, stream: str, *, lower_case: bool = False
                ) -> tuple[set[tuple], int]:
    """The keys of a stream's table in PostgreSQL, and its row count (`lower_case`: a
    loader that folds column names, as pipelinewise-target-postgres does)."""
    columns = KEY_COLUMNS[stream]
    quoted = ", ".join(f'"{c.lower() if lower_case else c}"' for c in columns)
    rows = pg.query(f'select {quoted} from "{schema}"."{stream}"')
    records = [
        {c: v.isoformat() if hasattr(v, "isoformat") else v
         for c, v in zip(columns, row, strict=True)}
        for row in rows
    ]
    return record_keys(stream, records), len(rows)


def airgentic_truth(sandbox: Any, service_ids: Iterable[str] = ("web", "support"),
                    start: str = "2026-10-01", end: str = "2026-10-08") -> set[tuple]:
    """Airgentic keys the tap must emit for `service_ids` over [start, end)."""
    config = {"airgentic": {"service_ids": list(service_ids)}}
    return truth_keys(sandbox, "airgentic_records", config, start, end)


def assert_runs_equal_truth(runs: Iterable[Any], sandbox: Any, config: dict[str, Any],
                            start: str, end: str) -> None:
    """Every stream: the keys the runs emitted together are the truth of [start, end)."""
    runs = list(runs)
    for stream in STREAMS:
        emitted: set[tuple] = set()
        for run in runs:
            emitted |= record_keys(stream, run.records(stream))
        expected = truth_keys(sandbox, stream, config, start, end)
        assert expected, f"{stream}: the sandbox has no data in range: a vacuous check"
        assert emitted == expected, stream


def assert_table_equals_truth(pg: Any, schema: str, sandbox: Any, stream: str,
                              config: dict[str, Any], start: str, end: str, *,
                              lower_case: bool = False) -> int:
    """A loaded table holds the truth of [start, end), each key once; its row count."""
    truth = truth_keys(sandbox, stream, config, start, end)
    assert truth, f"{stream}: the sandbox has no data in range: a vacuous check"
    keys, rows = loaded_keys(pg, schema, stream, lower_case=lower_case)
    assert keys == truth, stream
    assert rows == len(truth), stream  # no duplicate rows
    return rows
