"""tap-quickbooks-cdc: the Tap, its settings and the run summary."""

from __future__ import annotations

import gc
import logging
import sys
import typing as t
from functools import cached_property

from singer_sdk import Tap
from singer_sdk.helpers._util import load_json
from singer_sdk.plugin_base import _ConfigInput

from tap_quickbooks_cdc.errors import QboTapError
from tap_quickbooks_cdc.realm import RealmRegistry
from tap_quickbooks_cdc.settings import CONFIG_SCHEMA, Settings, parse_settings
from tap_quickbooks_cdc.stream_base import Mode, QboStream
from tap_quickbooks_cdc.streams import STREAM_TYPES
from tap_quickbooks_cdc.writer import OrjsonSingerWriter


def tune_garbage_collector() -> None:
    """Keep Python's cyclic collector from re-scanning what a sync holds.

    A page of QBO entities decodes into about a hundred thousand small dicts and lists, none of them in a
    reference cycle, and reference counting frees them when the page is emitted. With the default
    thresholds the collector would run a young collection every 700 allocations and regularly walk every
    live object (the catalog's schemas included): about a fifth of the tap's CPU. Objects made during
    start-up are frozen out of collections, and collections run less often; cycles are still collected."""
    gc.freeze()
    gc.set_threshold(20_000, 50, 50)


class _UnsortedNoticeFilter(logging.Filter):
    """Drops the SDK's per-partition "assumed to be unsorted, not resumable" warning: this tap resumes
    from its realm cursor (`cdc_cursor`), so the notice is noise repeated for every stream and realm."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "progress is not resumable if interrupted" not in record.getMessage()


logging.getLogger("singer_sdk").addFilter(_UnsortedNoticeFilter())


class RunFailedError(QboTapError):
    """At least one realm failed; the others synced."""


class TapQuickBooksCDC(Tap):
    """Singer tap for QuickBooks Online: many companies, query backfill then one CDC call per realm."""

    name = "tap-quickbooks-cdc"
    config_jsonschema = CONFIG_SCHEMA
    message_writer_class = OrjsonSingerWriter

    @cached_property
    def settings(self) -> Settings:
        """Validated settings (raises ConfigError with a one-line fix)."""
        return parse_settings(self.config)

    @cached_property
    def realms(self) -> RealmRegistry:
        """Per-realm sessions for this run."""
        return RealmRegistry(self.settings, self.logger, self.cdc_plan)

    def realm_ids(self) -> list[str]:
        return [company.realm_id for company in self.settings.companies]

    def discover_streams(self) -> list[QboStream]:
        return [stream_type(self) for stream_type in STREAM_TYPES]

    def cdc_plan(self, realm_id: str) -> dict[str, str]:
        """{entity: cursor} for every selected stream that reads `realm_id` through CDC this run."""
        now = self.realms.session(realm_id).server_now()
        plan: dict[str, str] = {}
        for stream in self.streams.values():
            if isinstance(stream, QboStream) and stream.selected and stream.cdc_capable:
                mode, since = stream.plan(realm_id, now)
                if mode is Mode.CDC and since:
                    plan[stream.entity] = since
        return plan

    def finish_run(self) -> None:
        """Log the per-realm summary; raise RunFailedError if any realm failed."""
        for line in self.realms.summary_lines():
            self.logger.info("summary: %s", line)
        failures = self.realms.failures()
        if failures:
            realms = ", ".join(sorted(failures))
            raise RunFailedError(
                f"{len(failures)} of {len(self.realm_ids())} realm(s) failed ({realms}); the others synced. "
                "See the summary above for the fix per realm."
            )

    @classmethod
    def invoke(  # type: ignore[override]
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: _ConfigInput | None = None,
        state: t.IO[str] | None = None,
        catalog: t.IO[str] | None = None,
    ) -> None:
        """Run a sync like `Tap.invoke`, then summarise per realm; bad settings and failed realms end
        with one clear line and exit code 1."""
        super(Tap, cls).invoke(about=about, about_format=about_format)
        cls.print_version(print_fn=cls.logger.info)
        config = config or _ConfigInput()
        try:
            tap = cls(
                config=config.config,
                state=None if state is None else load_json(state.read()),
                catalog=None if catalog is None else load_json(catalog.read()),
                parse_env_config=config.parse_env,
                validate_config=True,
            )
            _ = tap.settings
            tune_garbage_collector()
            tap.sync_all()
            tap.finish_run()
        except QboTapError as exc:
            cls.logger.error("%s", exc)
            sys.exit(1)
