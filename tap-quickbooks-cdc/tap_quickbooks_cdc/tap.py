"""tap-quickbooks-cdc: the Tap, its settings and the run summary."""

from __future__ import annotations

import gc
import logging
import sys
import typing as t
from functools import cached_property

import click
from singer_sdk import Tap
from singer_sdk.helpers._util import load_json
from singer_sdk.plugin_base import JSONSchemaValidator, _ConfigInput
from singer_sdk.singerlib import Catalog
from singer_sdk.tap_base import CliTestOptionValue
from typing_extensions import override

from tap_quickbooks_cdc import signals
from tap_quickbooks_cdc.errors import ConfigError, QboTapError
from tap_quickbooks_cdc.parallel import RealmPool
from tap_quickbooks_cdc.realm import RealmRegistry
from tap_quickbooks_cdc.registry import STREAMS
from tap_quickbooks_cdc.settings import (
    CONFIG_SCHEMA,
    Settings,
    config_errors,
    environment_config,
    numbers_from_text,
    parse_settings,
    read_config_files,
    unknown_settings,
)
from tap_quickbooks_cdc.stream_base import (
    Mode,
    QboStream,
    check_state_document,
    load_state_text,
    realm_state_problem,
)
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

    @override
    def filter(self, record: logging.LogRecord) -> bool:
        return "progress is not resumable if interrupted" not in record.getMessage()


logging.getLogger("singer_sdk").addFilter(_UnsortedNoticeFilter())


def _load_catalog(text: str) -> Catalog:
    """A `--catalog` document as the SDK's Catalog; one-line ConfigError when it is not one."""
    fix = "write it again with `tap-quickbooks-cdc --discover` (then select streams)"
    try:
        document: object = load_json(text)
    except ValueError:
        raise ConfigError(f"The --catalog file is not valid JSON: {fix}.") from None
    try:
        if not isinstance(document, dict) or not isinstance(document.get("streams", []), list):
            raise TypeError
        return Catalog.from_dict(t.cast("dict[str, t.Any]", document))
    except (KeyError, TypeError, ValueError, AttributeError):
        raise ConfigError(f"The --catalog file is not a Singer catalog: {fix}.") from None


class RunFailedError(QboTapError):
    """At least one realm failed (the message counts them and names the fix)."""


