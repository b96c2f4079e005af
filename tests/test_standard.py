"""The SDK's standard tap tests against the sandbox, plus the two checks they cannot make.

The SDK's `primary_keys` test passes on duplicates and its `valid_final_state` only looks
at top-level keys (as singer-sdk 0.54 writes them), so `test_no_duplicate_keys` and
`test_final_state_has_a_bookmark_per_partition` check those for real.
"""

from __future__ import annotations

import atexit
import json

import pytest
from singer_sdk.testing import SuiteConfig, get_tap_test_class

from sandbox import Sandbox
from tap_convai.tap import VENDORS, TapConvAI
from tests.support.config import sandbox_config
from tests.support.runner import run_tap

_SANDBOX = Sandbox(seed=11, per_day=6).start()
atexit.register(_SANDBOX.stop)

VENDOR_KEYS = tuple(v.key for v in VENDORS if v.streams)
CONFIG = sandbox_config(
    _SANDBOX.url, vendors=VENDOR_KEYS, start_date="2026-10-01", end_date="2026-10-02",
    **({"kore": {"requests_per_minute": 6000}} if "kore" in VENDOR_KEYS else {}),
)

TestTapConvAI = get_tap_test_class(
    tap_class=TapConvAI,
    config=CONFIG,
    suite_config=SuiteConfig(max_records_limit=None),
)


@pytest.mark.e2e
def test_no_duplicate_keys_and_a_bookmark_per_partition(tmp_path):
    run = run_tap(CONFIG, tmp_path)
    assert run.returncode == 0, run.stderr

    catalog = json.loads(run_tap(CONFIG, tmp_path, args=("--discover",)).stdout)
    streams = {s["tap_stream_id"]: s for s in catalog["streams"]}
    assert streams, "discovery found no streams"
    bookmarks = run.final_state["bookmarks"]
    for name, entry in streams.items():
        keys = entry["key_properties"]
        records = run.records(name)
        seen = [tuple(json.dumps(r[k]) for k in keys) for r in records]
        assert len(seen) == len(set(seen)), f"{name}: duplicate primary keys"
        assert all(r.get(entry["replication_key"]) for r in records), name
        state = bookmarks[name]
        partitions = state.get("partitions") or [state]
        assert partitions, name
        for partition in partitions:
            assert partition.get("replication_key") == entry["replication_key"], (name, partition)
            assert partition.get("replication_key_value", "").endswith("Z"), (name, partition)
