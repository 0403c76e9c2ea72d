"""Every place the target relies on a private part of singer-sdk 0.54 (an underscore method or attribute of
``Target``, ``Sink`` or ``BatchSink``), in one module: an SDK upgrade is checked here, against the behaviour
each comment names (``singer_sdk/target_base.py``, ``sinks/core.py``, ``sinks/batch.py``).

``TargetSeams`` and ``SinkSeams`` hold the overrides and the reads of private attributes; what the target
and its sinks do there is in the abstract hooks they implement (``target.py``, ``sinks.py``), named for when
the SDK calls them.
"""

from __future__ import annotations

import abc
import sys
from collections.abc import Mapping
from types import FrameType
from typing import Any

import msgspec
from singer_sdk.helpers.conform import DatetimeErrorTreatmentEnum
from singer_sdk.sinks import BatchSink, Sink
from singer_sdk.sinks.core import BaseJSONSchemaValidator
from singer_sdk.target_base import Target
from typing_extensions import override

from target_looker_stage.table_spec import DELETED_AT_COLUMN

#: STATE out as it came in: ``Decimal`` as its exact number text (``0.10`` stays ``0.10``).
STATE_ENCODER = msgspec.json.Encoder(decimal_format="number")

#: The SDK's record metadata columns but ``_sdc_deleted_at``, which is data here (it marks deletes).
_SDC_COLUMNS = (
    "_sdc_extracted_at",
    "_sdc_received_at",
    "_sdc_batched_at",
    "_sdc_sequence",
    "_sdc_table_version",
    "_sdc_sync_started_at",
)
_DELETED_AT_SCHEMA = {"type": ["null", "string"], "format": "date-time"}


class TargetSeams(Target):
    """The target's overrides of private ``Target`` methods, and its reads of ``Target._sinks_active``."""

    # -- hooks (the target's side of each seam)
    @abc.abstractmethod
    def drain_finished(self) -> None:
        """Every sink of a full drain has handed over its batch (a STATE of the drain went to relay_state)."""

    @abc.abstractmethod
    def relay_state(self, line: str) -> None:
        """The drain's STATE, encoded: write it to stdout once every batch before it is committed."""

    @abc.abstractmethod
    def before_table_message(self) -> None:
        """A SCHEMA, ACTIVATE_VERSION or BATCH message is next: it may create or change a table."""

    @abc.abstractmethod
    def stopping(self, signum: int) -> None:
        """SIGTERM/SIGINT: the process exits with 128+signal right after this, without draining."""

    @abc.abstractmethod
    def take_decoded_record(self, message: dict[str, Any]) -> bool:
        """A RECORD message the reader decoded: True when the target took it, False for the SDK's path."""

    @abc.abstractmethod
    def record_counted(self) -> None:
        """A RECORD went through the SDK's per-record path."""

    @abc.abstractmethod
    def state_received(self) -> None:
        """A STATE message was stored as the latest one (relayed by the next full drain)."""

    # -- reads of private attributes
    def active_sinks(self) -> Mapping[str, Sink]:
        # Target._sinks_active: stream name (after stream maps, its alias) -> the stream's current sink.
        return self._sinks_active

    # -- overrides
    @override
    def _write_state_message(self, state: dict[str, Any]) -> None:
        # drain_all() calls it once per full drain, after every sink is drained, with a copy of the latest
        # STATE, and the SDK's writes it to stdout at once with json.dumps, which cannot encode the reader's
        # Decimals (a float bookmark would crash every run after its commit).
        self.relay_state(STATE_ENCODER.encode(state).decode())

    @override
    def _reset_max_record_age(self) -> None:
        # drain_all() calls it last on every full drain (after _write_state_message when there is a STATE).
        self.drain_finished()
        super()._reset_max_record_age()

    @override
    def _process_schema_message(self, message_dict: dict[str, Any]) -> None:
        # Each SCHEMA: get_sink, which creates the stream's sink (its table) when new or changed.
        self.before_table_message()
        super()._process_schema_message(message_dict)

    @override
    def _process_activate_version_message(self, message_dict: dict[str, Any]) -> None:
        # Each ACTIVATE_VERSION: the stream's sink acts on its table (activate_version).
        self.before_table_message()
        super()._process_activate_version_message(message_dict)

    @override
    def _process_batch_message(self, message_dict: dict[str, Any]) -> None:
        # Each BATCH: the stream's sink loads the listed files (process_batch_files).
        self.before_table_message()
        super()._process_batch_message(message_dict)

    @override
    def _handle_max_record_age(self) -> None:
        # Called after every RECORD and BATCH message: drains all sinks once the oldest record is 5 minutes
        # old. Off: timer-driven drains would cut batches at input-independent points (target.py docstring).
        pass

    @override
    def _process_record_message(self, message_dict: dict[str, Any]) -> None:
        # Each decoded RECORD: stream maps, get_sink, _validate_and_parse, preprocess_record, process_record,
        # then drain_one when the sink is full.
        if self.take_decoded_record(message_dict):
            return
        super()._process_record_message(message_dict)
        self.record_counted()

    @override
    def _process_state_message(self, message_dict: dict[str, Any]) -> None:
        # Stores the STATE as _latest_state (unless unchanged); drain_all relays it.
        super()._process_state_message(message_dict)
        self.state_received()

    @override
    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        # The SIGTERM/SIGINT handler drains every sink (is_endofpipe) and exits. Here: exit 128+signal without
        # draining: records after the last relayed STATE are re-sent by the next run anyway, and a drain here
        # would cut a batch at an arbitrary point.
        _ = frame
        self.stopping(signum)
        self.logger.warning("Signal %d: stopping; records after the last STATE will be re-read", signum)
        sys.exit(128 + signum)


