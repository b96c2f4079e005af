"""Settings: the config schema pieces, the vendor descriptor and the cross-field checks.

Every problem found in a config becomes one line naming the setting, and never shows a
value (a misplaced secret must not be printed back).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import math
import typing as t
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from jsonschema import Draft7Validator
from singer_sdk import typing as th

from tap_convai.pacing import Pace
from tap_convai.timestamps import parse_timestamp

if t.TYPE_CHECKING:
    from jsonschema import ValidationError

    from tap_convai.http import ConvaiStream

@dataclass(frozen=True)
class Vendor:
    """Everything the tap needs to know about one vendor: one line in the registry."""

    key: str  # the settings block, e.g. "airgentic"
    title: str
    settings: th.ObjectType
    streams: tuple[type[ConvaiStream], ...]
    description: str
    #: the setting naming the partitions (an id, or a list of ids), and the context key
    #: each partition's records carry; None: the vendor is one partition
    partition_setting: str | None = None
    partition_key: str | None = None
    #: the vendor's published rate limit as a setting, if it has one
    pace: Pace | None = None
    #: vendor-specific cross-field checks of its block, one message per problem
    check: Callable[[dict[str, t.Any]], Iterable[str]] = field(default=lambda block: ())

    def __post_init__(self) -> None:
        # the descriptor is the one source of these facts: its streams take them here
        for stream in self.streams:
            stream.vendor, stream.vendor_title = self.key, self.title
            stream.partition_setting, stream.partition_key = (
                self.partition_setting, self.partition_key)
            stream.pace = self.pace

    @property
    def partition_is_list(self) -> bool:
        """The partition setting lists ids (else one id: one partition per config)."""
        if self.partition_setting is None:
            return False
        kind = self.settings.to_dict()["properties"][self.partition_setting].get("type")
        return "array" in (kind or ())

    def partition_ids(self, block: t.Mapping[str, t.Any]) -> list[t.Any]:
        """The partitions a settings block names, as a list of ids."""
        if self.partition_setting is None:
            return []
        value = block[self.partition_setting]
        return list(value) if self.partition_is_list else [value]


def pace_property(pace: Pace, description: str) -> th.Property:
    """The setting of a vendor's rate limit (positive, with the published default)."""
    return th.Property(pace.setting, th.NumberType(exclusive_minimum=0), default=pace.default,
                       description=description)


COMMON_SETTINGS = th.PropertiesList(
    th.Property(
        "start_date",
        th.StringType,
        required=True,
        description="Earliest UTC date (YYYY-MM-DD) or date-time (RFC 3339) to extract.",
    ),
    th.Property(
        "end_date",
        th.StringType,
        description="Last UTC date to extract, inclusive (a date-time is taken as an "
        "exclusive instant). Default: now.",
    ),
    th.Property(
        "request_timeout",
        th.NumberType(exclusive_minimum=0),
        default=300,
        description="Seconds to wait for each HTTP request before it counts as failed "
        "(and is retried).",
    ),
    th.Property(
        "max_retries",
        th.IntegerType(minimum=0),
        default=8,
        description="Retries of a retryable failure (HTTP 429, 5xx, connection errors, "
        "timeouts) before the partition fails.",
    ),
    th.Property(
        "max_retry_wait",
        th.NumberType(minimum=0),
        default=900,
        description="The longest Retry-After the tap waits out, in seconds; a vendor "
        "asking for longer (a quota spent for the day) fails that partition at once with a "
        "message naming the wait.",
    ),
    th.Property(
        "max_concurrency",
        th.IntegerType(exclusive_minimum=0),
        default=8,
        description="The most requests in flight at once across the whole run (windows, "
        "partitions, streams and vendors together); 1 = one request at a time. The "
        "vendors' rate limits hold at any value.",
    ),
    th.Property(
        "retry_initial_delay",
        th.NumberType(minimum=0),
        default=1.0,
        description="Seconds of the first backoff when the server gives no Retry-After; "
        "doubles each retry (with jitter), capped at 60 s.",
    ),
)


def config_schema(vendors: Iterable[Vendor]) -> dict[str, t.Any]:
    properties = list(COMMON_SETTINGS.wrapped.values())
    for vendor in vendors:
        properties.append(th.Property(vendor.key, vendor.settings, description=vendor.description))
    return th.PropertiesList(*properties).to_dict()


def base_url_property(default: str | None, example: str | None = None) -> th.Property:
    text = "API base URL; must be https:// (http:// only for a loopback host)."
    if default:
        text += f" Default: {default}."
    if example:
        text += f" Example: {example}."
    return th.Property("base_url", th.StringType, required=default is None,
                       description=text)


def lookback_property(default: int, why: str) -> th.Property:
    return th.Property(
        "lookback_days",
        th.IntegerType(minimum=0),
        default=default,
        description=f"Days re-read before the bookmark, {why}. Default {default}.",
    )


class IdList(th.ArrayType):
    """A list of ids with at least one."""

    @property
    def type_dict(self) -> dict[str, t.Any]:
        return {**super().type_dict, "minItems": 1}


