"""Seed inputs of each fuzz target: bodies as the sandbox serves them (the vendors' docs),
so fuzzing starts from what the parsers accept and mutates it from there."""

from __future__ import annotations

import functools
import gzip
import json

from sandbox import Sandbox

DAY, NEXT = "2026-10-01", "2026-10-02"


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


@functools.cache
def seeds() -> dict[str, list[bytes]]:
    sandbox = Sandbox(seed=7, per_day=4)  # never started: only its data is used
    airgentic = sandbox.truth("airgentic_records", DAY, NEXT, service_id="web")
    kore = sandbox.truth("kore_interactions", DAY, NEXT, stream_id="st-sbx-1")
    agentx = sandbox.truth("agentx_conversations", DAY, NEXT, bot_name="b")
    aurion = sandbox.truth("aurion_insights", DAY, NEXT)
    zendesk = list(sandbox.truth("zendesk_ai_conversations", DAY, NEXT, bot_id="b"))
    file_array = _json(zendesk[:3])
    return {
        "airgentic_day": [
            _json({"account_id": "acme", "service_id": "web", "start_date": DAY,
                   "end_date": DAY, "record_count": 2, "data": airgentic[:2]}),
            _json({"data": []}),
        ],
        "kore_page": [
            _json({"numResults": 2, "hasMore": True, "data": kore[:2]}),
            _json({"numResults": 1, "data": kore[:1]}),
        ],
        "agentx_page": [_json({"data": agentx[:2], "cursor": "abc"}),
                        _json({"data": [], "cursor": None})],
        "aurion_insights": [_json(aurion[0]) if aurion else b"{}"],
        "zendesk_signed_urls": [
            _json({"date": DAY, "urls": ["https://storage.example/f.json?expires=1"]}),
            _json({"date": DAY, "signed_urls": ["http://127.0.0.1:9/f.json"]}),
        ],
        "zendesk_file": [
            file_array,
            b"".join(_json(record) + b"\n" for record in zendesk[:2]),
            gzip.compress(file_array, mtime=0),
            b"\xef\xbb\xbf[]",
        ],
        "zendesk_file_gzip_encoded": [gzip.compress(file_array, mtime=0)],
        "error_bodies": [
            _json({"message": "Bot helpdesk not found"}),
            _json({"errors": [{"msg": "Invalid token"}]}),
            _json({"detail": [{"loc": ["query", "date_from"], "msg": "bad", "type": "x"}]}),
            _json({"detail": "API keys are not permitted while in preview"}),
            b"<?xml version='1.0'?><Error><Code>ExpiredToken</Code></Error>",
        ],
        "retry_after": [b"120", b"Wed, 21 Oct 2026 07:28:00 GMT",
                        b"Wed, 21 Oct 2026 07:28:00 -0000"],
    }
