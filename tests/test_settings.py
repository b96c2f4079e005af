"""Bad config: one clear line per problem, no traceback, no secret, no request sent."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from sandbox.credentials import SECRETS
from tap_convai.settings import config_problems, config_schema
from tap_convai.tap import VENDORS, TapConvAI
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
    "NaN timeout": (lambda c: {**c, "request_timeout": float("nan")},
                    "request_timeout: must be a finite number"),
    "infinite retry wait": (lambda c: {**c, "max_retry_wait": float("inf")},
                            "max_retry_wait: must be a finite number"),
    "negative infinite pace": (
        lambda c: {**c, "agentx": {"api_key": SECRET, "bot_names": ["b"],
                                   "requests_per_second": float("-inf")}},
        "agentx.requests_per_second: must be a finite number"),
    "negative retry wait": (lambda c: {**c, "max_retry_wait": -1},
                            "max_retry_wait: must be zero or more"),
    "no vendor": (lambda c: _drop(c, "airgentic"),
                  "config: no vendor is configured; add at least one block of:"),
}


def config(**overrides) -> dict:
    return sandbox_config("http://127.0.0.1:9", **overrides)  # never contacted


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_config_is_one_line_naming_the_setting(case):
    mutate, expected = CASES[case]
    problems = config_problems(mutate(config()), VENDORS)

    assert any(line == expected or line.startswith(expected) for line in problems), problems
    assert not any(secret in line for line in problems for secret in SECRETS)


def test_every_problem_is_reported_at_once():
    bad = config(max_retries="x", end_date="2026-09-01")
    bad["airgentic"]["service_ids"] = []
    assert config_problems(bad, VENDORS) == [
        "max_retries: must be of type integer",
        "airgentic.service_ids: must list at least one id",
        "end_date: is before start_date",
    ]


def test_bounds_come_from_the_schema():
    """The bounds are in the settings schema (what `--about`, Meltano and Airbyte show),
    and each broken one is one line."""
    schema = config_schema(VENDORS)["properties"]
    assert schema["max_concurrency"]["exclusiveMinimum"] == 0
    assert schema["agentx"]["properties"]["requests_per_second"]["exclusiveMinimum"] == 0
    assert schema["airgentic"]["properties"]["service_ids"]["minItems"] == 1
    bad = config(max_retries=-1, max_concurrency=0, vendors=("airgentic", "agentx", "kore"))
    bad["agentx"]["requests_per_second"] = 0
    bad["kore"]["requests_per_minute"] = -5
    assert config_problems(bad, VENDORS) == [
        "max_retries: must be zero or more",
        "max_concurrency: must be positive",
        "kore.requests_per_minute: must be positive",
        "agentx.requests_per_second: must be positive",
    ]


def test_a_good_config_has_no_problem():
    assert config_problems(config(vendors=tuple(v.key for v in VENDORS)), VENDORS) == []


@pytest.mark.e2e
def test_the_cli_stops_a_bad_config_before_any_request(sandbox, tmp_path):
    bad = sandbox_config(sandbox.url, end_date="2026-09-01")
    bad["airgentic"]["apikey"] = SECRET  # a misplaced secret is never printed back
    run = run_tap(bad, tmp_path)

    assert run.returncode == 1
    errors = [line.split(" | ")[-1] for line in run.stderr.splitlines() if "| ERROR" in line]
    assert errors[:2] == ["airgentic: unknown setting(s) apikey",
                          "end_date: is before start_date"]
    assert "Traceback" not in run.stderr and run.stdout == ""
    assert all(v["requests"] == 0 for v in sandbox.stats.snapshot().values())


@pytest.mark.e2e
def test_about_documents_every_setting(tmp_path):
    run = run_tap({}, tmp_path, args=("--about", "--format", "json"))
    import json

    about = json.loads(run.stdout)
    block = about["settings"]["properties"]["airgentic"]
    assert block["properties"]["api_key"].get("secret") is True
    for prop in (*about["settings"]["properties"].values(), *block["properties"].values()):
        assert prop.get("description"), prop


def test_meltano_yml_and_readme_document_the_schema_as_it_is():
    """Both are generated from the schema by scripts/settings_reference.py."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "scripts" / "settings_reference.py"
    spec = importlib.util.spec_from_file_location("settings_reference", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)

    assert module.drifted() == [], "run: python scripts/settings_reference.py"
    settings = module.settings(config_schema(VENDORS))
    assert {"max_concurrency", "kore.client_secret"} <= {s.name for s in settings}
    meltano_yml = module.MELTANO_YML.read_text()
    for setting in settings:
        assert f"- name: {setting.name}\n" in meltano_yml

    # the Meltano Hub definition: the Hub's required fields and setting kinds, and the
    # extractor exactly as meltano.yml defines it (which the suite runs through Meltano)
    import yaml

    hub = yaml.safe_load(module.HUB_DEFINITION.read_text())
    assert {"name", "namespace", "variant", "label"} <= set(hub)
    assert hub["maintenance_status"] in {"active", "beta", "development", "inactive", "unknown"}
    hub_kinds = {"oauth", "hidden", "password", "date_iso8601", "file", "email", "integer",
                 "options", "object", "array", "boolean", "string", "decimal"}
    assert all(s["kind"] in hub_kinds and s["label"] for s in hub["settings"])
    project = yaml.safe_load(meltano_yml)
    (extractor,) = [p for p in project["plugins"]["extractors"] if p["name"] == "tap-convai"]
    for field in ("name", "namespace", "executable", "capabilities",
                  "settings_group_validation"):
        assert hub[field] == extractor[field], field
    assert [{k: v for k, v in s.items() if k != "label"} for s in hub["settings"]] == \
        extractor["settings"]
    assert {s["name"] for s in hub["settings"] if s.get("sensitive")} == {
        s.name for s in settings if s.secret}


def test_numbers_given_as_text_are_read_as_numbers():
    """Environment variables (and Meltano, see scripts/settings_reference.py) give text."""
    tap = TapConvAI(config=config(request_timeout="30.5", retry_initial_delay=" 0.2 ",
                                  vendors=("agentx",), agentx={"requests_per_second": "1.5"}))
    assert tap.config["request_timeout"] == 30.5
    assert tap.config["retry_initial_delay"] == 0.2
    assert tap.config["agentx"]["requests_per_second"] == 1.5
    assert config_problems(config(request_timeout="soon"), VENDORS) == [
        "request_timeout: must be of type number"]
