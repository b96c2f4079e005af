"""Vendor timestamps read the same on every supported Python (3.10's `fromisoformat` is
narrower than 3.11's; pendulum reads what it refuses)."""

from __future__ import annotations

import datetime as dt

import pytest

from tap_convai.timestamps import UTC, normalize_timestamp, parse_timestamp


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-10-01T12:00:00.1234+00:00", dt.datetime(2026, 10, 1, 12, 0, 0, 123400, tzinfo=UTC)),
    ("2026-10-01T14:00:00+0200", dt.datetime(2026, 10, 1, 12, tzinfo=UTC)),
    ("20261001T120000Z", dt.datetime(2026, 10, 1, 12, tzinfo=UTC)),
    ("2026-10-01T12:00:00.5Z", dt.datetime(2026, 10, 1, 12, 0, 0, 500000, tzinfo=UTC)),
    ("2026-10-01T12:00:00", dt.datetime(2026, 10, 1, 12, tzinfo=UTC)),  # naive = UTC
    ("2026-W40", dt.datetime(2026, 9, 28, tzinfo=UTC)),  # a week date: its Monday
])
def test_iso_8601_forms_read_on_every_python(text, expected):
    parsed = parse_timestamp(text)
    assert parsed == expected and type(parsed) is dt.datetime and parsed.tzinfo is UTC
    assert normalize_timestamp(text) == expected.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.mark.parametrize("text", ["P1D", "nonsense", "2026-13-01T00:00:00Z", "12:00:00"])
def test_what_is_no_timestamp_is_a_value_error(text):
    with pytest.raises(ValueError):
        parse_timestamp(text)
