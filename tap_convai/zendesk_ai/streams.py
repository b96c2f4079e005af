"""Zendesk AI agents Data Export API: conversations, one partition per bot id.

One window is one completed UTC day. For each (bot, day) the tap asks
`POST /data-export/v3/get-signed-urls` for the day's file URLs (a 404 means the day has
no export: zero records, day done), then streams every file from storage (another host:
a plain session, no vendor headers). A file refused by storage with 400/403 (expired or
bad signature) makes the tap ask for fresh URLs and go on with the files not yet done;
a file cut off mid-way is downloaded again and its records already emitted are skipped.
Signed URLs are fetched over https:// only (http:// for a loopback host), never from an
address that is not a public one, and never with a vendor header.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import typing as t
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

import msgspec
import requests
from singer_sdk import SchemaDirectory, StreamSchema
from singer_sdk.exceptions import RetriableAPIError

from tap_convai.http import RefusedAnswer, VendorError, describe_url
from tap_convai.jsonstream import BodyFormatError
from tap_convai.settings import is_loopback_host
from tap_convai.timestamps import UTC
from tap_convai.transport import PacedSession, body_chunks
from tap_convai.windows import Window, WindowedStream
from tap_convai.zendesk_ai.files import FileFormatError, read_objects

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from singer_sdk.helpers.types import Context

SCHEMAS = SchemaDirectory(Path(__file__).parent / "schemas")

REGION_URLS = {"eu": "https://api.ultimate.ai", "us": "https://api.us.ultimate.ai"}
#: "You can request data as far back as January 1, 2024" (older: via Zendesk support)
FIRST_EXPORT_DAY = dt.datetime(2024, 1, 1, tzinfo=UTC)
#: lifetime asked for the signed URLs; an expired one is simply requested again
SIGNED_URL_TTL_MINUTES = 60
#: fresh URL sets asked for in a row, without any progress, before the day fails
MAX_URL_REFRESHES = 3

#: what storage (Google Cloud Storage signed URLs) means by a status
STORAGE_MEANINGS = {
    400: "the signed URL has expired",
    403: "storage refused the signed URL (bad signature or no access)",
    404: "the export file listed for this day does not exist",
    429: "storage is rate limiting downloads",
    500: "storage failed to serve the file",
    503: "storage is unavailable",
}
_STORAGE_CODE = re.compile(rb"<Code>([A-Za-z]{1,64})</Code>")


class SignedUrlRefused(Exception):
    """Storage answered 400/403 to a signed URL: a fresh URL is needed."""


def signed_url_problem(url: str) -> str | None:
    """Why the tap will not fetch a signed URL (naming its host); None: it may."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "it is not a URL"
    if not host:
        return "it has no host"
    if parts.scheme == "http" and not is_loopback_host(host):
        return f"plain http:// to {host} (signed URLs are fetched over https:// only)"
    if parts.scheme not in ("https", "http"):
        return f"{parts.scheme or 'no scheme'} to {host} (https:// only)"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if not is_loopback_host(host) and not address.is_global:
        return f"{host} is not a public address"
    return None


