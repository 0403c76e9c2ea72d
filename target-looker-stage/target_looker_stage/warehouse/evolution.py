"""How an existing table becomes a stream's ``TableSpec``: one planner for every warehouse.

Pure (no SQL, no connection): given the stored columns and primary key, it returns the ordered steps that
bring the table to the spec, or raises SchemaChangeError before any of them runs. Each warehouse renders the
steps to its own SQL and runs them in one transaction, so DuckDB and PostgreSQL evolve a table alike and
refuse a change with the same one-line message. The two warehouses only differ in how they match names
(``identity``: DuckDB ignores case, PostgreSQL keeps the first 63 bytes) and how they spell types.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from target_looker_stage.errors import SchemaChangeError
from target_looker_stage.table_spec import WIDENINGS, ColumnKind, TableSpec


class StoredColumn(NamedTuple):
    """A column as the warehouse holds it: its type as the warehouse spells it, and its kind (None when the
    type is not one this target creates, such as a column someone added by hand)."""

    type_text: str
    kind: ColumnKind | None


@dataclass(frozen=True)
class AddColumn:
    name: str
    kind: ColumnKind


@dataclass(frozen=True)
class WidenColumn:
    """Change a stored column's type in place along WIDENINGS (``old`` -> ``new``), converting its values."""

    name: str
    old: ColumnKind
    new: ColumnKind


@dataclass(frozen=True)
class AddPrimaryKey:
    """The table was created without a key (``load_method: append``) and the stream now upserts into it."""

    keys: tuple[str, ...]


Step = AddColumn | WidenColumn | AddPrimaryKey


@dataclass(frozen=True)
class Plan:
    """``steps`` in the order they must run; ``stored_kinds``: each spec column's kind once they ran (a
    narrower incoming kind keeps the wider stored one, and the merge casts into it)."""

    steps: tuple[Step, ...]
    stored_kinds: dict[str, ColumnKind]


def upserts(spec: TableSpec) -> bool:
    """Whether the stream's rows are merged by key (so the table needs the stream's primary key)."""
    return spec.load_method == "upsert" and bool(spec.key_properties)


def plan(
    spec: TableSpec,
    stored: Mapping[str, StoredColumn],
    stored_key: Sequence[str],
    *,
    identity: Callable[[str], str],
    type_names: Mapping[ColumnKind, str],
) -> Plan:
    """The steps that bring an existing table (``stored``: its columns by stored name; ``stored_key``: its
    primary key, empty for none) to ``spec``, or SchemaChangeError. ``identity``: a name as the warehouse
    compares it (applied to stored and spec names alike); ``type_names``: how it spells each kind."""
    by_identity = {identity(name): column for name, column in stored.items()}
    if stored_key and not spec.key_properties:
        raise keys_removed(spec, stored_key)
    key_steps: list[Step] = []
    if upserts(spec) and [identity(k) for k in stored_key] != [identity(k) for k in spec.key_properties]:
        if stored_key:
            raise key_changed(spec, stored_key)
        key_steps.append(AddPrimaryKey(spec.key_properties))
    steps: list[Step] = []
    kinds: dict[str, ColumnKind] = {}
    for column in spec.columns:
        found = by_identity.get(identity(column.name))
        if found is None:
            steps.append(AddColumn(column.name, column.kind))
            kinds[column.name] = column.kind
        elif found.kind == column.kind or (found.kind is not None and (column.kind, found.kind) in WIDENINGS):
            kinds[column.name] = found.kind  # the same, or the stored column already holds a wider kind
        elif found.kind is not None and (found.kind, column.kind) in WIDENINGS:
            steps.append(WidenColumn(column.name, found.kind, column.kind))
            kinds[column.name] = column.kind
        else:
            raise type_changed(spec, column.name, found.type_text, type_names[column.kind])
    # The key last: DuckDB cannot change the type of a key column, so a widened column is widened first.
    return Plan(tuple(steps + key_steps), kinds)


def _stream(spec: TableSpec) -> str:
    return spec.stream_name or spec.name


def _table(spec: TableSpec) -> str:
    return f"{spec.schema_name}.{spec.name}"


def type_changed(spec: TableSpec, column: str, old: str, new: str) -> SchemaChangeError:
    """A column would change type in a way no widening covers (old and new as the warehouse spells them)."""
    return SchemaChangeError(
        f"stream '{_stream(spec)}': column '{column}' cannot change from {old} to {new} in {_table(spec)} "
        "(not a widening the target applies); migrate or rename the column (or drop the table to reload "
        "it) and re-run"
    )


def key_changed(spec: TableSpec, stored_key: Sequence[str]) -> SchemaChangeError:
    return SchemaChangeError(
        f"stream '{_stream(spec)}': table {_table(spec)} has primary key ({', '.join(stored_key)}) but the "
        f"stream now declares ({', '.join(spec.key_properties)}); rename or drop the table to change the key"
    )


def keys_removed(spec: TableSpec, stored_key: Sequence[str]) -> SchemaChangeError:
    """The table has a primary key but the stream now declares none: appending would break the key."""
    return SchemaChangeError(
        f"stream '{_stream(spec)}': table {_table(spec)} has primary key ({', '.join(stored_key)}) but the "
        "stream now declares no key properties; declare them again in the tap (key_properties), or drop or "
        "rename the table to load the stream without a key"
    )


def key_not_addable(spec: TableSpec) -> SchemaChangeError:
    """AddPrimaryKey failed: the rows appended so far repeat a key or leave part of it NULL."""
    return SchemaChangeError(
        f"stream '{_stream(spec)}': table {_table(spec)} has no primary key and its rows repeat a "
        f"({', '.join(spec.key_properties)}) key or leave it null, so upserts cannot add one; remove those "
        "rows (or drop the table to reload it), or keep load_method: append"
    )
