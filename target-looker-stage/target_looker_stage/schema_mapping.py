"""From a stream's JSON schema to its ``TableSpec``: one column per top-level property.

Nested objects and arrays stay whole (``json`` kind) so dbt can unnest them; numbers are exact decimals
(DOUBLE only for a column the ``double_columns`` setting names and whose schema has no ``multipleOf``),
integers BIGINT, ``date-time`` strings timestamps, ``date`` strings dates. ``anyOf``/``oneOf`` and
``["null", ...]`` unions resolve to the one non-null kind they describe, or to ``string``/``json`` when
they mix several.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from target_looker_stage.errors import ConfigError, SchemaChangeError
from target_looker_stage.table_spec import (
    DELETED_AT_COLUMN,
    SYNC_VERSION_COLUMN,
    ColumnKind,
    ColumnSpec,
    TableSpec,
)

#: PostgreSQL keeps the first 63 bytes of an identifier (NAMEDATALEN - 1) and silently drops the rest.
MAX_IDENTIFIER_BYTES = 63
_PLAIN_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NAME_HASH_CHARS = 8
#: The table comment recording which stream a table holds: PREFIX + the stream name as a JSON string.
TABLE_COMMENT_PREFIX = "target-looker-stage stream: "


def table_name_for(stream_name: str) -> str:
    """The table of a stream: one table per stream, never two streams in one table (the mapping is injective).

    A stream name that is already a plain identifier (ASCII letters, digits, '_', not starting with a digit)
    of at most MAX_IDENTIFIER_BYTES is the table name as it is (``invoices`` -> ``invoices``). Any other name
    is sanitised (other characters become '_') and gets '_' + a short stable hash of the original name, cut to
    fit MAX_IDENTIFIER_BYTES: ``a/b``, ``a.b`` and ``a-b`` become three tables, none of them ``a_b``. The same
    rule holds for every warehouse, so DuckDB and PostgreSQL tables (and the manifest) carry the same names.
    """
    if len(stream_name) <= MAX_IDENTIFIER_BYTES and _PLAIN_IDENTIFIER.fullmatch(stream_name):
        return stream_name
    digest = hashlib.blake2b(stream_name.encode(), digest_size=_NAME_HASH_CHARS // 2).hexdigest()
    readable = re.sub(r"[^A-Za-z0-9_]", "_", stream_name)
    if not readable or readable[0].isdigit():
        readable = f"_{readable}"
    return f"{readable[: MAX_IDENTIFIER_BYTES - _NAME_HASH_CHARS - 1]}_{digest}"


def postgres_identifier(name: str) -> str:
    """``name`` as PostgreSQL stores it: cut to MAX_IDENTIFIER_BYTES at a character boundary (the server
    does the same to every longer identifier, so stored names are compared through this)."""
    encoded = name.encode()
    if len(encoded) <= MAX_IDENTIFIER_BYTES:
        return name
    return encoded[:MAX_IDENTIFIER_BYTES].decode(errors="ignore")


def column_identity(name: str) -> str:
    """What must differ between two columns of a table in every warehouse: DuckDB matches identifiers
    case-insensitively, PostgreSQL keeps only the first MAX_IDENTIFIER_BYTES bytes."""
    return postgres_identifier(name).lower()


def table_comment(stream_name: str) -> str:
    """The comment that records which stream a table holds (checked by ``check_table_owner``)."""
    return TABLE_COMMENT_PREFIX + json.dumps(stream_name)


def check_table_owner(spec: TableSpec, comment: str | None) -> bool:
    """Whether the table still needs its comment (it has none); SchemaChangeError when the comment says the
    table holds another stream. A comment that is not this target's is left alone and not checked."""
    if not comment:
        return True
    if not comment.startswith(TABLE_COMMENT_PREFIX):
        return False
    try:
        owner = json.loads(comment.removeprefix(TABLE_COMMENT_PREFIX))
    except ValueError:
        return False
    if owner != spec.stream_name:
        msg = (
            f"stream '{spec.stream_name}' maps to table {spec.schema_name}.{spec.name}, which holds "
            f"stream '{owner}' (recorded in the table's comment); rename one of the streams (e.g. with a "
            "stream map) or load it into another default_target_schema"
        )
        raise SchemaChangeError(msg)
    return False