class ZendeskAIConversationsStream(WindowedStream):
    """Every conversation of one bot's daily export files, with `export_date`."""

    name = "zendesk_ai_conversations"
    default_base_url = REGION_URLS["eu"]
    path = "/data-export/v3/get-signed-urls"
    http_method = "POST"
    schema = StreamSchema(SCHEMAS)
    primary_keys = ("bot_id", "conversation_id")
    replication_key = "export_date"
    default_lookback_days = 3
    complete_days_only = True  # a day's export is final only after midnight UTC
    error_meanings = {
        400: "the request was refused: date must be YYYY-MM-DD and ttl a positive "
        "number of minutes",
        401: "the authorization key or the organizationId is not valid",
        403: "the bot does not belong to this organization",
        404: "no export exists for this bot and day",
        500: "Zendesk could not produce the signed URLs",
    }

    # -- config -----------------------------------------------------------------------

    @property
    def url_base(self) -> str:
        block = self.vendor_config
        url = block.get("base_url") or REGION_URLS[block.get("region") or "eu"]
        return url.rstrip("/")

    def sync_range(self, context: Context | None) -> tuple[dt.datetime, dt.datetime]:
        """The days to read, never before the first day the API can export."""
        start, end = super().sync_range(context)
        return max(start, FIRST_EXPORT_DAY), end

    # -- the signed-URL request ----------------------------------------------------------

    def export_headers(self, bot_id: str) -> dict[str, str]:
        block = self.vendor_config
        return {
            "botId": bot_id,
            "organizationId": block["organization_id"],
            "authorization": block["api_key"],  # as it is: no "Bearer"
            "Accept": "application/json",
        }

    def validate_response(self, response: requests.Response) -> None:
        if response.status_code == 404:
            return  # no export for that bot and day: handled by `signed_urls`
        super().validate_response(response)

    def signed_urls(self, context: dict, day: dt.date) -> list[str] | None:
        """The signed URLs of the day's files; None when the day has no export (404)."""
        prepared = self.build_prepared_request(
            method=self.http_method,
            url=self.get_url(context),
            headers=self.export_headers((context or {})["bot_id"]),
            json={"date": day.isoformat(), "ttl": SIGNED_URL_TTL_MINUTES},
        )
        response = self.request_decorator(self._send_validated)(prepared, context)
        if response.status_code == 404:
            return None
        return self.export_urls(response)

    def export_urls(self, response: requests.Response) -> list[str]:
        """The file URLs of a get-signed-urls answer, each one the tap may fetch."""
        body = self.decode_json(response)
        urls = None
        if isinstance(body, dict):
            urls = body.get("urls")
            if urls is None:
                urls = body.get("signed_urls")
        if not isinstance(urls, list) or not all(isinstance(url, str) for url in urls):
            raise self.malformed(response, "no `urls` (or `signed_urls`) list of URLs")
        for url in urls:
            if problem := signed_url_problem(url):
                raise VendorError(
                    f"{self.where()}: a signed URL of the export is refused: {problem}"
                )
        return urls

    def _send_validated(self, prepared: requests.PreparedRequest,
                        context: Context | None = None) -> requests.Response:
        """One try of the signed-URL request (retried by `request_decorator`)."""
        response = self.requests_session.send(prepared, timeout=self.timeout)
        self.validate_response(response)
        return response

    # -- the files -----------------------------------------------------------------------

    @cached_property
    def storage_session(self) -> requests.Session:
        """Downloads: storage is another host, so no vendor headers and no pacing; the
        timeout bounds each wait for bytes, not the whole file."""
        session = PacedSession(None, self.run.in_flight, self.vendor, whole_request=False)
        session.headers["User-Agent"] = self.user_agent
        return session

    def storage_error_message(self, response: requests.Response) -> str:
        """One line for a refused download; only storage's error code is quoted."""
        status = response.status_code
        meaning = STORAGE_MEANINGS.get(status) or response.reason or ""
        try:
            head = next(response.iter_content(4096), b"")
        except requests.RequestException:
            head = b""
        found = _STORAGE_CODE.search(head or b"")
        if found:
            meaning = f"{meaning} ({found.group(1).decode()})"
        return (
            f"{self.where()}: HTTP {status} for GET {describe_url(response.url)} "
            f"(export file): {meaning}"
        )

    def open_file(self, url: str) -> requests.Response:
        """GET one file as a stream; storage's refusals become the tap's exceptions."""
        response = self.storage_session.get(url, stream=True, timeout=self.timeout)
        status = response.status_code
        if 300 <= status < 400:
            response.close()
            raise RefusedAnswer(self.redirect_message(response, " (export file)"), status)
        if status < 400:
            return response
        message = self.storage_error_message(response)
        response.close()
        if status in (400, 403):
            raise SignedUrlRefused(message)
        if status == 429 or status >= 500:
            raise RetriableAPIError(message, response)
        raise RefusedAnswer(message, status)

    def file_records(
        self, context: dict, day: dt.date, url: str, progress: dict[str, int]
    ) -> Iterator[dict]:
        """The records of one file. `progress[file]` counts those already emitted: a
        download retried after a broken connection skips them (files are immutable)."""
        key = describe_url(url)
        parse = self.file_parser(context, day)
        try:
            yield from self.streamed_records(key, progress, lambda: self.open_file(url), parse)
        except BodyFormatError as exc:
            raise VendorError(f"{self.where()}: malformed export file GET {key}: {exc}") from None

    def file_parser(
        self, context: dict, day: dt.date
    ) -> Callable[[requests.Response], Iterator[dict]]:
        """What reads the records of one of the day's files from its answer."""

        def parse(response: requests.Response) -> Iterator[dict]:
            for index, raw in enumerate(read_objects(body_chunks(response))):
                yield self.normalize(raw, context, day, index)

        return parse

    def window_records(self, context: dict, window: Window) -> Iterator[dict]:
        """Every file of one (bot, day); fresh URLs when storage refuses one."""
        day = window.first_day
        urls = self.signed_urls(context, day)
        if urls is None:
            self.logger.info("%s %s: no export (HTTP 404)", self.name,
                             self.partition_label(context))
            return
        done: set[str] = set()
        progress: dict[str, int] = {}
        refreshes = 0
        moved_at_refresh = 0
        while True:
            try:
                for url in urls:
                    if describe_url(url) in done:
                        continue
                    yield from self.file_records(context, day, url, progress)
                    done.add(describe_url(url))
                return
            except SignedUrlRefused as refused:
                moved = len(done) + sum(progress.values())
                refreshes = 1 if moved > moved_at_refresh else refreshes + 1
                moved_at_refresh = moved
                if refreshes > MAX_URL_REFRESHES:
                    raise VendorError(
                        f"{refused} (still refused after {MAX_URL_REFRESHES} fresh sets "
                        "of signed URLs)"
                    ) from None
                self.logger.warning(
                    "%s; asking for fresh signed URLs (%d of %d)", refused, refreshes,
                    MAX_URL_REFRESHES,
                )
                fresh = self.signed_urls(context, day)
                if fresh is None:
                    raise VendorError(
                        f"{self.where()}: the export disappeared (HTTP 404) while its "
                        "files were being read"
                    ) from None
                urls = fresh

    # -- records -------------------------------------------------------------------------

    @cached_property
    def _properties(self) -> dict[str, t.Any]:
        return self.schema["properties"]

    @cached_property
    def _field_names(self) -> dict[str, str]:
        """Documented name of every field, by its lower-case spelling."""
        return {name.lower(): name for name in self._properties}

    @cached_property
    def _integer_fields(self) -> tuple[str, ...]:
        return tuple(
            name
            for name, prop in self._properties.items()
            if "integer" in (prop.get("type") or ())
        )

    def normalize(self, raw: dict[str, t.Any], context: dict, day: dt.date, index: int) -> dict:
        """Documented key names, integer counts, `conversations_data` as an object, and
        the partition (`bot_id`, `export_date`)."""
        names = self._field_names
        properties = self._properties
        record = {
            key if key in properties else names.get(key.lower(), key.lower()): value
            for key, value in raw.items()
        }
        for name in self._integer_fields:
            if name in record:
                record[name] = _integer(record[name], name, index)
        data = record.get("conversations_data")
        if isinstance(data, str):
            record["conversations_data"] = _json_object(data, index)
        elif data is not None and not isinstance(data, dict):
            raise FileFormatError(f"record {index}: conversations_data is not an object")
        if not record.get("bot_id"):
            record["bot_id"] = (context or {})["bot_id"]
        if not record.get("conversation_id"):
            raise FileFormatError(f"record {index}: no conversation_id")
        record["export_date"] = day.isoformat()
        return record


def _integer(value: t.Any, name: str, index: int) -> int | None:
    """A count as an int: the export sends counts as strings ("7")."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return int(text)
        except ValueError:
            pass
        try:
            value = float(text)
        except ValueError:
            value = None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise FileFormatError(f"record {index}: {name} is not an integer")


def _json_object(text: str, index: int) -> dict | None:
    """`conversations_data` sent as a JSON string, as the object it encodes."""
    if not text.strip():
        return None
    try:
        value = msgspec.json.decode(text)
    except msgspec.DecodeError:
        value = ()
    if value is None or isinstance(value, dict):
        return value
    raise FileFormatError(f"record {index}: conversations_data is not a JSON object")
