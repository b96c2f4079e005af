"""Bad config: one clear line per problem, no traceback, no secret, no request sent."""

from __future__ import annotations

import pytest

from tests.sandbox.credentials import SECRETS
from tests.support.config import sandbox_config
from tests.support.runner import run_tap

SECRET = "sbx-airgentic-key-3c9f1e"


def _drop(config: dict, dotted: str) -> dict:
    *parents, leaf = dotted.split(".")
    node = config
    for name in parents:
        node = node[name]
    del node[leaf]
    return config


CASES = {
    "missing start_date": (lambda c: _drop(c, "start_date"),
                           "start_date: required setting is missing"),
    "missing api key": (lambda c: _drop(c, "airgentic.api_key"),
                        "airgentic.api_key: required setting is missing"),
    "wrong type": (lambda c: {**c, "max_retries": "eight"},
                   "max_retries: must be of type integer"),
    "secret of wrong type": (lambda c: {**c, "airgentic": {**c["airgentic"], "api_key": 1234567}},
                             "airgentic.api_key: must be of type string"),
    "end before start": (lambda c: {**c, "start_date": "2026-10-05", "end_date": "2026-10-01"},
                         "end_date: is before start_date"),
    "not a date": (lambda c: {**c, "start_date": "last tuesday"},
                   "start_date: not a date (YYYY-MM-DD) or RFC 3339 date-time"),
    "plain http remote": (
        lambda c: {**c, "airgentic": {**c["airgentic"], "base_url": "http://admin.example.com"}},
        "airgentic.base_url: plain http:// is only allowed for a loopback host; use https://"),
    "not a url": (lambda c: {**c, "airgentic": {**c["airgentic"], "base_url": "admin.example"}},
                  "airgentic.base_url: must be an https:// URL"),
    "empty id list": (lambda c: {**c, "airgentic": {**c["airgentic"], "service_ids": []}},
                      "airgentic.service_ids: must list at least one id"),
    "unknown setting": (lambda c: {**c, "airgentic": {**c["airgentic"], "apikey": SECRET}},
                        "airgentic: unknown setting(s) apikey"),
    "negative lookback": (lambda c: {**c, "airgentic": {**c["airgentic"], "lookback_days": -1}},
                          "airgentic.lookback_days: must be zero or more"),
    "zero timeout": (lambda c: {**c, "request_timeout": 0}, "request_timeout: must be positive"),
    "no vendor": (lambda c: _drop(c, "airgentic"),
                  "config: no vendor is configured; add at least one block of:"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_config_is_one_clear_line(case, sandbox, tmp_path):
    mutate, expected = CASES[case]
    config = mutate(sandbox_config(sandbox.url))
    run = run_tap(config, tmp_path)

    assert run.returncode == 1
    error_lines = [line for line in run.stderr.splitlines() if "| ERROR" in line]
    assert any(line.endswith(expected) or expected in line for line in error_lines), run.stderr
    assert "Traceback" not in run.stderr
    assert run.stdout == ""
    for secret in SECRETS:
        assert secret not in run.stderr
    assert sandbox.stats.snapshot() == {} or all(
        v["requests"] == 0 for v in sandbox.stats.snapshot().values()
    )


def test_every_problem_is_reported_at_once(sandbox, tmp_path):
    config = sandbox_config(sandbox.url, max_retries="x", end_date="2026-09-01")
    config["airgentic"]["service_ids"] = []
    run = run_tap(config, tmp_path)
    errors = [line for line in run.stderr.splitlines() if "| ERROR" in line]
    assert run.returncode == 1
    assert len(errors) == 4  # three problems + the closing "Config validation failed"


def test_about_documents_every_setting(tmp_path):
    run = run_tap({}, tmp_path, args=("--about", "--format", "json"))
    import json

    about = json.loads(run.stdout)
    block = about["settings"]["properties"]["airgentic"]
    assert block["properties"]["api_key"].get("secret") is True
    for prop in (*about["settings"]["properties"].values(), *block["properties"].values()):
        assert prop.get("description"), prop
