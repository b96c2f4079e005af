"""No secret and no signed-URL signature in anything a run prints.

Every run of the suite goes through `tests.support.runner.check_output`, so each test that
runs the tap or Meltano checks its own output, whatever `-k`, `-x` or order is used. These
tests prove that check can fail, and run a failure path on purpose.
"""

from __future__ import annotations

import io
import logging

import pytest

from sandbox.credentials import SECRETS
from tap_convai.http import clip
from tap_convai.redaction import SecretFilter
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


@pytest.mark.e2e
def test_a_failing_partition_prints_no_secret(sandbox, tmp_path):
    config = sandbox_config(sandbox.url, airgentic={"service_ids": ["forbidden-x", "web"]})
    run = run_tap(config, tmp_path)  # run_tap checks the output itself

    assert run.returncode == 1
    assert "forbidden-x" in run.stderr and "HTTP 403" in run.stderr
    assert leaks(run.stdout + run.stderr) == []


SECRET = SECRETS[0]


def _logged(logger_name: str, emit) -> str:
    """What a handler of `logger_name` (not root's, added after the filter was installed)
    prints for the records `emit` makes."""
    SecretFilter.install().add([SECRET])
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    try:
        emit(logger)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_a_handler_other_than_root_s_gets_masked_records():
    text = _logged("some.library", lambda log: log.error("sent key %s", SECRET))
    assert SECRET not in text and "sent key ***" in text


def test_a_traceback_is_masked_too():
    def emit(log):
        try:
            raise ValueError(f"bad header api-key={SECRET} for https://x.example/f?signature=s")
        except ValueError:
            log.error("request failed", exc_info=True)

    text = _logged("tap-convai.any", emit)
    assert "Traceback" in text and "ValueError" in text
    assert SECRET not in text and "signature=" not in text


def test_clip_masks_a_secret_before_it_cuts_the_text():
    text = "x" * 190 + SECRET + " and more"  # a cut at 200 would leave the secret's start
    SecretFilter.install().add([SECRET])
    clipped = clip(text)
    assert len(clipped) <= 200 and SECRET[:6] not in clipped


@pytest.mark.e2e
def test_a_vendor_field_name_cannot_forge_a_log_line(make_sandbox, tmp_path):
    forged = "x\n2026-10-01 00:00:00,000 | ERROR    | tap-convai | forged"
    sandbox = make_sandbox(airgentic_extra_field=forged)
    run = run_tap(sandbox_config(sandbox.url), tmp_path)

    assert run.returncode == 0, run.stderr[-3000:]
    assert "forged" in run.stderr  # reported, on the warning's own line
    assert not any(line.startswith("2026-10-01 00:00:00,000") for line in run.stderr.splitlines())
