"""No secret and no signed-URL signature in anything a run prints.

Every run of the suite goes through `tests.support.runner.check_output`, so each test that
runs the tap or Meltano checks its own output, whatever `-k`, `-x` or order is used. These
tests prove that check can fail, and run a failure path on purpose.
"""

from __future__ import annotations

import pytest

from sandbox.credentials import SECRETS
from tests.support.config import sandbox_config
from tests.support.runner import check_output, leaks, run_tap


@pytest.mark.parametrize("secret", SECRETS)
def test_the_check_catches_every_sandbox_secret(secret):
    text = f"ERROR | tap-convai | request failed with key {secret} in a header"
    assert leaks(text) == [secret[:6] + "…"]
    with pytest.raises(AssertionError, match="printed by a run"):
        check_output("clean", text)


def test_the_check_catches_a_signed_url_query():
    assert leaks("GET https://files.example/x.json?expires=1&signature=abc") == [
        "signature=", "expires="]
    check_output("GET https://files.example/x.json?***")  # redacted: passes


def test_a_failing_partition_prints_no_secret(sandbox, tmp_path):
    config = sandbox_config(sandbox.url, airgentic={"service_ids": ["forbidden-x", "web"]})
    run = run_tap(config, tmp_path)  # run_tap checks the output itself

    assert run.returncode == 1
    assert "forbidden-x" in run.stderr and "HTTP 403" in run.stderr
    assert leaks(run.stdout + run.stderr) == []
