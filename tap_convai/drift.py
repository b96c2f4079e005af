"""Schema drift: fields a vendor sends that the stream's schema does not know.

Replaces the SDK's generic per-record type conformance, which walks every value of every
record against the schema (most of the tap's CPU time on large syncs) to do what our
records do not need: they come straight from JSON, already in JSON types. What is left
to do per record is this: find keys the schema lacks, report each once per stream and
run, and drop unknown top-level keys (a target creates columns from the schema only).
Unknown keys inside nested objects are kept: they load into the same JSON column. As
nothing nested is ever lost, nested objects are checked on a sample (the first records
of a run, then one in `SAMPLE_EVERY`), which keeps the check cheap on deep records.
"""

from __future__ import annotations

import logging
import typing as t
from dataclasses import dataclass, field

from tap_convai.redaction import one_line

FULL_CHECKS = 2000
SAMPLE_EVERY = 50


@dataclass
class _Node:
    """Where to look in one object: its known keys (None = any key is fine) and the
    nested objects / arrays of objects worth descending into."""

    known: frozenset[str] | None
    objects: dict[str, _Node] = field(default_factory=dict)
    arrays: dict[str, _Node] = field(default_factory=dict)


def _types(schema: dict[str, t.Any]) -> set[str]:
    kind = schema.get("type", [])
    found = {kind} if isinstance(kind, str) else set(kind)
    for option in schema.get("anyOf", []) + schema.get("oneOf", []):
        found |= _types(option)
    return found


def _object_schema(schema: dict[str, t.Any]) -> dict[str, t.Any] | None:
    if "object" in _types(schema) and "properties" in schema:
        return schema
    for option in schema.get("anyOf", []) + schema.get("oneOf", []):
        if (found := _object_schema(option)) is not None:
            return found
    return None


def _item_schema(schema: dict[str, t.Any]) -> dict[str, t.Any] | None:
    """The items of an array schema (or of its array alternative in anyOf / oneOf)."""
    if "array" in _types(schema) and isinstance(schema.get("items"), dict):
        return schema["items"]
    for option in schema.get("anyOf", []) + schema.get("oneOf", []):
        if (found := _item_schema(option)) is not None:
            return found
    return None


def _compile(schema: dict[str, t.Any]) -> _Node:
    extra_allowed = schema.get("additionalProperties", False) not in (False, None) or (
        "patternProperties" in schema
    )
    properties: dict[str, dict] = schema.get("properties", {})
    node = _Node(known=None if extra_allowed else frozenset(properties))
    for name, prop in properties.items():
        # a field can be either (e.g. an object in the vendor's field table, an array of
        # them in its sample): each form is checked when it comes
        if (obj := _object_schema(prop)) is not None:
            node.objects[name] = _compile(obj)
        if (obj := _object_schema(_item_schema(prop) or {})) is not None:
            node.arrays[name] = _compile(obj)
    return node


class DriftReporter:
    """Per stream: checks records against the schema, warns once per unknown field."""

    def __init__(
        self, stream_name: str, schema: dict[str, t.Any], logger: logging.Logger
    ) -> None:
        self.stream_name = stream_name
        self.logger = logger
        self.root = _compile(schema)
        self.reported: set[str] = set()
        self.seen = 0

    def check(self, record: dict[str, t.Any]) -> dict[str, t.Any]:
        """Report unknown fields of `record`; returns it without unknown top-level keys."""
        root = self.root
        if root.known is not None:
            extra = record.keys() - root.known
            if extra:
                for name in extra:
                    self._report(name, "not emitted")
                record = {k: v for k, v in record.items() if k not in extra}
        self.seen += 1
        if (root.objects or root.arrays) and (
            self.seen <= FULL_CHECKS or self.seen % SAMPLE_EVERY == 0
        ):
            self._walk(record, root, "")
        return record

    def _walk(self, obj: dict[str, t.Any], node: _Node, path: str) -> None:
        for name, child in node.objects.items():
            value = obj.get(name)
            if isinstance(value, dict):
                self._visit(value, child, f"{path}{name}.")
        for name, child in node.arrays.items():
            value = obj.get(name)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, dict):
                        self._visit(item, child, f"{path}{name}[].")

    def _visit(self, obj: dict[str, t.Any], node: _Node, path: str) -> None:
        if node.known is not None:
            extra = obj.keys() - node.known
            for name in extra:
                self._report(path + name, "kept in its parent object")
        if node.objects or node.arrays:
            self._walk(obj, node, path)

    def _report(self, field_path: str, outcome: str) -> None:
        if field_path not in self.reported:
            self.reported.add(field_path)
            self.logger.warning(
                "%s: field '%s' is not in the schema: %s (reported once per run)",
                self.stream_name,
                one_line(field_path)[:200],  # the vendor's text: it must not forge a line
                outcome,
            )
