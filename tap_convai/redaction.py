"""Secrets never reach a log line: known secrets and URL query strings are masked in every
log record — its message, its traceback and its stack — whatever logger or handler it goes
to, because the masking happens where records are made (the log record factory)."""

from __future__ import annotations

import logging
import re
import threading
import typing as t
from collections.abc import Iterable

MASK = "***"
#: a URL's query string (signed export URLs carry their signature there)
URL_QUERY = re.compile(r"([^\s?'\"<>]+)\?[^\s'\"<>)]*=[^\s'\"<>)]*")
_FORMATTER = logging.Formatter()


def secret_values(config: t.Mapping[str, t.Any], schema: t.Mapping[str, t.Any]) -> list[str]:
    """Values of the settings marked secret in the schema (nested blocks included)."""
    found: list[str] = []
    for name, prop in (schema.get("properties") or {}).items():
        value = config.get(name)
        if value is None:
            continue
        if prop.get("secret") and isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict) and prop.get("properties"):
            found.extend(secret_values(value, prop))
    return found


def one_line(text: str) -> str:
    """`text` as one line of printable characters: a vendor's text (a field name, an error
    message) must not start a log line of its own."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


class SecretFilter(logging.Filter):
    """The secrets of the run, and the masking of log records; one instance per process.

    `install` puts it in the log record factory (every record, every handler, also ones
    added later) and on root's handlers (records made before it was installed)."""

    _instance: SecretFilter | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()

    @classmethod
    def install(cls) -> SecretFilter:
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
                make_record = logging.getLogRecordFactory()

                def masked_record(*args: t.Any, **kwargs: t.Any) -> logging.LogRecord:
                    record = make_record(*args, **kwargs)
                    cls._instance.mask(record)  # type: ignore[union-attr]
                    return record

                logging.setLogRecordFactory(masked_record)
            instance = cls._instance
        for handler in logging.getLogger().handlers:
            if instance not in handler.filters:
                handler.addFilter(instance)
        return instance

    def add(self, secrets: Iterable[str]) -> None:
        # short values would mask innocent text; a real key is never this short
        self._secrets.update(s for s in secrets if s and len(s) >= 6)

    def redact(self, text: str) -> str:
        if "?" in text and "=" in text:
            text = URL_QUERY.sub(r"\1?" + MASK, text)
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def mask(self, record: logging.LogRecord) -> None:
        """Mask the record's message, traceback and stack in place."""
        try:
            message = record.getMessage()
        except Exception:  # a bad format: logging reports it when the record is emitted
            return
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info:
            # formatted here, masked, and kept as the text every formatter prints
            record.exc_text = self.redact(_FORMATTER.formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)

    def filter(self, record: logging.LogRecord) -> bool:
        self.mask(record)
        return True


def redact(text: str) -> str:
    """`text` with the run's secrets and URL query strings masked."""
    return SecretFilter.install().redact(text)


def register_secret(value: str) -> None:
    """Mask a secret made at run time (e.g. a minted token)."""
    SecretFilter.install().add([value])
