"""UTC time: the one timestamp format of the tap.

Bookmarks are compared as strings by the SDK and by users' tooling, so every timestamp
the tap emits in a replication key or a bookmark goes through `format_timestamp`:
fixed width, microseconds, `Z` (RFC 3339, UTC).
"""

from __future__ import annotations

import datetime as dt
import math
import time

import pendulum

UTC = dt.timezone.utc
DAY = dt.timedelta(days=1)


def format_timestamp(value: dt.datetime) -> str:
    """Format an aware datetime as the tap's canonical UTC timestamp."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(value: str | float | dt.datetime | dt.date) -> dt.datetime:
    """Parse what vendors send as a time into an aware UTC datetime.

    Accepts RFC 3339 / ISO 8601 strings (with `Z`, an offset, or naive = UTC), dates,
    and Unix seconds (int or float, possibly fractional).
    """
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, tz=UTC)
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            parsed = _parse_iso8601(text)
    else:
        raise TypeError(f"not a timestamp: {type(value).__name__}")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _parse_iso8601(text: str) -> dt.datetime:
    """ISO 8601 forms `fromisoformat` refuses on Python 3.10 (`+0000` offsets, fractions
    of 1-5 digits, the basic format): pendulum's parser, so every Python reads the same."""
    parsed = pendulum.parse(text, exact=True)  # exact: a time alone is no today; a ValueError
    if isinstance(parsed, dt.datetime):
        utc = parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    elif isinstance(parsed, dt.date):  # a week or ordinal date: midnight, as 3.11 reads it
        utc = dt.datetime(parsed.year, parsed.month, parsed.day, tzinfo=UTC)
    else:  # a time alone or a duration
        raise ValueError(f"not a timestamp: {text!r}")
    return dt.datetime(utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second,
                       utc.microsecond, tzinfo=UTC)


def normalize_timestamp(value: str | float) -> str:
    """Any vendor timestamp to the canonical string.

    Fast paths for the UTC forms vendors send most (per-record hot path); anything else
    is parsed in full.
    """
    if type(value) is int or type(value) is float:  # Unix seconds
        seconds = math.floor(value)
        micros = round((value - seconds) * 1_000_000)
        if micros == 1_000_000:
            seconds, micros = seconds + 1, 0
        if 0 <= seconds < 253402300800:  # years 1970..9999
            return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{micros:06d}Z"
    if isinstance(value, str) and value[4:5] == "-" and value[10:11] == "T":
        size = len(value)
        if size == 27 and value[26] == "Z" and value[19] == ".":
            return value  # already canonical
        if size == 32 and value.endswith("+00:00") and value[19] == ".":
            return value[:26] + "Z"  # microseconds, +00:00
        if size == 24 and value[23] == "Z" and value[19] == ".":
            return value[:23] + "000Z"  # milliseconds, Z
        if size == 25 and value.endswith("+00:00"):
            return value[:19] + ".000000Z"  # whole seconds, +00:00
        if size == 20 and value[19] == "Z":
            return value[:19] + ".000000Z"  # whole seconds, Z
    return format_timestamp(parse_timestamp(value))


def start_of_day(value: dt.datetime) -> dt.datetime:
    """Midnight UTC of the day `value` falls in."""
    value = value.astimezone(UTC)
    return dt.datetime(value.year, value.month, value.day, tzinfo=UTC)


def utc_now() -> dt.datetime:
    return dt.datetime.now(UTC)
