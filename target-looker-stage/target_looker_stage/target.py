"""target-looker-stage: Singer records -> exact-decimal Parquet stage + idempotent warehouse upserts.

Durability: STATE is relayed only by the SDK's ``drain_all`` after every sink's batch is committed (files
published, warehouse transaction committed). Batch boundaries depend only on the input since the last
emitted STATE (full sinks, and a full drain at the first STATE after ``batch_size_rows`` records; no
timer), so a run killed at any moment and replayed from its last emitted STATE cuts the same batches,
writes the same file names and converges to the same rows.
"""

from __future__ import annotations

import copy
import datetime
import os
import sys
import typing as t
from collections import Counter
from typing import TYPE_CHECKING

import pyarrow as pa
from singer_sdk.exceptions import (
    InvalidJSONSchema,
    InvalidRecord,
    MissingKeyPropertiesError,
    RecordsWithoutSchemaException,
)
from singer_sdk.singerlib.exceptions import InvalidInputLine
from typing_extensions import override

from target_looker_stage.commit_pipeline import CommitPipeline
from target_looker_stage.destinations import Destinations, TablesInRun
from target_looker_stage.errors import LookerRefreshError, TargetError, WarehouseError
from target_looker_stage.looker.settings import LookerSettings, parse_looker_settings
from target_looker_stage.reader import LineReader
from target_looker_stage.sdk_seams import STATE_ENCODER, TargetSeams
from target_looker_stage.settings import CONFIG_SCHEMA, TargetSettings
from target_looker_stage.sinks import LookerStageSink
from target_looker_stage.stage import StageWriter
from target_looker_stage.storage.factory import open_storage
from target_looker_stage.table_spec import StreamLoad, TableSpec
from target_looker_stage.warehouse.base import Warehouse
from target_looker_stage.warehouse.factory import open_warehouse

if TYPE_CHECKING:
    from target_looker_stage.looker.sql_runner import SqlRunnerLoader

#: Errors that end the run with one line on stderr and exit code 1 (no traceback).
CLEAN_ERRORS: tuple[type[Exception], ...] = (
    TargetError,
    InvalidInputLine,
    InvalidRecord,
    InvalidJSONSchema,
    MissingKeyPropertiesError,
    RecordsWithoutSchemaException,
)


