"""One sink per stream: a batch is versioned, collapsed to the newest row per key, staged, then merged."""

from __future__ import annotations

import functools
import gc
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from singer_sdk.exceptions import InvalidRecord, MissingKeyPropertiesError
from singer_sdk.sinks.core import BaseJSONSchemaValidator
from typing_extensions import override

from target_looker_stage.arrow_batch import (
    RecordValueError,
    collapse_newest,
    records_to_table,
    set_sync_versions,
)
from target_looker_stage.destinations import Destinations
from target_looker_stage.raw_batch import FastDecoder, collapse_newest_table
from target_looker_stage.schema_mapping import build_table_spec
from target_looker_stage.sdk_seams import SinkSeams
from target_looker_stage.stage import partition_prefix
from target_looker_stage.validation import record_validator

if TYPE_CHECKING:
    from target_looker_stage.target import TargetLookerStage


class LookerStageSink(SinkSeams):
    """Batches of ``batch_size_rows`` records -> warehouse merge, then Parquet stage. Everything it writes to
    and reports to is ``self.destinations``, read once from the target (the SDK constructs sinks)."""

    def __init__(
        self,
        target: TargetLookerStage,
        stream_name: str,
        schema: dict[str, Any],
        key_properties: Sequence[str] | None,
    ) -> None:
        self.destinations: Destinations = target.sink_destinations
        settings = self.destinations.settings
        super().__init__(target=target, stream_name=stream_name, schema=schema, key_properties=key_properties)
        self.spec = build_table_spec(
            stream_name=stream_name,
            schema=self.schema,
            key_properties=list(self.key_properties),
            schema_name=settings.default_target_schema,
            load_method=settings.load_method,
            hard_delete=settings.hard_delete,
            double_columns=settings.double_columns,
        )
        self.destinations.claim_table(self.spec)
        self.version_column = settings.version_column
        self._show_values = settings.log_record_values
        self._upserts = self.spec.load_method == "upsert"
        #: The batch-native path for this stream (``raw_batch``), or None: the SDK's per-record path.
        self.fast: FastDecoder | None = None
        if settings.fast_path and not self.include_sdc_metadata_properties:
            self.fast = FastDecoder.for_stream(
                self.spec, self.schema, version_column=self.version_column, validate=self.validate_schema
            )
        self._create_table()

    @property
    @override
    def max_size(self) -> int:
        return self.destinations.settings.batch_size_rows

    @override
    def get_validator(self) -> BaseJSONSchemaValidator | None:
        return record_validator(self.schema) if self.validate_schema else None

    @override
    def check_record(self, record: dict[str, Any], validator: BaseJSONSchemaValidator | None) -> None:
        """Like the SDK's validation, but a violation is one line naming stream, key and rule (no record
        dump). A record without a key value is refused here, before its batch is staged: a null key cannot
        be merged."""
        for name in self.key_properties:
            if record.get(name) is None and (self._upserts or name not in record):
                missing = "null" if name in record else "missing"
                msg = (
                    f"stream '{self.stream_name}': a record's key property '{name}' is {missing}; every "
                    "record needs its key properties (fix the tap, or declare other key_properties)"
                )
                raise MissingKeyPropertiesError(msg)
        if validator is not None:
            try:
                validator.validate(record)
            except InvalidRecord as exc:
                key = {k: record.get(k) for k in self.key_properties}
                msg = f"stream '{self.stream_name}': record {key} violates its schema: {exc.error_message}"
                raise InvalidRecord(msg, record) from None

    @override
    def start_batch(self, context: dict[str, Any]) -> None:
        context["lines"] = []
        context["line_numbers"] = []

    def add_raw_records(self, lines: Sequence[bytes], first_number: int) -> None:
        """Buffer consecutive RECORD lines (input lines ``first_number``...) as they were read (the
        batch-native path); counted like as many processed records."""
        context = self.batch_to_fill()
        context["lines"].extend(lines)
        context["line_numbers"].extend(range(first_number, first_number + len(lines)))
        self.tally_record_read(len(lines))
        self.record_counter_metric.increment(len(lines))

    @override
    def setup(self) -> None:
        """Done at the end of ``__init__`` instead (``_create_table``): a failure is then only its one line,
        without the SDK's misleading 'Error initializing target sink' log that follows a failing setup."""

    def _create_table(self) -> None:
        """Create or evolve the table now, so an incompatible schema fails before any record is read."""
        if self.destinations.stage is not None:
            partition_prefix(self.stream_name)  # a stream name too long for a folder fails here
        warehouse = self.destinations.warehouse
        if warehouse is not None:
            warehouse.ensure_table(self.spec)

    @override
    def process_batch(self, context: dict[str, Any]) -> None:
        try:
            self._process_batch(context)
        except RecursionError:  # a value nested almost as deep as the reader's decoder accepts
            msg = (
                f"stream '{self.stream_name}': a record of this batch nests objects/arrays too deeply to "
                "store; fix the tap"
            )
            raise RecordValueError(msg) from None
        finally:
            release_and_collect(context)

    def _process_batch(self, context: dict[str, Any]) -> None:
        lines: list[bytes] = context.get("lines") or []
        if lines:
            table = self._fast_table(lines)
            if table is not None:
                received = len(lines)
                lines.clear()  # the batch is held once: as lines until here, as Arrow from here on
                self._commit(table, received)
                return
            context["records"] = self._records_from_lines(lines, context["line_numbers"])
            context["lines"] = []
        records: list[dict[str, Any]] = context.get("records") or []
        if not records:
            return
        show_values = self._show_values
        set_sync_versions(
            records, self.version_column, self.stream_name, keys=self.key_properties, show_values=show_values
        )
        rows = records
        if self.spec.load_method == "upsert":
            rows = collapse_newest(records, self.spec.key_properties)
            if len(rows) < len(records):
                self.tally_duplicate_merged(len(records) - len(rows))
        table = records_to_table(self.spec, rows, show_values=show_values)
        context["records"] = []
        self._commit(table, len(records))

    def _fast_table(self, lines: list[bytes]) -> pa.Table | None:
        """The batch's table by the batch-native path, or None when the per-record path must decide."""
        if self.fast is None:
            return None
        table = self.fast.decode(lines)
        if table is None:
            return None
        if self._upserts and any(table.column(k).null_count for k in self.spec.key_properties):
            return None  # a null key: refused, in the per-record path's words
        if self.spec.load_method == "upsert":
            collapsed = collapse_newest_table(table, self.spec.key_properties)
            if collapsed is None:
                return None
            if collapsed.num_rows < table.num_rows:
                self.tally_duplicate_merged(table.num_rows - collapsed.num_rows)
            table = collapsed
        return table

    def _records_from_lines(self, lines: list[bytes], numbers: list[int]) -> list[dict[str, Any]]:
        """The batch through the reader and the SDK's per-record steps, exactly as if each line had been
        decoded when read (``Target._process_record_message`` without stream maps, which the batch-native
        path never runs with): the same records, or the same error for the first bad one."""
        return [self.record_from_line(line, number) for line, number in zip(lines, numbers, strict=True)]

    def record_from_line(self, line: bytes, number: int) -> dict[str, Any]:
        """One kept line through the reader's full decode and the SDK's per-record steps."""
        message = self.destinations.decode_line(line, number)
        return self.sdk_record_steps(dict(message["record"]))

    def pending_lines(self) -> list[tuple[int, bytes]]:
        """The kept lines of the batch still being filled, with their input line numbers."""
        batch = self.pending_batch() or {}
        return list(zip(batch.get("line_numbers") or [], batch.get("lines") or [], strict=True))

    def _commit(self, table: pa.Table, received: int) -> None:
        """Hand the decoded batch to the target's commit thread (``commit_pipeline``): this thread goes on
        reading the next batch while it is staged and merged; its STATE waits for the commit."""
        self.destinations.submit_commit(functools.partial(self._commit_now, table, received))

    def _commit_now(self, table: pa.Table, received: int) -> None:
        started = time.perf_counter()
        files = written = 0
        # Parquet written locally, merged, and only then published: a batch the warehouse rejects is not
        # staged. A publish failing after the commit leaves no STATE either, and the replay re-merges (upserts
        # are idempotent) and re-publishes the same file names.
        stage = self.destinations.stage
        prepared = stage.prepare(self.spec, table) if stage is not None else None
        try:
            warehouse = self.destinations.warehouse
            if warehouse is not None:
                written = warehouse.merge(self.spec, table)
            if stage is not None and prepared is not None:
                files = len(stage.publish(prepared))
        finally:
            if stage is not None and prepared is not None:
                stage.discard(prepared)
        self.destinations.committed(self.spec, table, files)
        self.logger.info(
            "Committed %d rows (%d received) of '%s': %d staged file(s), %d warehouse row(s) in %.2fs",
            table.num_rows,
            received,
            self.stream_name,
            files,
            written,
            time.perf_counter() - started,
        )


def release_and_collect(context: dict[str, Any]) -> None:
    """Drop the batch's records (the SDK keeps the drained context alive until its drain call returns), then
    run one cyclic garbage collection: the target reads its input with automatic collection paused, see
    ``reader.LineReader.process_lines``."""
    for name in ("records", "lines"):
        batch = context.get(name)
        if batch:
            batch.clear()
    gc.collect()
