"""Where the vendor docs contradict themselves about a field's shape, or show only `[]`,
the stream's schema accepts every shape they allow: records of each shape, with the tap's
discovered schema, load through the real target-postgres (which validates every record
against the schema) and read back unchanged."""

from __future__ import annotations

import copy
import json
from typing import Any

from tests.support.config import END, START, sandbox_config
from tests.support.runner import load_into_postgres, run_tap

SCHEMA = "shapes"


def discovered(sandbox, tmp_path) -> dict[str, dict]:
    """The tap's catalog entries by stream (from `tap-convai --discover`)."""
    config = sandbox_config(sandbox.url, vendors=("kore", "zendesk_ai"))
    catalog = json.loads(run_tap(config, tmp_path, args=("--discover",)).stdout)
    return {entry["tap_stream_id"]: entry for entry in catalog["streams"]}


def singer(entry: dict, records: list[dict]) -> str:
    lines = [{"type": "SCHEMA", "stream": entry["tap_stream_id"], "schema": entry["schema"],
              "key_properties": entry["key_properties"]}]
    lines += [{"type": "RECORD", "stream": entry["tap_stream_id"], "record": r} for r in records]
    return "".join(json.dumps(line) + "\n" for line in lines)


def answer_use(**answer: Any) -> dict:
    """An agentActions[].used[] item: the documented `target.answer`, or another target."""
    return {"targetType": "Answer", "target": {"answer": {"status": "Sent", **answer}}}


#: Kore.ai: the field table against the sample response, and the sample's `[]`s
KORE_SHAPES: dict[str, dict[str, Any]] = {
    "ac-shape-strings": {  # linksClicked as the field table types it: a string
        "linksClicked": "https://example.com/help 2026-02-25T09:34:00.000Z",
        "playbookRuntimeData": {"_id": "pb-1", "type": "primary", "stages": ["stage-1"],
                                "totalStages": {"stage-1": 3}},  # an object, as the table
        "coachingRuntimeData": [{"ruleId": "acr-1", "emails": ["supervisor@example.com"]}],
        "agentActions": [{"actionType": "SearchBarEntry",
                          "used": [answer_use(answerLinkClicked=["https://example.com/a"])]}],
        "proActiveSuggestions": [{"utterance": "hi", "used": ["Sent"],
                                  "suggestions": {"dialogs": ["Cancel Account"],
                                                  "answers": ["[REDACTED]"]}}],
    },
    "ac-shape-objects": {  # the sample's shapes, with its `[]`s filled with objects
        "linksClicked": [{"url": "https://example.com/help",
                          "timestamp": "2026-02-25T09:34:00.000Z"}, "https://example.com/b"],
        "playbookRuntimeData": [{"_id": "pb-2", "stages": [{"stageId": "s1", "steps": []}]}],
        "coachingRuntimeData": [{"ruleId": "acr-2", "emails": [{"to": "lead@example.com"}]}],
        "agentActions": [{"actionType": "LibrarySelection", "used": [
            answer_use(answerLinkClicked=[{"url": "https://example.com/a"}]),
            {"targetType": "DialogTask", "target": {"dialogTask": {"name": "Reset PIN"}}},
        ]}],
        "proActiveSuggestions": [{"utterance": "hi", "used": [answer_use()],
                                  "suggestions": {"dialogs": [{"name": "Cancel Account"}],
                                                  "answers": [{"content": "text"}]}}],
    },
    "ac-shape-empty": {
        "linksClicked": None, "playbookRuntimeData": [], "coachingRuntimeData": [],
        "agentActions": [], "proActiveSuggestions": [],
    },
}

#: Zendesk AI: "array of strings" in the field list, arrays of objects in the example
ZENDESK_SHAPES: dict[str, dict[str, Any]] = {
    "shape-strings": {
        "triggered_replies": ["53628e8e55b4f2459bcb2e72"],
        "triggered_intent_replies": ["Greeting"],
        "triggered_procedures": ["64628b8e55e4f2459bcb2e68"],
        "triggered_use_cases": ["Order tracking"],
        "knowledge_sources": ["Refund policy https://help.example.com/hc/articles/1"],
    },
    "shape-objects": {
        "triggered_replies": [{"reply_id": "53628e8e55b4f2459bcb2e72", "reply_type": "normal"}],
        "triggered_intent_replies": [{"intent_name": "Greeting", "not_meaningful": True}],
        "triggered_procedures": [{"procedure_id": "p1", "intent_id": "i1",
                                  "use_case_name": "Refunds"}],
        "triggered_use_cases": [{"intent_name": "Track order"}],
        "knowledge_sources": [{"title": "Refund policy",
                               "url": "https://help.example.com/hc/articles/1"}],
    },
}


def test_every_documented_shape_loads_through_target_postgres(sandbox, pg, tmp_path):
    entries = discovered(sandbox, tmp_path)
    kore_base = sandbox.truth("kore_interactions", START, END)[0]
    kore = [{**copy.deepcopy(kore_base), "stream_id": "st-sbx-1", "segmentID": segment,
             **shape} for segment, shape in KORE_SHAPES.items()]
    zendesk_base = sandbox.truth("zendesk_ai_conversations", "2026-10-01", "2026-10-08",
                                 bot_id="98174e8d635471c383b9ec7b")[0]
    # as the tap emits it: counts as integers, conversations_data as an object
    zendesk_base = {k: (int(v) if k.endswith("_count") else v) for k, v in zendesk_base.items()}
    if isinstance(zendesk_base["conversations_data"], str):
        zendesk_base["conversations_data"] = json.loads(zendesk_base["conversations_data"])
    zendesk = [{**copy.deepcopy(zendesk_base), "conversation_id": conversation,
                "export_date": "2026-10-01", **shape}
               for conversation, shape in ZENDESK_SHAPES.items()]

    pg.drop_schema(SCHEMA)
    output = singer(entries["kore_interactions"], kore)
    output += singer(entries["zendesk_ai_conversations"], zendesk)
    load_into_postgres(output, pg.target_env(SCHEMA), tmp_path)  # raises if one is refused

    kore_columns = ", ".join(f'"{name}"' for name in KORE_SHAPES["ac-shape-strings"])
    loaded = {row[0]: row[1:] for row in pg.query(
        f'select "segmentID", {kore_columns} from {SCHEMA}.kore_interactions')}
    for segment, shape in KORE_SHAPES.items():
        assert loaded[segment] == tuple(shape.values()), segment
    zendesk_columns = ", ".join(ZENDESK_SHAPES["shape-strings"])
    loaded = {row[0]: row[1:] for row in pg.query(
        f"select conversation_id, {zendesk_columns} from {SCHEMA}.zendesk_ai_conversations")}
    for conversation, shape in ZENDESK_SHAPES.items():
        assert loaded[conversation] == tuple(shape.values()), conversation
    # either-shaped fields are JSON columns; the Zendesk lists, JSON arrays
    types = dict(pg.query(
        "select column_name, udt_name from information_schema.columns "
        "where table_schema = %s and table_name = 'kore_interactions'", SCHEMA))
    assert types["linksClicked"] == types["playbookRuntimeData"] == "jsonb"