class TargetLookerStage(TargetSeams):
    name = "target-looker-stage"
    #: A copy: the SDK adds its built-in settings to the class's schema, CONFIG_SCHEMA stays the target's own.
    config_jsonschema = copy.deepcopy(CONFIG_SCHEMA)
    default_sink_class = LookerStageSink
    message_reader_class = LineReader

    def __init__(self, **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        self.max_parallelism = 1
        #: Parsed once (one-line ConfigError before any input is read).
        self.settings = TargetSettings.from_config(self.config)
        self._destinations: Destinations | None = None
        self._stage_writer: StageWriter | None = None
        self._warehouse: Warehouse | None = None
        self._records_since_drain = 0
        self._pending_rows: Counter[str] = Counter()
        self._pending_files = 0
        self._records_read = 0
        #: Every stream's table in this run and the rows committed to it: LOADS_TABLE at the end.
        self._tables = TablesInRun()
        self._run_rows: Counter[str] = Counter()
        #: Parsed once (one-line ConfigError before any input is read); the refresh runs in process_endofpipe.
        self.looker: LookerSettings = parse_looker_settings(self.config)
        if not self.looker.enabled:
            self.logger.info("looker: refresh off (%s)", self.looker.off_reason)
        elif self.looker.mode == "after_transform":
            self.logger.info(
                "looker: refresh after dbt (looker_refresh: after_transform), not at the end of the load"
            )
        self._sql_runner: SqlRunnerLoader | None = None
        #: Batches are staged and merged here, behind the reading of the next one; STATE follows them.
        self.commits = CommitPipeline()
        if isinstance(self.message_reader, LineReader):
            self.message_reader.check_pending = self._check_pending_lines
            if self.settings.fast_path:
                self.message_reader.raw_records = self._accept_raw_records

    # -- destinations (opened at the first SCHEMA, so --about never touches them)
    @property
    def sink_destinations(self) -> Destinations:
        """What every sink writes to and reports to (``LookerStageSink.__init__`` reads it once)."""
        if self._destinations is None:
            storage = open_storage(self.settings)
            warehouse = open_warehouse(self.settings)
            if storage is not None:
                storage.check()
                self._stage_writer = StageWriter(storage)
            if warehouse is not None:
                warehouse.check()
                self._warehouse = warehouse
            self.logger.info(
                "Staging to %s; warehouse %s",
                storage.display_uri if storage else "(skipped)",
                warehouse.display_uri if warehouse else "(skipped)",
            )
            self._destinations = Destinations(
                settings=self.settings,
                stage=self._stage_writer,
                warehouse=self._warehouse,
                submit_commit=self.commits.submit,
                committed=self.record_committed_batch,
                claim_table=self._tables.claim,
                decode_line=self._decode_line,
            )
        return self._destinations

    def _decode_line(self, line: bytes, number: int) -> dict[str, t.Any]:
        reader = self.message_reader
        if isinstance(reader, LineReader):
            return reader.decode_line(line, number)
        return reader.deserialize_json(line)

    # -- drains and state
    def record_committed_batch(self, spec: TableSpec, table: pa.Table, files: int) -> None:
        """Called by a sink after its batch is staged and committed (before its STATE). The opt-in SQL Runner
        load upserts the same rows through Looker here: a failure leaves no STATE; the replay repeats it."""
        stream_name, rows = spec.stream_name, table.num_rows
        self._pending_rows[stream_name] += rows
        self._run_rows[stream_name] += rows
        self._pending_files += files
        if self.looker.sql_runner_connection:
            if self._sql_runner is None:
                from target_looker_stage.looker.sql_runner import SqlRunnerLoader  # noqa: PLC0415 (only when on)

                self._sql_runner = SqlRunnerLoader(self.looker)
            statements = self._sql_runner.load(spec, table)
            self.logger.info(
                "looker: SQL Runner upserted %d row(s) of '%s' in %d statement(s)",
                rows,
                stream_name,
                statements,
            )

    def after_batches_committed(self, streams: t.Sequence[str]) -> None:
        """Hook point, called once per drain after every batch is committed and before STATE is relayed.

        Never refreshes Looker: a run has many drains, and Looker is refreshed once, after the last one
        (``process_endofpipe``)."""
        self.logger.info(
            "Drain committed %d row(s) in %d staged file(s) for %s",
            sum(self._pending_rows.values()),
            self._pending_files,
            ", ".join(f"{s}={self._pending_rows[s]}" for s in streams),
        )

    @override
    def drain_finished(self) -> None:
        self._records_since_drain = 0
        self.commits.submit(self._finish_drain, batch=False)

    @override
    def relay_state(self, line: str) -> None:
        self._records_since_drain = 0

        def emit() -> None:  # on the commit thread, after the batches submitted before it
            self._finish_drain()
            self.logger.debug("Emitting completed target state %s", line)
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

        self.commits.submit(emit, batch=False)

    @override
    def before_table_message(self) -> None:
        """A SCHEMA may create or alter a table, and ACTIVATE_VERSION/BATCH act on one: the batches before it
        are committed first (and an error among them is reported first, as the earlier input)."""
        self.commits.barrier()

    @override
    def stopping(self, signum: int) -> None:
        self.commits.abandon()  # the running commit ends; queued batches and STATE are dropped

    def _finish_drain(self) -> None:
        """Runs on the commit thread, after the drain's batches are committed."""
        if not self._pending_rows:
            return
        if self._stage_writer is not None:
            self._stage_writer.write_manifest(complete=False)
        self.after_batches_committed(sorted(self._pending_rows))
        self._pending_rows.clear()
        self._pending_files = 0

    @override
    def state_received(self) -> None:
        """A full drain at the first STATE after ``batch_size_rows`` records (module docstring)."""
        if self._records_since_drain >= self.settings.batch_size_rows:
            self.drain_all()

    @override
    def record_counted(self) -> None:
        self.records_counted(1)

    def records_counted(self, count: int) -> None:
        self._records_since_drain += count
        self._records_read += count

    def _fast_sink(self, stream: str) -> LookerStageSink | None:
        """The stream's sink when it takes raw lines (without stream maps, a stream's sink has its name)."""
        sink = self.active_sinks().get(stream)
        if isinstance(sink, LookerStageSink) and sink.fast is not None and stream in self.mapper.stream_maps:
            return sink
        return None

    def _accept_raw_records(self, stream: str, lines: t.Sequence[bytes], first_number: int) -> bool:
        """The reader's hook for runs of RECORD lines of one stream (``LineReader.raw_records``): a stream
        on the batch-native path buffers the lines; the same bookkeeping as the SDK's
        ``_process_record_message`` for each of them, a full sink drained after the line that filled it."""
        sink = self._fast_sink(stream)
        if sink is None:
            return False
        start = 0
        while start < len(lines):
            chunk = lines[start : start + max(sink.max_size - sink.current_size, 1)]
            sink.add_raw_records(chunk, first_number + start)
            start += len(chunk)
            self.records_counted(len(chunk))
            if sink.is_full:
                size = sink.current_size
                self.logger.info(
                    "Target sink for '%s' is full. Current size is '%s'. Draining...", stream, size
                )
                self.drain_one(sink)
        return True

    def _check_pending_lines(self) -> None:
        """Raise the error of the first bad line kept as bytes in a batch not yet drained (in input order,
        across streams); nothing when they are all good. Only runs when another line already failed. A batch
        that failed on the commit thread came from earlier input still: its error is raised first."""
        self.commits.barrier()
        pending = [
            (number, line, sink)
            for sink in self.active_sinks().values()
            if isinstance(sink, LookerStageSink) and sink.fast is not None
            for number, line in sink.pending_lines()
        ]
        for number, line, sink in sorted(pending, key=lambda item: item[0]):
            sink.record_from_line(line, number)

    @override
    def take_decoded_record(self, message: dict[str, t.Any]) -> bool:
        """A decoded RECORD of a stream on the batch-native path joins its batch as a line too, so the batch
        keeps the input order."""
        stream = message.get("stream")
        if isinstance(stream, str) and isinstance(message.get("record"), dict) and self._fast_sink(stream):
            number = getattr(self.message_reader, "line_number", 0)
            return self._accept_raw_records(stream, [STATE_ENCODER.encode(message)], number)
        return False

    def _record_loads(self) -> None:
        """After the last drain and STATE: one LOADS_TABLE row per stream whose SCHEMA arrived, its rows
        included when it had none (an idle incremental run is a successful load, so freshness stays true to
        the pipeline, not to how busy the company is). A run that failed earlier never gets here. A failure
        here is a warning: the data and STATE are already committed, freshness will show the miss."""
        if self._warehouse is None or not self._tables.by_stream:
            return
        loaded_at = datetime.datetime.now(datetime.UTC)
        by_schema: dict[str, list[StreamLoad]] = {}
        for stream, spec in sorted(self._tables.by_stream.items()):
            load = StreamLoad(stream, spec.name, self._run_rows[stream])
            by_schema.setdefault(spec.schema_name, []).append(load)
        for schema_name, loads in by_schema.items():
            try:
                self._warehouse.record_loads(schema_name, loads, loaded_at)
            except WarehouseError as exc:
                self.logger.warning("%s; dbt source freshness will not count this run's load", exc)

    @override
    def process_endofpipe(self) -> None:
        try:
            super().process_endofpipe()
        except Exception:
            self.commits.barrier()  # an earlier batch's commit error comes first
            raise
        self.commits.barrier()
        self._record_loads()
        if self._stage_writer is not None:
            manifest = self._stage_writer.write_manifest(complete=True)
            if manifest:
                self.logger.info("Run manifest: %s", manifest)
        failed = self._refresh_looker()
        self.close()
        if failed:
            raise LookerRefreshError(failed)

    def _refresh_looker(self) -> str | None:
        """The once-per-run Looker refresh, after the final drain emitted the last STATE (a Looker failure
        cannot lose loaded data). Returns the error line when it failed and ``looker_failure`` is ``fail``."""
        if not self.looker.enabled or self.looker.mode != "after_load":
            return None
        from target_looker_stage.looker.refresh import refresh_after_load  # noqa: PLC0415 (looker-sdk only when on)

        return refresh_after_load(
            self.looker, records=self._records_read, logger=self.logger, stage_writer=self._stage_writer
        )

    def close(self) -> None:
        self.commits.close()
        if self._stage_writer is not None:
            self._stage_writer.storage.close()
            self._stage_writer.close()
            self._stage_writer = None
        if self._warehouse is not None:
            self._warehouse.close()
            self._warehouse = None

    # -- CLI boundary
    @classmethod
    @override
    def invoke(  # type: ignore[override]
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: t.Any = None,
        file_input: t.IO[str] | None = None,
    ) -> None:
        """The command line: everything the process creates (stage files, the DuckDB database and its WAL,
        temporary files) is private to its user whatever the caller's umask, and the errors above end the
        run with one line."""
        os.umask(os.umask(0o077) | 0o077)
        try:
            super().invoke(about=about, about_format=about_format, config=config, file_input=file_input)
        except CLEAN_ERRORS as exc:
            message = getattr(exc, "error_message", None) if isinstance(exc, InvalidRecord) else None
            text = (message or str(exc) or type(exc).__name__).splitlines()[0]
            sys.stderr.write(f"{cls.name}: error: {text}\n")
            sys.stderr.flush()
            sys.exit(1)