class SinkSeams(BatchSink):
    """The sink's overrides of private ``Sink`` methods, and its reads of ``Sink._pending_batch`` and
    ``Sink._validator``."""

    # -- hooks (the sink's side of each seam)
    @abc.abstractmethod
    def check_record(self, record: dict[str, Any], validator: BaseJSONSchemaValidator | None) -> None:
        """Raise for a record the table cannot take (``validator``: ``get_validator()``'s, None when off)."""

    # -- reads of private attributes and the SDK's per-record steps
    def pending_batch(self) -> dict[str, Any] | None:
        # Sink._pending_batch: the context of the batch being filled; None before its first record (until
        # BatchSink._get_context starts one) and again from start_drain().
        return self._pending_batch

    def batch_to_fill(self) -> dict[str, Any]:
        # BatchSink._get_context(record) returns the pending batch, first starting one (start_batch) if none.
        return self._pending_batch if self._pending_batch is not None else self._get_context({})

    def sdk_record_steps(self, record: dict[str, Any]) -> dict[str, Any]:
        # The steps Target._process_record_message runs per record between the stream map and process_record
        # (the metadata removal when add_record_metadata is off, which the batch-native path requires).
        self._remove_sdc_metadata_from_record(record)
        self._validate_and_parse(record)
        record = self.preprocess_record(record, {})
        self._singer_validate_message(record)  # every key property present
        return record

    # -- overrides
    @override
    def _remove_sdc_metadata_from_schema(self) -> None:
        # Sink.__init__ calls it when add_record_metadata is off; the SDK's drops _sdc_deleted_at too.
        properties = self.schema.setdefault("properties", {})
        for column in _SDC_COLUMNS:
            properties.pop(column, None)
        properties.setdefault(DELETED_AT_COLUMN, dict(_DELETED_AT_SCHEMA))

    @override
    def _remove_sdc_metadata_from_record(self, record: dict[str, Any]) -> None:
        # Target._process_record_message calls it per record when add_record_metadata is off; the SDK's drops
        # _sdc_deleted_at too.
        for column in _SDC_COLUMNS:
            record.pop(column, None)

    @override
    def _after_process_record(self, context: dict[str, Any]) -> None:
        # Called after every record; the SDK's logs the whole batch context at DEBUG: every record so far
        # (customer data in the logs, and output growing with the square of the batch). Nothing here.
        _ = context

    @override
    def _parse_timestamps_in_record(
        self, record: dict[str, Any], schema: dict[str, Any], treatment: DatetimeErrorTreatmentEnum
    ) -> None:
        # The SDK's _validate_and_parse calls it per record to parse date-time strings in Python. Left to
        # arrow_batch: one vectorized Arrow cast per column and batch (a bad value is reported there).
        _ = (record, schema, treatment)

    @override
    def _validate_and_parse(self, record: dict[str, Any]) -> dict[str, Any]:
        # Target._process_record_message calls it per record; the SDK's validates with _validator (the
        # get_validator() result Sink.__init__ stored), logs the failure with the whole record, then parses
        # timestamps. Here: check_record only, its errors one line without record values.
        self.check_record(record, self._validator)
        return record