def check_names(stream_name: str, columns: Sequence[ColumnSpec], key_properties: Sequence[str]) -> None:
    """Refuse, at schema arrival, names no warehouse can hold apart: an empty property name, two properties
    equal after case-folding or in their first MAX_IDENTIFIER_BYTES bytes, a key property the schema lacks.

    Column names are kept as the tap sends them (quoted; the staged Parquet keeps them too), so instead of a
    renaming rule that dbt models would have to know, a clash is one line naming the fix."""
    seen: dict[str, str] = {}
    for column in columns:
        if not column.name:
            msg = (
                f"stream '{stream_name}': the schema has a property with an empty name, which no warehouse "
                "column can have; rename it in the tap or with a stream map"
            )
            raise SchemaChangeError(msg)
        other = seen.setdefault(column_identity(column.name), column.name)
        if other != column.name:
            msg = (
                f"stream '{stream_name}': properties '{_shown(other)}' and '{_shown(column.name)}' would be "
                f"one column (DuckDB ignores case, PostgreSQL keeps {MAX_IDENTIFIER_BYTES} bytes of a name); "
                "rename one of them in the tap or with a stream map"
            )
            raise SchemaChangeError(msg)
    names = {c.name for c in columns}
    for key in key_properties:
        if key not in names:
            msg = (
                f"stream '{stream_name}': key property '{_shown(key)}' is not in the schema's properties; "
                "add it to the schema or fix key_properties in the tap"
            )
            raise SchemaChangeError(msg)


def _shown(name: str, limit: int = 80) -> str:
    return name if len(name) <= limit else f"{name[:limit]}..."


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


def column_kind(schema: Mapping[str, Any], *, double: bool = False) -> ColumnKind:
    """The column kind for one property's JSON schema. ``double``: the ``double_columns`` setting names the
    column, so a ``number`` becomes DOUBLE, unless its schema declares ``multipleOf`` (a step such as 0.01
    says the value is a decimal amount: it stays exact)."""
    types, fmt = _json_types(schema)
    if not types or types & {"object", "array"}:
        return "json"
    if types <= {"integer"}:
        return "integer"
    if types <= {"integer", "number"}:
        return "double" if double and not _declares_step(schema) else "decimal"
    if types == {"boolean"}:
        return "boolean"
    if types == {"string"}:
        if fmt == "date-time":
            return "timestamp"
        if fmt == "date":
            return "date"
        return "string"
    return "string"


def _declares_step(schema: Mapping[str, Any]) -> bool:
    """``multipleOf`` on the property or on one of its ``anyOf``/``oneOf`` options."""
    options = [o for c in ("anyOf", "oneOf") for o in schema.get(c) or () if isinstance(o, Mapping)]
    return "multipleOf" in schema or any(_declares_step(o) for o in options)


def is_double_column(patterns: Sequence[str], stream_name: str, column: str) -> bool:
    """Whether a ``double_columns`` pattern names the column: ``stream`` (every number column of the
    stream) or ``stream.column``, each with ``*``/``?`` wildcards (``*`` alone: every stream), matched
    case-sensitively like stream and property names."""
    qualified = f"{stream_name}.{column}"
    return any(fnmatch.fnmatchcase(stream_name, p) or fnmatch.fnmatchcase(qualified, p) for p in patterns)


def build_table_spec(
    *,
    stream_name: str,
    schema: Mapping[str, Any],
    key_properties: Sequence[str],
    schema_name: str,
    load_method: Literal["upsert", "append"],
    hard_delete: bool,
    double_columns: Sequence[str] = (),
) -> TableSpec:
    """The table for a stream. Always carries DELETED_AT_COLUMN and SYNC_VERSION_COLUMN (last), so deletes and
    version ordering work for any tap; upsert without key properties degrades to append. ``double_columns``:
    the setting's patterns (``is_double_column``)."""
    properties: Mapping[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    columns: list[ColumnSpec] = []
    for name, prop in properties.items():
        if name == SYNC_VERSION_COLUMN:
            continue
        kind: ColumnKind = "timestamp"
        if name != DELETED_AT_COLUMN:
            double = is_double_column(double_columns, stream_name, name)
            kind = column_kind(prop if isinstance(prop, Mapping) else {}, double=double)
        columns.append(ColumnSpec(name, kind, nullable=name not in required and name not in key_properties))
    if DELETED_AT_COLUMN not in properties:
        columns.append(ColumnSpec(DELETED_AT_COLUMN, "timestamp"))
    columns.append(ColumnSpec(SYNC_VERSION_COLUMN, "integer"))
    keys = tuple(key_properties)
    check_names(stream_name, columns, keys)
    if len(schema_name.encode()) > MAX_IDENTIFIER_BYTES:
        msg = (
            f"default_target_schema '{_shown(schema_name)}' is {len(schema_name.encode())} bytes, over the "
            f"{MAX_IDENTIFIER_BYTES} bytes PostgreSQL keeps of a name; choose a shorter schema name"
        )
        raise ConfigError(msg)
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
