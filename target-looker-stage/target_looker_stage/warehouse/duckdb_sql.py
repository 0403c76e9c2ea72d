"""SQL for the DuckDB warehouse: type mapping, quoting, casts along WIDENINGS, and the table's DDL (the
renderers of ``evolution``'s steps, as ``postgres_sql`` has them for PostgreSQL).

Every identifier goes through ``q``; types come from the fixed map below, not input.
"""

from __future__ import annotations

from typing import Final

from target_looker_stage.table_spec import DECIMAL_PRECISION, DECIMAL_SCALE, ColumnKind, TableSpec

DUCKDB_TYPES: Final[dict[ColumnKind, str]] = {
    "string": "VARCHAR",
    "decimal": f"DECIMAL({DECIMAL_PRECISION},{DECIMAL_SCALE})",
    "double": "DOUBLE",
    "integer": "BIGINT",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP WITH TIME ZONE",
    "date": "DATE",
    "json": "JSON",
}
KIND_OF_DUCKDB_TYPE: Final[dict[str, ColumnKind]] = {v: k for k, v in DUCKDB_TYPES.items()}


def cast(expression: str, from_kind: ColumnKind, to_kind: ColumnKind) -> str:
    """``expression`` of ``from_kind`` as ``to_kind`` (a widening): the same text for a value everywhere."""
    if from_kind == to_kind:
        return expression
    if to_kind == "string" and from_kind == "decimal":
        return f"rtrim(rtrim(CAST({expression} AS VARCHAR), '0'), '.')"
    if to_kind == "string" and from_kind == "timestamp":
        return f"strftime({expression} AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ')"
    if to_kind == "timestamp" and from_kind == "date":
        return f"(CAST({expression} AS TIMESTAMP) AT TIME ZONE 'UTC')"
    return f"CAST({expression} AS {DUCKDB_TYPES[to_kind]})"


def q(identifier: str) -> str:
    """A quoted DuckDB identifier."""
    return '"' + identifier.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A DuckDB string literal."""
    return "'" + text.replace("'", "''") + "'"


def qualified(spec: TableSpec) -> str:
    return f"{q(spec.schema_name)}.{q(spec.name)}"


def _key(spec: TableSpec) -> str:
    return f"PRIMARY KEY ({', '.join(q(k) for k in spec.key_properties)})"


def create_table(spec: TableSpec, with_primary_key: bool) -> str:
    parts = [f"{q(c.name)} {DUCKDB_TYPES[c.kind]}" for c in spec.columns]
    if with_primary_key:
        parts.append(_key(spec))
    return f"CREATE TABLE IF NOT EXISTS {qualified(spec)} ({', '.join(parts)})"


def add_column(spec: TableSpec, name: str, kind: ColumnKind) -> str:
    return f"ALTER TABLE {qualified(spec)} ADD COLUMN {q(name)} {DUCKDB_TYPES[kind]}"


def widen_column(spec: TableSpec, name: str, old: ColumnKind, new: ColumnKind) -> str:
    column = q(name)
    return (
        f"ALTER TABLE {qualified(spec)} ALTER COLUMN {column} SET DATA TYPE {DUCKDB_TYPES[new]} "
        f"USING {cast(column, old, new)}"
    )


def add_primary_key(spec: TableSpec) -> str:
    return f"ALTER TABLE {qualified(spec)} ADD {_key(spec)}"