class TapQuickBooksCDC(Tap):
    """Singer tap for QuickBooks Online: many companies, query backfill then one CDC call per realm."""

    name = "tap-quickbooks-cdc"
    config_jsonschema = CONFIG_SCHEMA
    message_writer_class = OrjsonSingerWriter
    _cdc_prefetched = False

    @cached_property
    def settings(self) -> Settings:
        """Validated settings (raises ConfigError with a one-line fix)."""
        return parse_settings(self.config)

    @cached_property
    def realms(self) -> RealmRegistry:
        """Per-realm sessions for this run."""
        return RealmRegistry(self.settings, self.logger, self.cdc_plan)

    @cached_property
    def pool(self) -> RealmPool:
        """The workers that wait on Intuit for several companies at once (`parallel`)."""
        return RealmPool(self.settings.max_parallel_companies)

    def parallel_realms(self, stream: QboStream) -> list[str]:
        """The realms whose network work may run ahead in the pool: none when the run is sequential, a
        `--test` dry run, or webhooks decide what a realm reads; else those not failed whose state is sound
        (the main thread reports the others when it reaches them)."""
        settings = self.settings
        if settings.max_parallel_companies <= 1 or stream.ABORT_AT_RECORD_COUNT is not None:
            return []
        if settings.webhook_inbox:
            return []
        return [
            realm_id
            for realm_id in self.realm_ids()
            if self.realms.session(realm_id).failure is None
            and realm_state_problem(self.state, realm_id) is None
        ]

    def prefetch_cdc(self, stream: QboStream) -> None:
        """Once per run, before the first stream: every realm's shared CDC request, in the pool."""
        if self._cdc_prefetched:
            return
        self._cdc_prefetched = True
        sessions = [self.realms.session(realm_id) for realm_id in self.parallel_realms(stream)]
        self.pool.run_all([session.cdc.prefetch for session in sessions])

    def realm_ids(self) -> list[str]:
        return [company.realm_id for company in self.settings.companies]

    @override
    def discover_streams(self) -> list[QboStream]:
        return [QboStream(self, facts) for facts in STREAMS]

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

    @override
    def _setup_signal_handlers(self) -> None:
        """SIGTERM/SIGINT end the run with exit code 128 + signal, never between a refresh and its
        persist (`signals`); the SDK's handler would exit 0 wherever the signal lands."""
        signals.install()

    def stop_after_signal(self, stop: signals.Terminated) -> None:
        """After SIGTERM/SIGINT: write out the records and the state emitted so far and warn once; the
        caller lets `stop` end the process with 128 + signal (a partial sync never looks like a success)."""
        signals.begin_exit()
        # Records and the STATE covering them share the writer's buffer, and the tap's state only
        # claims what was emitted (progress markers and `cdc_cursor` move after a record is written):
        # flushing both is safe, and a partial partition is re-read by the next run.
        with signals.shielded():
            self._state_writer.write_state(self.state)
            if isinstance(self.message_writer, OrjsonSingerWriter):
                self.message_writer.flush()
        self.logger.warning(
            "Received %s: the run stopped early; the records and state written so far are consistent "
            "and the next run resumes from that state (exit code %d).",
            stop.signal_name,
            stop.code,
        )

    def finish_run(self) -> None:
        """Log the per-realm summary and the run's totals; raise RunFailedError if any realm failed."""
        self.pool.close()
        for line in self.realms.summary_lines():
            self.logger.info("summary: %s", line)
        self.logger.info("totals: %s", self.realms.totals_line())
        outcome = self.realms.outcome()
        if outcome is not None:
            raise RunFailedError(outcome)

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """The SDK's JSON-schema check (defaults filled in), but its messages never show the value of a
        setting that holds a secret (the SDK's print it), and they end the run as one ConfigError line."""
        schema = self.config_jsonschema
        self.append_builtin_config(schema)
        self._config.update(numbers_from_text(self._config, schema))  # Meltano passes them as text
        errors = config_errors(JSONSchemaValidator(schema).iter_errors(self._config), schema)
        errors += unknown_settings(self._config, schema)
        if errors and raise_errors:
            raise ConfigError(f"Invalid settings: {'; '.join(errors)} (see `tap-quickbooks-cdc --about`).")
        if errors:
            self.logger.warning("Config validation failed: %s", "; ".join(errors))
        return errors

    @override
    def load_state(self, state: dict[str, t.Any]) -> None:
        """The SDK's, once the document has the shape it reads (otherwise one ConfigError line)."""
        check_state_document(state)
        super().load_state(state)

    @classmethod
    @override
    def cb_config(cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]) -> _ConfigInput:
        """`--config` files and `ENV` like the SDK's (files in order, then environment variables), but an
        unreadable or malformed file or variable is one line and exit code 1 instead of a traceback; for a
        sync, `--discover` and `--test` alike."""
        config: dict[str, t.Any] = {}
        try:
            config = read_config_files(value)
            if "ENV" in value:
                schema = cls.config_jsonschema
                cls.append_builtin_config(schema)
                config |= environment_config(schema, cls._env_var_prefix)
        except ConfigError as exc:
            cls.logger.error("%s", exc)
            ctx.exit(1)
        return _ConfigInput(config=config, parse_env=False)

    @classmethod
    @override
    def cb_discover(cls, ctx: click.Context, param: click.Option, value: bool) -> None:
        """The SDK's `--discover`, ending a bad setting with one line and exit code 1."""
        try:
            super().cb_discover(ctx, param, value)
        except QboTapError as exc:
            cls.logger.error("%s", exc)
            ctx.exit(1)

    @classmethod
    @override
    def cb_test(cls, ctx: click.Context, param: click.Option, value: str) -> None:
        """The SDK's `--test` (one record per stream), then the same summary as a sync: a bad setting or a
        failed realm ends it (and `meltano config test`) with its one-line fix and exit code 1."""
        if value == CliTestOptionValue.Disabled.value:
            return
        config: _ConfigInput = ctx.params.get("config", _ConfigInput())
        try:
            tap = cls(config=config.config, parse_env_config=config.parse_env, validate_config=True)
            if value == CliTestOptionValue.Schema.value:
                tap.write_schemas()
            else:
                tap.run_connection_test()
                tap.finish_run()
        except QboTapError as exc:
            cls.logger.error("%s", exc)
            ctx.exit(1)
        ctx.exit()

    @classmethod
    @override
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
        tap: TapQuickBooksCDC | None = None
        try:
            tap = cls(
                config=config.config,  # environment variables already merged in by `cb_config`
                state=None if state is None else load_state_text(state.read(), "The --state file"),
                catalog=None if catalog is None else _load_catalog(catalog.read()),
                validate_config=True,
            )
            _ = tap.settings
            tune_garbage_collector()
            tap.sync_all()
            tap.finish_run()
        except QboTapError as exc:
            cls.logger.error("%s", exc)
            sys.exit(1)
        except signals.Terminated as stop:  # SIGTERM/SIGINT: exits 128 + signal
            if tap is not None:
                tap.stop_after_signal(stop)
            raise
