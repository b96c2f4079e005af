"""The vendors' published API docs (docs/vendor-docs/), read as what a response may hold:
the paths of their JSON examples and field tables, the JSON types and the values shown
at each path.

A path names a node of a JSON document: object keys joined by `.`, the items of an array
as `[]` (`data[].tags[].name`); the document itself is the empty path.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[2] / "docs" / "vendor-docs"
PAGES = {
    "airgentic": "airgentic-insights-raw-api.txt",
    "kore": "kore-agentassist-raw-data-api-v2.txt",
    "agentx": "agentx-export-api.txt",
    "aurion": "aurion-conversation-insights-api.txt",
    "zendesk_ai": "zendesk-ai-agents-data-export-api.txt",
}
_TRAILING_COMMA = re.compile(r",(\s*[\]}])")
_BARE_KEY_LINE = re.compile(r'\s*"[^"]+"\s*:')


def page(vendor: str) -> str:
    return (DOCS / PAGES[vendor]).read_text(encoding="utf-8")


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def nodes(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, value) of a document and of everything in it."""
    yield path, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from nodes(child, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for child in value:
            yield from nodes(child, f"{path}[]")


def _balanced_end(text: str, start: int, depth: int = 0) -> int | None:
    """The index after the brace that closes the object open at `start` (or, with
    `depth` 1, the object already open before it); None when it never closes."""
    in_string = escaped = False
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            escaped = ch == "\\" and not escaped
            if ch == '"' and not escaped:
                in_string = False
            continue
        if ch == '"':
            in_string, escaped = True, False
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
    return None


def _parse(snippet: str) -> Any:
    try:
        return json.loads(_TRAILING_COMMA.sub(r"\1", snippet))
    except ValueError:
        return None


def json_examples(text: str) -> list[dict[str, Any]]:
    """Every JSON object a page shows: each outermost `{...}` that parses once trailing
    commas are dropped. An example whose opening brace the page lost (it starts at a line
    `"key": ...` outside any example, e.g. Kore's sample response) is read with it."""
    examples: list[dict[str, Any]] = []
    i = 0
    while i < len(text):
        line_start = i == 0 or text[i - 1] == "\n"
        if text[i] == "{":
            end = _balanced_end(text, i)
            found = _parse(text[i:end]) if end else None
        elif line_start and _BARE_KEY_LINE.match(text, i):
            end = _balanced_end(text, i, depth=1)
            found = _parse("{" + text[i:end]) if end else None
        else:
            found = end = None
        if isinstance(found, dict) and end is not None:
            examples.append(found)
            i = end
        else:
            i += 1
    return examples


@dataclass
class Documented:
    """What one vendor's page shows, path by path."""

    types: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    values: dict[str, set[Any]] = field(default_factory=lambda: defaultdict(set))

    def add_example(self, example: Any, root: str = "") -> None:
        for path, value in nodes(example, root):
            self.types[path].add(json_type(value))
            if not isinstance(value, (dict, list)):
                self.values[path].add(value)

    def add_field(self, path: str, *types: str, text: str = "", quote: str = "") -> None:
        """A field a table (or the prose at `quote` on the page `text`) documents, with its
        types where they are given."""
        if quote:
            _require(text, quote)
        self.types[path].update(types)

    def add_values(self, text: str, quote: str, path: str, *values: Any) -> None:
        """Values the page names in prose; `quote` is where (it must be on the page)."""
        _require(text, quote)
        self.values[path].update(values)
        if None in values:
            self.types[path].add("null")


def _require(text: str, quote: str) -> None:
    if " ".join(quote.split()) not in " ".join(text.split()):
        raise AssertionError(f"the vendor docs do not say {quote!r}")


def documented(vendor: str) -> Documented:
    """The paths, types and values of every JSON example on a vendor's page."""
    found = Documented()
    for example in json_examples(page(vendor)):
        found.add_example(example)
    return found


def table_fields(text: str, after: str, until: str, pattern: str) -> list[re.Match[str]]:
    """The rows of the field table between the phrases `after` and `until` whose line
    matches `pattern` (a regex whose group `name` is the field)."""
    start = text.index(after)
    section = text[start : text.index(until, start)]
    return list(re.finditer(pattern, section, re.MULTILINE))


def undocumented(
    docs: Documented,
    served: list[Any],
    *,
    decisive: tuple[str, ...],
    nullable: re.Pattern[str] | None = None,
) -> list[str]:
    """What the `served` documents hold beyond `docs`: a path no example or table shows,
    a JSON type the docs do not show at that path (null allowed where `nullable` matches
    the path), and at the `decisive` paths (values that decide an outcome) a value the
    docs do not show. Empty when everything served is documented."""
    problems: set[str] = set()
    for document in served:
        for path, value in nodes(document):
            if path not in docs.types:
                problems.add(f"{path}: not in the docs")
                continue
            kind, allowed = json_type(value), docs.types[path]
            null_ok = kind == "null" and nullable is not None and nullable.fullmatch(path)
            if allowed and kind not in allowed and not null_ok:  # a table may give no type
                problems.add(f"{path}: a {kind}; the docs show {sorted(allowed)}")
            if path in decisive and kind not in ("object", "array", "null") and (
                value not in docs.values[path]
            ):
                shown = sorted(map(repr, docs.values[path]))
                problems.add(f"{path}: {value!r}; the docs show {', '.join(shown)}")
    return sorted(problems)
