"""tap-convai: the Tap — settings schema, vendor registry, run summary."""

from __future__ import annotations

import logging
import signal
import sys
import typing as t
from functools import cached_property

from tap_convai import agentx, airgentic, aurion, kore, zendesk_ai
from tap_convai.http import quiet_urllib3
from tap_convai.output import OutputClosed, StateFlushingWriter
from tap_convai.redaction import SecretFilter, secret_values
from tap_convai.run import Run, RunSettings
from tap_convai.sdk import SeamTap
from tap_convai.settings import (
    Vendor,
    config_problems,
    config_schema,
    read_numbers,
)
from tap_convai.windows import WindowedStream

if t.TYPE_CHECKING:
    from singer_sdk import Stream

#: The registry: a new vendor is a new sub-package plus one line here.
VENDORS: tuple[Vendor, ...] = (
    airgentic.VENDOR,
    kore.VENDOR,
    agentx.VENDOR,
    aurion.VENDOR,
    zendesk_ai.VENDOR,
)


class TapConvAI(SeamTap):
    """Extracts conversational-AI vendors' export and analytics data."""

    name = "tap-convai"
    config_jsonschema = config_schema(VENDORS)
    message_writer_class = StateFlushingWriter

    # -- config -----------------------------------------------------------------------

    def read_config(self, config: dict[str, t.Any]) -> None:
        read_numbers(config, self.config_jsonschema)

    def config_problems(self) -> list[str]:
        """Schema and cross-field checks, one line per problem naming the setting."""
        return config_problems(self.config, VENDORS)

    def on_config_valid(self) -> None:
        """Mask every secret of the config in every log line, whatever logs it."""
        redactor = SecretFilter.install()
        redactor.add(secret_values(self.config, self.config_jsonschema))
        quiet_urllib3()

    @cached_property
    def settings(self) -> RunSettings:
        return RunSettings.from_config(self.config)

    @property
    def enabled_vendors(self) -> list[Vendor]:
        return [v for v in VENDORS if isinstance(self.config.get(v.key), dict)]

    def discover_streams(self) -> list[Stream]:
        return [
            stream_class(tap=self)
            for vendor in self.enabled_vendors
            for stream_class in vendor.streams
        ]

    # -- the run ----------------------------------------------------------------------

    @cached_property
    def run(self) -> Run:
        return Run(self.settings, self.logger)

    def start_fetching(self) -> None:
        """Every selected stream starts fetching its windows now, in the order the SDK
        will write them (see concurrency.py)."""
        for stream in self.streams.values():
            if stream.selected and isinstance(stream, WindowedStream):
                stream.start_fetching()
        self.run.progress.start()

    # -- sync -------------------------------------------------------------------------

    @property
    def output(self) -> StateFlushingWriter:
        return t.cast(StateFlushingWriter, self.message_writer)  # message_writer_class

    # why (type: ignore): the SDK marks sync_all and run_sync_dry_run final, but has no
    # hook before the first stream (fetching starts) or after the last (the exit code)
    def sync_all(self) -> None:  # type: ignore[misc]
        """Sync every selected stream; failed partitions are summed up at the end and
        make the process exit non-zero (after the last STATE was written)."""
        try:
            self.start_fetching()
            super().sync_all()
            self.output.flush()
        except OutputClosed:
            self.output_closed()
        failures = self.run.failures
        if failures:
            self.logger.error("Run finished with %d failed partition(s):", len(failures))
            for failure in failures:
                self.logger.error("  %s", failure.message)
            logging.shutdown()
            sys.exit(1)
        self.logger.info("Run finished: every selected stream and partition synced.")

    def run_sync_dry_run(self, *args: t.Any, **kwargs: t.Any) -> bool:  # type: ignore[misc]
        try:
            return super().run_sync_dry_run(*args, **kwargs)
        finally:
            self.output.flush()

    def output_closed(self) -> t.NoReturn:
        """The loader stopped reading: stop now, with one line. Nothing more is written, so
        the last STATE the loader has is the last one it read (workers are daemons)."""
        self.logger.error(
            "The loader stopped reading (stdout closed): stopping; the next run resumes "
            "from the last state it received"
        )
        logging.shutdown()
        sys.exit(1)

    def on_termination(self, signum: int) -> None:
        """SIGTERM/SIGINT: write the state reached so far, then exit non-zero.

        The SDK exits 0 here, which tells a scheduler that an interrupted run finished.
        """
        try:
            self.state_writer.write_state(self.state)
            self.output.flush()
        except OutputClosed:
            pass  # nobody reads: the state reached cannot be delivered
        finally:
            name = signal.Signals(signum).name
            self.logger.error(
                "Interrupted by %s: state of the last finished windows written; exiting %d",
                name, 128 + signum,
            )
            logging.shutdown()
            sys.exit(128 + signum)


if __name__ == "__main__":
    TapConvAI.cli()
