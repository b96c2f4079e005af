"""Runs last: no secret and no signed-URL signature in anything the suite's runs printed.

Every tap and Meltano run of the session (stdout, stderr, state) is gathered by
tests/support/runner.py; the sandbox credentials are distinctive strings.
"""

from __future__ import annotations

from tests.sandbox.credentials import SECRETS
from tests.support.config import sandbox_config
from tests.support.runner import SESSION_OUTPUTS, run_tap


def test_no_secret_or_signature_in_any_output(sandbox, tmp_path):
    # a run of its own, with a failure path, so the check never looks at nothing
    config = sandbox_config(sandbox.url, airgentic={"service_ids": ["forbidden-x", "web"]})
    run_tap(config, tmp_path)
    outputs = "\n".join(SESSION_OUTPUTS)
    assert len(SESSION_OUTPUTS) >= 2

    leaked = [secret[:6] + "…" for secret in SECRETS if secret in outputs]
    assert leaked == [], f"secrets printed: {leaked}"
    assert "signature=" not in outputs
    assert "expires=" not in outputs
