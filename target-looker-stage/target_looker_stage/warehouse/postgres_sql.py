"""SQL for the PostgreSQL warehouse: type mapping, casts along WIDENINGS, and the merge statements.

Every identifier goes through ``psycopg.sql.Identifier``; types come from the fixed map below, not input.
"""

from __future__ import annotations

from typing import Final

from psycopg import sql

from target_looker_stage.table_spec import (
    DECIMAL_PRECISION,
    DECIMAL_SCALE,
    DELETED_AT_COLUMN,
    SYNC_VERSION_COLUMN,
    ColumnKind,
    TableSpec,
)

PG_TYPES: Final[dict[ColumnKind, str]] = {
    "string": "text",
    "decimal": f"numeric({DECIMAL_PRECISION},{DECIMAL_SCALE})",
    "double": "double precision",
    "integer": "bigint",
    "boolean": "boolean",
    "timestamp": "timestamp with time zone",
    "date": "date",
    "json": "jsonb",
}
#: ``format_type()`` spelling -> kind (what this target created, plus the obvious aliases).
KIND_OF_PG_TYPE: Final[dict[str, ColumnKind]] = {
    **{pg: kind for kind, pg in PG_TYPES.items()},
    "character varying": "string",
}

STAGE_TABLE: Final = "_target_looker_stage_batch"
METADATA_PREFIX: Final = "_sdc_"


def cast(expr: sql.Composable, from_kind: ColumnKind, to_kind: ColumnKind) -> sql.Composable:
    """``expr`` (of ``from_kind``) as ``to_kind``: widening casts, same text for the same value everywhere."""
    if from_kind == to_kind:
        return expr
    if to_kind == "string" and from_kind == "decimal":
        return sql.SQL("trim_scale({})::text").format(expr)
    if to_kind == "string" and from_kind == "timestamp":
        return sql.SQL("""to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')""").format(expr)
    if to_kind == "timestamp" and from_kind == "date":
        return sql.SQL("({}::timestamp AT TIME ZONE 'UTC')").format(expr)
    return sql.SQL("({})::{}").format(expr, sql.SQL(PG_TYPES[to_kind]))


def qualified(spec: TableSpec) -> sql.Identifier:
    return sql.Identifier(spec.schema_name, spec.name)


def create_table(spec: TableSpec, with_primary_key: bool) -> sql.Composed:
    parts: list[sql.Composable] = [
        sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(PG_TYPES[c.kind])) for c in spec.columns
    ]
    if with_primary_key:
        keys = sql.SQL(", ").join(sql.Identifier(k) for k in spec.key_properties)
        parts.append(sql.SQL("PRIMARY KEY ({})").format(keys))
    return sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(qualified(spec), sql.SQL(", ").join(parts))


def comment_table(spec: TableSpec, comment: str) -> sql.Composed:
    return sql.SQL("COMMENT ON TABLE {} IS {}").format(qualified(spec), sql.Literal(comment))


def add_column(spec: TableSpec, name: str, kind: ColumnKind) -> sql.Composed:
    return sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}").format(
        qualified(spec), sql.Identifier(name), sql.SQL(PG_TYPES[kind])
    )


def widen_column(spec: TableSpec, name: str, old: ColumnKind, new: ColumnKind) -> sql.Composed:
    column = sql.Identifier(name)
    return sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE {} USING {}").format(
        qualified(spec), column, sql.SQL(PG_TYPES[new]), cast(column, old, new)
    )


def add_primary_key(spec: TableSpec) -> sql.Composed:
    keys = sql.SQL(", ").join(sql.Identifier(k) for k in spec.key_properties)
    return sql.SQL("ALTER TABLE {} ADD PRIMARY KEY ({})").format(qualified(spec), keys)


def create_stage(spec: TableSpec) -> sql.Composed:
    """A temporary table shaped like the batch (the incoming kinds), dropped at commit."""
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(PG_TYPES[c.kind])) for c in spec.columns
    )
    return sql.SQL("CREATE TEMPORARY TABLE {} ({}) ON COMMIT DROP").format(
        sql.Identifier(STAGE_TABLE), columns
    )


def copy_stage(spec: TableSpec) -> sql.Composed:
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in spec.column_names)
    return sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(sql.Identifier(STAGE_TABLE), columns)


def _insert_select(spec: TableSpec, stored: dict[str, ColumnKind], where: sql.Composable) -> sql.Composed:
    names = spec.column_names
    targets = sql.SQL(", ").join(sql.Identifier(n) for n in names)
    values = sql.SQL(", ").join(
        cast(sql.Identifier("s", c.name), c.kind, stored.get(c.name, c.kind)) for c in spec.columns
    )
    return sql.SQL("INSERT INTO {} AS t ({}) SELECT {} FROM {} AS s{}").format(
        qualified(spec), targets, values, sql.Identifier(STAGE_TABLE), where
    )


def insert_all(spec: TableSpec, stored: dict[str, ColumnKind]) -> sql.Composed:
    return _insert_select(spec, stored, sql.SQL(""))


def delete_deleted_keys(spec: TableSpec) -> sql.Composed:
    """Hard delete: remove the stored rows whose key arrives with DELETED_AT_COLUMN set."""
    match = sql.SQL(" AND ").join(
        sql.SQL("t.{k} = s.{k}").format(k=sql.Identifier(k)) for k in spec.key_properties
    )
    return sql.SQL("DELETE FROM {} AS t USING {} AS s WHERE {} AND s.{} IS NOT NULL").format(
        qualified(spec), sql.Identifier(STAGE_TABLE), match, sql.Identifier(DELETED_AT_COLUMN)
    )


def upsert(spec: TableSpec, stored: dict[str, ColumnKind]) -> sql.Composed:
    """INSERT ... ON CONFLICT (keys) DO UPDATE, guarded by the sync version. A soft-delete stub only touches
    the metadata columns of an existing row (never blanks its data); a hard-deleted key is not re-inserted."""
    has_deleted_at = spec.column(DELETED_AT_COLUMN) is not None
    where: sql.Composable = sql.SQL("")
    if has_deleted_at and spec.hard_delete:
        where = sql.SQL(" WHERE s.{} IS NULL").format(sql.Identifier(DELETED_AT_COLUMN))
    insert = _insert_select(spec, stored, where)
    keys = sql.SQL(", ").join(sql.Identifier(k) for k in spec.key_properties)
    updates: list[sql.Composable] = []
    for name in spec.column_names:
        if name in spec.key_properties:
            continue
        column = sql.Identifier(name)
        if has_deleted_at and not name.startswith(METADATA_PREFIX):
            value: sql.Composable = sql.SQL(
                "CASE WHEN EXCLUDED.{d} IS NULL THEN EXCLUDED.{c} ELSE t.{c} END"
            ).format(d=sql.Identifier(DELETED_AT_COLUMN), c=column)
        else:
            value = sql.SQL("EXCLUDED.{}").format(column)
        updates.append(sql.SQL("{} = {}").format(column, value))
    if not updates:
        return sql.SQL("{} ON CONFLICT ({}) DO NOTHING").format(insert, keys)
    statement = sql.SQL("{} ON CONFLICT ({}) DO UPDATE SET {}").format(
        insert, keys, sql.SQL(", ").join(updates)
    )
    if spec.column(SYNC_VERSION_COLUMN) is not None:
        version = sql.Identifier(SYNC_VERSION_COLUMN)
        statement = sql.SQL("{} WHERE t.{v} IS NULL OR t.{v} <= EXCLUDED.{v}").format(statement, v=version)
    return statement
