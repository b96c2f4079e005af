"""Secrets never reach a log line: a filter masking known secrets and URL query strings."""

from __future__ import annotations

import logging
import re
import threading
import typing as t
from collections.abc import Iterable

MASK = "***"
#: a URL's query string (signed export URLs carry their signature there)
URL_QUERY = re.compile(r"([^\s?'\"<>]+)\?[^\s'\"<>)]*=[^\s'\"<>)]*")


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


class SecretFilter(logging.Filter):
    """Replaces secret strings in log records; one instance on every root handler."""

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

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def register_secret(value: str) -> None:
    """Mask a secret made at run time (e.g. a minted token)."""
    SecretFilter.install().add([value])
