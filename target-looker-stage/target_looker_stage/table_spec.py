"""The warehouse- and format-neutral description of one stream's table, shared by the stage and warehouses.

A batch travels as a ``pyarrow.Table`` whose columns follow ``TableSpec.columns`` in order, with these Arrow
types per ``ColumnKind``:

- ``string``    -> ``pa.string()``
- ``decimal``   -> ``pa.decimal128(DECIMAL_PRECISION, DECIMAL_SCALE)`` (money: never float)
- ``double``    -> ``pa.float64()``: only a ``number`` column the ``double_columns`` setting names, for other
  taps' measurements and ratios (``0.30000000000000004``); never chosen by default
- ``integer``   -> ``pa.int64()``
- ``boolean``   -> ``pa.bool_()``
- ``timestamp`` -> ``pa.timestamp("us", tz="UTC")``
- ``date``      -> ``pa.date32()``
- ``json``      -> ``pa.string()`` holding JSON text (decimals written as exact JSON numbers)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnKind = Literal["string", "decimal", "double", "integer", "boolean", "timestamp", "date", "json"]

DECIMAL_PRECISION = 38
DECIMAL_SCALE = 9

#: Column that orders versions of one row: a higher value wins, NULL loses to anything.
#: Derived from the record's SyncToken (a decimal integer in a string); a delete stub gets DELETE_VERSION.
SYNC_VERSION_COLUMN = "_sdc_sync_version"
DELETE_VERSION = 2**62
DELETED_AT_COLUMN = "_sdc_deleted_at"
#: The table (in each target schema) recording when each stream was last loaded: one row per stream,
#: written after the run's data and STATE (``Warehouse.record_loads``); dbt's source freshness reads it.
LOADS_TABLE = "_sdc_loads"


@dataclass(frozen=True)
class StreamLoad:
    """One stream's successful load in this run (``rows`` may be 0: an idle incremental run is a load too)."""

    stream_name: str
    table_name: str
    rows: int


#: Widening that ``ensure_table`` applies in place; any other type change is a SchemaChangeError.
WIDENINGS: frozenset[tuple[ColumnKind, ColumnKind]] = frozenset(
    {
        ("integer", "decimal"),
        ("date", "timestamp"),
        ("integer", "string"),
        ("decimal", "string"),
        ("integer", "double"),
        ("double", "string"),
        ("boolean", "string"),
        ("date", "string"),
        ("timestamp", "string"),
    }
)


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    kind: ColumnKind
    nullable: bool = True


@dataclass(frozen=True)
class TableSpec:
    """One stream's table. ``name`` is the table name (``schema_mapping.table_name_for``: the stream name when
    it is a plain identifier, else sanitised + a hash; one table per stream, at most 63 bytes; quoted anyway),
    ``stream_name`` the stream's. Column names are the property names as sent."""

    schema_name: str
    name: str
    columns: tuple[ColumnSpec, ...]
    key_properties: tuple[str, ...]
    load_method: Literal["upsert", "append"] = "upsert"
    hard_delete: bool = False
    stream_name: str = field(default="")

    def column(self, name: str) -> ColumnSpec | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]
