"""The warehouse a batch is merged into: DuckDB (embedded default) or PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    import pyarrow as pa

    from target_looker_stage.table_spec import StreamLoad, TableSpec


class Warehouse(Protocol):
    #: The connection target for logs and summaries, with the password removed.
    display_uri: str

    def check(self) -> None:
        """Raise WarehouseError (one line: what failed, how to fix) when the warehouse cannot be reached."""

    def ensure_table(self, spec: TableSpec) -> None:
        """Create the schema and table if missing, or evolve the table.

        The primary key is ``spec.key_properties`` when upserting. New columns are added; a column is widened
        along ``WIDENINGS``; anything else raises SchemaChangeError naming stream, column, old and new type.
        Nested data is stored as native JSON (DuckDB JSON, PostgreSQL jsonb), decimals as
        DECIMAL/NUMERIC(DECIMAL_PRECISION, DECIMAL_SCALE), timestamps as TIMESTAMPTZ.
        """

    def merge(self, spec: TableSpec, rows: pa.Table) -> int:
        """Apply one batch in ONE transaction, committed before returning (durable).

        ``rows`` has no duplicate keys (the sink collapsed them to the newest).
        Upsert: insert new keys; for an existing key, update only when the stored SYNC_VERSION_COLUMN is NULL
        or <= the incoming one (an older SyncToken never overwrites a newer row); rows whose DELETED_AT_COLUMN
        is set are deleted instead when ``spec.hard_delete``. Append: insert all.
        Returns the number of rows written.
        """

    def record_loads(self, schema_name: str, loads: Sequence[StreamLoad], loaded_at: datetime) -> None:
        """Upsert one LOADS_TABLE row per stream (stream_name, table_name, loaded_at, rows_loaded) in one
        durable transaction, creating the table when missing. Called once at the end of a successful run."""

    def close(self) -> None:
        """Release the connection."""
