"""Shared fixtures: a sandbox per test, one embedded PostgreSQL per session."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from sandbox import Sandbox
from tests.support.pg import Postgres, postgres_server


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., Sandbox]]:
    """Start sandboxes with options; all are stopped after the test."""
    started: list[Sandbox] = []

    def start(**options: object) -> Sandbox:
        # Kore's 60/min limit is off unless a test turns it on: most tests run the tap
        # unpaced against Kore (FAST) to stay quick; pacing has its own tests
        sandbox = Sandbox(**{"seed": 7, "per_day": 12, "kore_rate_limit": 0, **options})
        sandbox.start()
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def sandbox(make_sandbox: Callable[..., Sandbox]) -> Sandbox:
    return make_sandbox()


@pytest.fixture(scope="session")
def pg() -> Iterator[Postgres]:
    with postgres_server() as server:
        yield server
