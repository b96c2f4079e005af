"""Shared fixtures: a sandbox per test, one embedded PostgreSQL per session; the lanes.

`make test` runs every test. `make check` is the fast lane: the tests not marked `e2e`,
which run the tap in this process. There, starting any process fails the test with the
line to add, so a slow test cannot slip into the fast lane unmarked.
"""

from __future__ import annotations

import os
import subprocess
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


#: set by `make check`: tests that start a process must be marked e2e
FAST_LANE = os.environ.get("CONVAI_FAST_LANE") == "1"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that loads into PostgreSQL is end to end, whatever its marks."""
    for item in items:
        if "pg" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(autouse=True)
def _no_process_in_the_fast_lane(request: pytest.FixtureRequest,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    if not FAST_LANE or request.node.get_closest_marker("e2e"):
        return

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(
            "this test starts a process (the tap, Meltano, dbt…): mark it "
            "@pytest.mark.e2e, or run the tap in process (tests/support/inprocess.py)")

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
