"""Every fuzz target (fuzz/targets.py) on its seeds and on every input fuzzing has crashed
it with: each ends in records or in a partition's one-line failure, never in another
exception. `make fuzz` looks for new ones."""

from __future__ import annotations

import itertools
import random

import pytest

from fuzz.seeds import seeds
from fuzz.targets import TARGETS, run_one
from tap_convai.jsonstream import BodyFormatError, NestingGuard

#: inputs that crashed a target once (found by `make fuzz`), by target
CRASHES: dict[str, list[bytes]] = {
    "airgentic_day": [
        b'{"data":[\\"x"]}',  # an escaped quote outside a string: the guard looped forever
        b'{"data":["a\\',
    ],
    "zendesk_signed_urls": [
        b'{"date":"2026-10-01","signed_urls":["http://]127.0.0.1:9/f.json"]}',  # ValueError
    ],
}


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_the_seeds_parse(target):
    assert seeds()[target]
    for seed in seeds()[target]:
        run_one(target, seed)


@pytest.mark.parametrize("target, data", [
    (target, data) for target, inputs in sorted(CRASHES.items()) for data in inputs
])
def test_an_input_that_crashed_a_parser_is_a_partition_failure(target, data):
    run_one(target, data)


def _reference_depth(text: bytes) -> tuple[int, int]:
    """(deepest, final) nesting of a JSON text, one byte at a time."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in text:
        char = chr(byte)
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest, depth


def test_the_nesting_guard_follows_strings_and_escapes_across_any_chunking():
    rng = random.Random(7)
    alphabet = b'[]{}"\\\\ ax,:'
    for _ in range(3000):
        text = bytes(rng.choice(alphabet) for _ in range(rng.randrange(1, 80)))
        deepest, final = _reference_depth(text)
        cuts = sorted(rng.sample(range(1, len(text)), min(len(text) - 1, rng.randrange(0, 6))))
        bounds = [0, *cuts, len(text)]
        chunks = [text[a:b] for a, b in itertools.pairwise(bounds)]
        guard = NestingGuard(limit=deepest)
        for chunk in chunks:
            guard.feed(chunk)
        assert guard.depth == final, (text, chunks)
        if deepest:
            tight = NestingGuard(limit=deepest - 1)
            with pytest.raises(BodyFormatError):
                for chunk in chunks:
                    tight.feed(chunk)
