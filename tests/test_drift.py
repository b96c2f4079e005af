"""DriftReporter: unknown fields reported once, top-level ones dropped, nested ones kept."""

from __future__ import annotations

import logging

from tap_convai.drift import DriftReporter

SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "meta": {"type": ["object", "null"], "properties": {"a": {"type": "string"}},
                 "additionalProperties": True},
        "agent": {"type": ["object", "null"], "properties": {"name": {"type": "string"}}},
        "tags": {"type": ["array", "null"], "items": {
            "type": "object", "properties": {"k": {"type": "string"}}}},
    },
}


def test_unknown_fields_are_reported_once_by_path(caplog):
    reporter = DriftReporter("s", SCHEMA, logging.getLogger("drift-test"))
    record = {"id": "1", "new_top": 1, "meta": {"custom": 1},
              "agent": {"name": "x", "shift": "night"}, "tags": [{"k": "v", "score": 2}]}
    with caplog.at_level(logging.WARNING):
        out = reporter.check(dict(record))
        reporter.check(dict(record))

    assert "new_top" not in out  # a target has no column for it
    assert out["agent"] == {"name": "x", "shift": "night"}  # nested: kept in the JSON
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 3
    assert any("'new_top' is not in the schema: not emitted" in m for m in messages)
    assert any("'agent.shift'" in m for m in messages)
    assert any("'tags[].score'" in m for m in messages)
    assert not any("custom" in m for m in messages)  # metadata allows any key


def test_a_field_either_object_or_array_is_checked_in_both_forms(caplog):
    either = {"anyOf": [
        {"type": "object", "properties": {"id": {"type": "string"}}},
        {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}}}},
        {"type": "null"},
    ]}
    schema = {"type": "object", "properties": {"id": {"type": "string"}, "either": either}}
    reporter = DriftReporter("s", schema, logging.getLogger("drift-test"))
    with caplog.at_level(logging.WARNING):
        reporter.check({"id": "1", "either": {"id": "a", "alone": 1}})
        reporter.check({"id": "2", "either": [{"id": "b", "listed": 2}]})
        reporter.check({"id": "3", "either": None})
    assert reporter.reported == {"either.alone", "either[].listed"}


def test_known_records_pass_unchanged():
    reporter = DriftReporter("s", SCHEMA, logging.getLogger("drift-test"))
    record = {"id": "1", "meta": None, "agent": {"name": "x"}, "tags": []}
    assert reporter.check(record) is record
    assert reporter.reported == set()


def test_timestamp_fast_paths_agree_with_the_full_parse():
    from tap_convai.timestamps import format_timestamp, normalize_timestamp, parse_timestamp

    samples = [
        "2026-01-20T03:14:15.123456+00:00", "2026-01-20T03:14:15+00:00",
        "2026-02-25T09:33:10.120Z", "2026-02-25T09:33:10Z", "2026-02-25T09:33:10.120000Z",
        "2026-01-20T05:14:15.5+02:00", "2025-04-15T20:58:15.384884", 1744651778.652, 1744750665,
    ]
    for sample in samples:
        assert normalize_timestamp(sample) == format_timestamp(parse_timestamp(sample)), sample


def test_unix_seconds_fast_path_rounds_like_datetime():
    import random

    from tap_convai.timestamps import UTC, normalize_timestamp

    rng = random.Random(5)
    values = [1744651778.652, 1744651783, 1744651793.839, 0, 1.9999999, 1744651778.9999996]
    values += [rng.uniform(0, 4e9) for _ in range(2000)]
    values += [round(rng.uniform(1.6e9, 1.9e9), 3) for _ in range(2000)]
    for value in values:
        import datetime as dt

        expected = dt.datetime.fromtimestamp(value, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert normalize_timestamp(value) == expected, value