def id_list_property(name: str, what: str) -> th.Property:
    return th.Property(
        name, IdList(th.StringType), required=True,
        description=f"{what}; one partition (and one bookmark) each.",
    )


# -- checks ---------------------------------------------------------------------------


def _setting_name(path: Iterable[t.Any]) -> str:
    return ".".join(str(p) for p in path) or "config"


def _schema_problem(error: ValidationError) -> str:
    """A jsonschema error as one line that names the setting and omits the value."""
    path = list(error.absolute_path)
    kind = error.validator
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        return f"{_setting_name([*path, missing])}: required setting is missing"
    if kind == "type":
        expected = error.validator_value
        if isinstance(expected, list):
            expected = " or ".join(x for x in expected if x != "null")
        return f"{_setting_name(path)}: must be of type {expected}"
    if kind == "enum":
        choices = ", ".join(str(v) for v in t.cast("list[t.Any]", error.validator_value))
        return f"{_setting_name(path)}: must be one of {choices}"
    if kind in ("minimum", "exclusiveMinimum"):
        bound, inclusive = error.validator_value, kind == "minimum"
        if bound == 0:
            return f"{_setting_name(path)}: must be {'zero or more' if inclusive else 'positive'}"
        return f"{_setting_name(path)}: must be {'at least' if inclusive else 'above'} {bound}"
    if kind == "minItems":
        return f"{_setting_name(path)}: must list at least one id"
    if kind == "additionalProperties":
        known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        extra = sorted(set(t.cast("dict[str, t.Any]", error.instance)) - set(known))
        return f"{_setting_name(path)}: unknown setting(s) {', '.join(extra)}"
    return f"{_setting_name(path)}: invalid ({kind})"


def _parse_when(value: str, setting: str, problems: list[str]) -> dt.datetime | None:
    try:
        return parse_timestamp(value)
    except (TypeError, ValueError):
        problems.append(f"{setting}: not a date (YYYY-MM-DD) or RFC 3339 date-time")
        return None


def is_loopback_host(host: str) -> bool:
    """`localhost`, 127.0.0.0/8 or ::1, written as such (no name that merely resolves
    there, no IPv4-mapped form): the hosts plain http:// may reach."""
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback and (address.version == 4 or host == "::1")


def check_base_url(url: str, setting: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return None
    host = parts.hostname or ""
    if parts.scheme == "http" and host:
        if is_loopback_host(host):
            return None
        return f"{setting}: plain http:// is only allowed for a loopback host; use https://"
    return f"{setting}: must be an https:// URL"


def _not_finite(config: t.Mapping[str, t.Any], schema: t.Mapping[str, t.Any],
                path: str = "") -> Iterable[str]:
    """Number settings that are NaN or infinite (JSON parsers accept both)."""
    for name, prop in (schema.get("properties") or {}).items():
        value = config.get(name)
        if isinstance(value, dict):
            yield from _not_finite(value, prop, f"{path}{name}.")
        elif isinstance(value, float) and not math.isfinite(value):
            yield f"{path}{name}: must be a finite number"


def _is_non_finite(value: t.Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def read_numbers(config: dict[str, t.Any], schema: t.Mapping[str, t.Any]) -> None:
    """Number settings given as text (environment variables, and Meltano, whose `decimal`
    kind cannot pass a value from the environment) become numbers, in place."""
    for name, prop in (schema.get("properties") or {}).items():
        value = config.get(name)
        if isinstance(value, dict):
            read_numbers(value, prop)
        elif isinstance(value, str) and "number" in (prop.get("type") or ()):
            with contextlib.suppress(ValueError):  # else reported by the schema check
                config[name] = float(value.strip())


def config_problems(config: t.Mapping[str, t.Any], vendors: Iterable[Vendor]) -> list[str]:
    """Every problem of a config, one line each; empty when the config is usable."""
    vendors = list(vendors)
    schema = config_schema(vendors)
    validator = Draft7Validator(schema)
    problems = [_schema_problem(e) for e in validator.iter_errors(dict(config))
                if not _is_non_finite(e.instance)]  # reported once, below
    problems.extend(_not_finite(config, schema))

    start = end = None
    if isinstance(config.get("start_date"), str):
        start = _parse_when(config["start_date"], "start_date", problems)
    if isinstance(config.get("end_date"), str):
        end = _parse_when(config["end_date"], "end_date", problems)
    if start and end and end < start:
        problems.append("end_date: is before start_date")

    enabled = [v for v in vendors if isinstance(config.get(v.key), dict)]
    if not enabled:
        problems.append(
            "config: no vendor is configured; add at least one block of: "
            + ", ".join(v.key for v in vendors)
        )
    for vendor in enabled:
        block = config[vendor.key]
        url = block.get("base_url")
        if isinstance(url, str) and (problem := check_base_url(url, f"{vendor.key}.base_url")):
            problems.append(problem)
        problems.extend(f"{vendor.key}.{p}" for p in vendor.check(block))
    return problems
