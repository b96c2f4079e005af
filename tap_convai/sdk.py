"""The one seam to singer-sdk's internals.

Everything the tap needs from the SDK that is not public API is here, each with why.
The rest of the package uses the public names this module gives them, and
`tests/test_sdk_seam.py` checks every internal against the installed SDK, so a release
that changes one fails there, by name (`make test-sdk-next` runs the suite on the newest
release).

Public SDK behaviour the tap relies on, and the tests that fail if a release changes it:

- `is_sorted = True` with `check_sorted = False` on streams whose records are not sorted
  inside a window (AgentX pages come in `_id` order): the SDK treats the stream as
  resumable, checks no order, and the tap moves bookmarks per window itself
  (`_increment_stream_state` below). tests/test_agentx.py::
  test_state_moves_per_window_and_ends_at_the_range_end and
  test_killed_run_resumes_at_its_window_and_loses_nothing.
- `TYPE_CONFORMANCE_LEVEL = NONE` (http.py): records are written with the values the tap
  gives, no per-value conformance; drift.py reports what the schema lacks instead.
  tests/test_output.py::test_write_record_is_byte_identical_to_the_sdk_message,
  tests/test_drift.py.
- `RESTStream.request_records(context)` is called from several worker threads at once
  for different windows of one stream (concurrency.py): it keeps its paging state per
  call (a new paginator each time) and shares only the session, which the tap installs.
  tests/test_concurrency.py::test_every_vendor_at_once_equals_a_sequential_run.
- `request_decorator` retries a callable the tap builds itself (the Zendesk signed-URL
  request), with the backoff hooks the tap overrides. tests/test_zendesk_ai.py.
"""

from __future__ import annotations

import typing as t

import requests
from singer_sdk import RESTStream, Tap
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers._catalog import pop_deselected_record_properties
from typing_extensions import override

if t.TYPE_CHECKING:
    from types import FrameType

    from singer_sdk.singerlib.encoding.base import GenericSingerWriter

    from tap_convai.run import Run


class SeamTap(Tap):
    """The Tap's internals: config validation and termination."""

    def read_config(self, config: dict[str, t.Any]) -> None:
        """May normalise the raw config in place before it is checked (the tap's own)."""

    def config_problems(self) -> list[str]:
        """One line per problem of `self.config`, naming the setting (the tap's own)."""
        raise NotImplementedError

    def on_config_valid(self) -> None:
        """Called once the config has no problem, before any stream exists."""

    @property
    def run(self) -> Run:
        """The services this run's streams share (the tap's own)."""
        raise NotImplementedError

    def on_termination(self, signum: int) -> None:
        """SIGTERM/SIGINT."""
        raise NotImplementedError

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        # why: the SDK has no hook for cross-field checks, and its JSON-schema messages
        # quote values (a misplaced secret would be printed back); `_config` is the only
        # place the raw config can be normalised before the SDK freezes it
        self.read_config(self._config)
        problems = self.config_problems()
        if not problems:
            self.on_config_valid()
        elif raise_errors:
            raise ConfigValidationError(
                "Config validation failed", errors=problems, schema=self.config_jsonschema
            )
        return problems

    @override
    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        # why: the SDK writes the state and exits 0, telling a scheduler that an
        # interrupted run finished
        self.on_termination(signum)


class SeamStream(RESTStream):
    """A stream's internals: its run, its session, the per-record path and state writes."""

    @property
    def run(self) -> Run:
        # why: streams share the services of their tap's run (limiters, in-flight slots,
        # the byte budget, the failures); the SDK keeps the owning tap private
        tap: SeamTap = self._tap  # type: ignore[assignment]
        return tap.run

    @property
    def message_writer(self) -> GenericSingerWriter:
        # why: the direct record path writes with the tap's writer (see output.py)
        return self._tap.message_writer

    def install_session(self, session: requests.Session) -> None:
        # why: the SDK builds a plain Session in __init__ with no hook to supply another
        # (ours paces requests and counts them in flight)
        self._requests_session = session

    @property
    def installed_session(self) -> requests.Session | None:
        return self._requests_session

    @property
    def stream_version(self) -> int | None:
        # why: a RECORD written on the direct path must carry the version the SDK's
        # messages would
        return self._stream_version

    def mark_state_unflushed(self) -> None:
        # why: records written on the direct path must still make the SDK write a final
        # STATE for the stream
        self.state_manager.is_flushed = False

    def write_state(self) -> None:
        # why: the SDK writes STATE only every 10,000 records; bookmarks move per window
        self.state_manager.is_flushed = False
        self._write_state_message()

    def drop_deselected(self, record: dict[str, t.Any]) -> None:
        # why: the SDK's property selection lives in a private helper module
        pop_deselected_record_properties(record, self.schema, self.mask)

    def prepare_record(self, record: dict[str, t.Any]) -> dict[str, t.Any]:
        """Each record, in the writing thread, before it is written (the tap's own)."""
        return record

    def write_record_directly(self, record: dict[str, t.Any]) -> bool:
        """Write one record without the SDK's message path; False = use that path."""
        return False

    def record_unwritable(self, exc: Exception) -> None:
        """A record could not be prepared or serialised (the tap's own); default: raise."""
        raise exc

    @override
    def _write_record_message(self, record: dict[str, t.Any]) -> None:
        # why: the per-record hot path; without stream maps or flattening the record is
        # serialised straight from its parts (the same bytes, tested), and the SDK has no
        # public per-record hook in the writing thread
        try:
            record = self.prepare_record(record)
            if not self.write_record_directly(record):
                super()._write_record_message(record)
        except Exception as exc:  # one record's failure is its partition's, not the run's
            self.record_unwritable(exc)

    @override
    def _process_record(
        self,
        record: dict[str, t.Any],
        child_context: t.Mapping[str, t.Any] | None = None,
        partition_context: t.Mapping[str, t.Any] | None = None,
    ) -> None:
        # why: the SDK also prepares child contexts per record; these streams have no
        # children, so only the partition's keys are added (as the SDK does)
        if partition_context:
            for key, value in partition_context.items():
                if key not in record:
                    record[key] = value

    @override
    def _increment_stream_state(self, latest_record: t.Any, *, context: t.Any = None) -> None:
        # why: bookmarks move per window in `write_state`, not per record: records inside
        # a window need not be sorted, and the SDK would move a bookmark back in lookback
        return None
