"""Singer output: the fast record path writes what the SDK would, and stream maps and
flattening (the SDK's path) still apply when configured."""

from __future__ import annotations

import datetime as dt
import io
import sys

import pytest
from singer_sdk.singerlib import RecordMessage

from tap_convai.output import StateFlushingWriter
from tests.support.config import sandbox_config
from tests.support.runner import run_tap

ONE_DAY = {"start_date": "2026-10-01", "end_date": "2026-10-01"}


class _Stdout:
    def __init__(self) -> None:
        self.buffer = io.BytesIO()

    def flush(self) -> None:
        pass


def test_write_record_is_byte_identical_to_the_sdk_message(monkeypatch):
    monkeypatch.setattr(sys, "stdout", _Stdout())
    record = {"_id": "a1", "time": "2026-10-01T00:00:01.500000Z", "n": 1.5, "x": None}
    when = dt.datetime(2026, 11, 21, 9, 0, 0, 123456, tzinfo=dt.timezone.utc)

    sdk = StateFlushingWriter()
    sdk.write_message(RecordMessage(stream="s", record=record, version=7, time_extracted=when))
    sdk.flush()
    expected = sys.stdout.buffer.getvalue()
    sys.stdout.buffer = io.BytesIO()

    fast = StateFlushingWriter()
    monkeypatch.setattr("tap_convai.output.dt", _Frozen(when))
    fast.write_record("s", record, 7)
    fast.flush()
    assert sys.stdout.buffer.getvalue() == expected


class _Frozen:
    """Stands in for the `datetime` module inside tap_convai.output."""

    timezone = dt.timezone

    def __init__(self, when: dt.datetime) -> None:
        frozen = when

        class _DateTime(dt.datetime):
            @classmethod
            def now(cls, tz=None):
                return frozen

        self.datetime = _DateTime


@pytest.mark.e2e
def test_stream_maps_and_flattening_still_apply(sandbox, tmp_path):
    config = sandbox_config(
        sandbox.url, airgentic={"service_ids": ["web"]}, **ONE_DAY,
        stream_maps={"airgentic_records": {"browser_url": "__NULL__",
                                           "thread_tag": "thread_id + '-x'"}},
        flattening_enabled=True, flattening_max_depth=1,
    )
    run = run_tap(config, tmp_path)

    assert run.returncode == 0, run.stderr
    records = run.records("airgentic_records")
    assert records
    for record in records:
        assert "browser_url" not in record
        assert record["thread_tag"] == record["thread_id"] + "-x"
        assert not isinstance(record.get("cluster"), dict)  # flattened: cluster__label…
    assert any("cluster__label" in record for record in records)
