"""From a stream's JSON schema to its ``TableSpec``: one column per top-level property.

Nested objects and arrays stay whole (``json`` kind) so dbt can unnest them; numbers are exact decimals,
integers BIGINT, ``date-time`` strings timestamps, ``date`` strings dates. ``anyOf``/``oneOf`` and
``["null", ...]`` unions resolve to the one non-null kind they describe, or to ``string``/``json`` when
they mix several.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from target_looker_stage.table_spec import (
    DELETED_AT_COLUMN,
    SYNC_VERSION_COLUMN,
    ColumnKind,
    ColumnSpec,
    TableSpec,
)


def table_name_for(stream_name: str) -> str:
    """A stream name as a plain identifier: anything but letters, digits and '_' becomes '_'."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", stream_name)
    return name if name and not name[0].isdigit() else f"_{name}"


def _json_types(schema: Mapping[str, Any]) -> tuple[set[str], str | None]:
    """The non-null JSON types a (sub)schema allows, and the string format if exactly one is declared."""
    types: set[str] = set()
    formats: set[str] = set()
    declared = schema.get("type")
    if isinstance(declared, str):
        types.add(declared)
    elif isinstance(declared, list):
        types.update(t for t in declared if isinstance(t, str))
    if "format" in schema and isinstance(schema["format"], str):
        formats.add(schema["format"])
    for combinator in ("anyOf", "oneOf"):
        for option in schema.get(combinator) or ():
            if isinstance(option, Mapping):
                sub_types, sub_format = _json_types(option)
                types.update(sub_types)
                if sub_format is not None:
                    formats.add(sub_format)
    if "properties" in schema and not types:
        types.add("object")
    types.discard("null")
    return types, (formats.pop() if len(formats) == 1 else None)


def column_kind(schema: Mapping[str, Any]) -> ColumnKind:
    """The column kind for one property's JSON schema."""
    types, fmt = _json_types(schema)
    if not types or types & {"object", "array"}:
        return "json"
    if types <= {"integer"}:
        return "integer"
    if types <= {"integer", "number"}:
        return "decimal"
    if types == {"boolean"}:
        return "boolean"
    if types == {"string"}:
        if fmt == "date-time":
            return "timestamp"
        if fmt == "date":
            return "date"
        return "string"
    return "string"


def build_table_spec(
    *,
    stream_name: str,
    schema: Mapping[str, Any],
    key_properties: Sequence[str],
    schema_name: str,
    load_method: Literal["upsert", "append"],
    hard_delete: bool,
) -> TableSpec:
    """The table for a stream. Always carries DELETED_AT_COLUMN and SYNC_VERSION_COLUMN (last), so deletes and
    version ordering work for any tap; upsert without key properties degrades to append."""
    properties: Mapping[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    columns: list[ColumnSpec] = []
    for name, prop in properties.items():
        if name == SYNC_VERSION_COLUMN:
            continue
        kind: ColumnKind = "timestamp"
        if name != DELETED_AT_COLUMN:
            kind = column_kind(prop if isinstance(prop, Mapping) else {})
        columns.append(ColumnSpec(name, kind, nullable=name not in required and name not in key_properties))
    if DELETED_AT_COLUMN not in properties:
        columns.append(ColumnSpec(DELETED_AT_COLUMN, "timestamp"))
    columns.append(ColumnSpec(SYNC_VERSION_COLUMN, "integer"))
    keys = tuple(key_properties)
    return TableSpec(
        schema_name=schema_name,
        name=table_name_for(stream_name),
        columns=tuple(columns),
        key_properties=keys,
        load_method=load_method if keys else "append",
        hard_delete=hard_delete,
        stream_name=stream_name,
    )


def schema_version(spec: TableSpec) -> str:
    """A short, stable hash of what the staged files look like (columns, kinds, keys)."""
    payload = json.dumps(
        {"columns": [[c.name, c.kind] for c in spec.columns], "keys": list(spec.key_properties)},
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]
