"""What a sink writes to and reports to, handed over by the target: a sink never reaches back into it.

The target builds one ``Destinations`` at the first SCHEMA (so ``--about`` never opens a destination) and
every sink reads it once, in its ``__init__``, from ``TargetLookerStage.sink_destinations``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from target_looker_stage.commit_pipeline import Task
from target_looker_stage.errors import SchemaChangeError
from target_looker_stage.table_spec import LOADS_TABLE, TableSpec

if TYPE_CHECKING:
    import pyarrow as pa

    from target_looker_stage.settings import TargetSettings
    from target_looker_stage.stage import StageWriter
    from target_looker_stage.warehouse.base import Warehouse


@dataclass(frozen=True)
class Destinations:
    settings: TargetSettings
    #: None: staging skipped (empty ``stage_uri``).
    stage: StageWriter | None
    #: None: the warehouse skipped (empty ``warehouse_uri``).
    warehouse: Warehouse | None
    #: Runs a batch's commit (stage, merge, publish) on the target's commit thread, in input order, behind
    #: the reading of the next batch (``commit_pipeline``); raises an earlier commit's error instead.
    submit_commit: Callable[[Task], None]
    #: Called after a batch is merged and its files are published, before its STATE:
    #: (the table's spec, the committed rows, the number of files staged).
    committed: Callable[[TableSpec, pa.Table, int], None]
    #: Registers the sink's table for its stream in this run; SchemaChangeError when the table is taken.
    claim_table: Callable[[TableSpec], None]
    #: A RECORD line kept as bytes (and its input line number) -> its message, decoded as the reader would.
    decode_line: Callable[[bytes, int], dict[str, Any]]


@dataclass
class TablesInRun:
    """The tables loaded in one run. A second stream whose table is one already loaded in this run is refused
    (compared case-insensitively, as DuckDB does); across runs the table's comment does the same
    (``schema_mapping.check_table_owner``)."""

    #: stream -> its table: each stream's load is recorded at the end of the run (``LOADS_TABLE``).
    by_stream: dict[str, TableSpec] = field(default_factory=dict)
    _owners: dict[tuple[str, str], str] = field(default_factory=dict)

    def claim(self, spec: TableSpec) -> None:
        if spec.name.lower() == LOADS_TABLE:
            msg = (
                f"stream '{spec.stream_name}' maps to {spec.schema_name}.{spec.name}, the table where this "
                "target records load times; rename the stream (e.g. with a stream map)"
            )
            raise SchemaChangeError(msg)
        owner = self._owners.setdefault((spec.schema_name.lower(), spec.name.lower()), spec.stream_name)
        if owner != spec.stream_name:
            msg = (
                f"streams '{owner}' and '{spec.stream_name}' both map to table "
                f"{spec.schema_name}.{spec.name}; rename one of them (e.g. with a stream map)"
            )
            raise SchemaChangeError(msg)
        self.by_stream[spec.stream_name] = spec
