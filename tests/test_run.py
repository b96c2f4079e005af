"""The run's shared services: failures recorded with their stream, partition and status."""

from __future__ import annotations

import logging

import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_convai.http import RefusedAnswer, failure_status
from tap_convai.run import Failure, Run, RunSettings
from tests.support.config import sandbox_config
from tests.support.inprocess import run_in_process
from tests.support.runner import check_output


def test_a_refused_key_fails_its_partitions_with_the_status_and_the_other_vendor_syncs(
        sandbox):
    config = sandbox_config(sandbox.url, ("airgentic", "agentx"),
                            airgentic={"api_key": "not-the-key"})
    run = run_in_process(config)
    assert run.returncode == 1
    failed = {(f.stream, f.partition, f.status) for f in run.failures}
    assert failed == {("airgentic_records", "[service_id=web] window 2026-10-01", 401),
                      ("airgentic_records", "[service_id=support] window 2026-10-01", 401)}
    for failure in run.failures:
        assert failure.message in run.stderr  # the line logged is the one recorded
        check_output(failure.message)
    assert run.records("agentx_conversations")


def test_a_failure_reaches_every_listener_as_it_happens():
    run = Run(RunSettings.from_config({"start_date": "2026-10-01"}), logging.getLogger("t"))
    heard: list[Failure] = []
    run.on_failure.append(heard.append)
    failure = Failure("kore_interactions", "[bot_id=b1]", "Kore.ai: … HTTP 403", 403)
    run.record_failure(failure)
    assert heard == [failure] == run.failures
    run.failures.clear()  # a copy: the run's own list is not handed out
    assert run.failures == [failure]


def test_the_status_comes_from_the_refusal_or_the_last_retried_answer():
    answer = requests.Response()
    answer.status_code = 503
    assert failure_status(RetriableAPIError("gave up", answer)) == 503
    assert failure_status(RefusedAnswer("refused", 404)) == 404
    assert failure_status(requests.ConnectionError("reset")) is None
