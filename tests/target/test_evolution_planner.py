"""The schema-evolution planner on its own (no warehouse): which steps bring a stored table to a stream's
spec, which changes it refuses, and the one-line message both warehouses give for a refusal."""

from __future__ import annotations

from typing import Literal

import pytest

from target_looker_stage.errors import SchemaChangeError
from target_looker_stage.schema_mapping import postgres_identifier
from target_looker_stage.table_spec import WIDENINGS, ColumnKind, ColumnSpec, TableSpec
from target_looker_stage.warehouse import evolution
from target_looker_stage.warehouse.duckdb_sql import DUCKDB_TYPES, KIND_OF_DUCKDB_TYPE
from target_looker_stage.warehouse.evolution import (
    AddColumn,
    AddPrimaryKey,
    Plan,
    StoredColumn,
    WidenColumn,
)
from target_looker_stage.warehouse.postgres_sql import PG_TYPES

KINDS: tuple[ColumnKind, ...] = (
    "string",
    "decimal",
    "double",
    "integer",
    "boolean",
    "timestamp",
    "date",
    "json",
)


def spec(
    *columns: tuple[str, ColumnKind],
    keys: tuple[str, ...] = ("id",),
    load_method: Literal["upsert", "append"] = "upsert",
) -> TableSpec:
    return TableSpec(
        schema_name="quickbooks",
        name="items",
        columns=tuple(ColumnSpec(name, kind) for name, kind in (("id", "integer"), *columns)),
        key_properties=keys,
        load_method=load_method,
        stream_name="items",
    )


def stored(**kinds: ColumnKind) -> dict[str, StoredColumn]:
    return {name: StoredColumn(DUCKDB_TYPES[kind], kind) for name, kind in {"id": "integer", **kinds}.items()}


def duckdb_plan(table: TableSpec, columns: dict[str, StoredColumn], key: tuple[str, ...] = ("id",)) -> Plan:
    return evolution.plan(table, columns, key, identity=str.lower, type_names=DUCKDB_TYPES)


def test_an_unchanged_table_needs_no_step() -> None:
    plan = duckdb_plan(spec(("v", "string")), stored(v="string"))
    assert plan == Plan((), {"id": "integer", "v": "string"})


def test_a_new_property_is_an_added_column() -> None:
    plan = duckdb_plan(spec(("v", "string"), ("w", "json")), stored(v="string"))
    assert plan.steps == (AddColumn("w", "json"),)
    assert plan.stored_kinds["w"] == "json"


@pytest.mark.parametrize(("old", "new"), sorted(WIDENINGS))
def test_every_widening_is_a_widen_step_and_the_column_takes_the_new_kind(
    old: ColumnKind, new: ColumnKind
) -> None:
    plan = duckdb_plan(spec(("v", new)), stored(v=old))
    assert plan.steps == (WidenColumn("v", old, new),)
    assert plan.stored_kinds["v"] == new


@pytest.mark.parametrize(("narrow", "wide"), sorted(WIDENINGS))
def test_a_narrower_incoming_kind_keeps_the_wider_stored_column(narrow: ColumnKind, wide: ColumnKind) -> None:
    plan = duckdb_plan(spec(("v", narrow)), stored(v=wide))
    assert plan.steps == ()
    assert plan.stored_kinds["v"] == wide


@pytest.mark.parametrize(
    ("old", "new"),
    [(o, n) for o in KINDS for n in KINDS if o != n and (o, n) not in WIDENINGS and (n, o) not in WIDENINGS],
)
def test_any_other_change_is_refused(old: ColumnKind, new: ColumnKind) -> None:
    with pytest.raises(SchemaChangeError) as refused:
        duckdb_plan(spec(("v", new)), stored(v=old))
    assert f"column 'v' cannot change from {DUCKDB_TYPES[old]} to {DUCKDB_TYPES[new]} in" in str(
        refused.value
    )


def test_the_refusal_is_one_line_naming_stream_column_types_table_and_fix() -> None:
    with pytest.raises(SchemaChangeError) as refused:
        duckdb_plan(spec(("v", "integer")), stored(v="boolean"))
    assert str(refused.value) == (
        "stream 'items': column 'v' cannot change from BOOLEAN to BIGINT in quickbooks.items (not a widening "
        "the target applies); migrate or rename the column (or drop the table to reload it) and re-run"
    )


def test_both_warehouses_refuse_in_the_same_words_with_their_own_type_names() -> None:
    messages = []
    for types, identity in ((DUCKDB_TYPES, str.lower), (PG_TYPES, postgres_identifier)):
        columns = {
            "id": StoredColumn(types["integer"], "integer"),
            "v": StoredColumn(types["boolean"], "boolean"),
        }
        with pytest.raises(SchemaChangeError) as refused:
            evolution.plan(spec(("v", "integer")), columns, ("id",), identity=identity, type_names=types)
        messages.append(str(refused.value))
    assert messages[0].replace("BOOLEAN to BIGINT", "boolean to bigint") == messages[1]


def test_a_stored_type_the_target_does_not_create_is_refused_by_its_stored_name() -> None:
    columns = {**stored(), "v": StoredColumn("INTEGER[]", KIND_OF_DUCKDB_TYPE.get("INTEGER[]"))}
    with pytest.raises(
        SchemaChangeError, match=r"cannot change from INTEGER\[\] to VARCHAR in quickbooks.items"
    ):
        duckdb_plan(spec(("v", "string")), columns)


def test_names_match_as_the_warehouse_compares_them() -> None:
    long_name = "x" * 60 + "é" * 3  # 66 bytes: PostgreSQL keeps the first 63 bytes (61 characters)
    table = spec(("Amount", "decimal"), (long_name, "string"), keys=("id",))
    duckdb_stored = {**stored(), "amount": StoredColumn("DECIMAL(38,9)", "decimal")}
    assert duckdb_plan(spec(("Amount", "decimal")), duckdb_stored).steps == ()
    pg_stored = {
        "id": StoredColumn("bigint", "integer"),
        "Amount": StoredColumn("numeric(38,9)", "decimal"),
        postgres_identifier(long_name): StoredColumn("text", "string"),
    }
    pg_plan = evolution.plan(table, pg_stored, ("id",), identity=postgres_identifier, type_names=PG_TYPES)
    assert pg_plan == Plan((), {"id": "integer", "Amount": "decimal", long_name: "string"})
    assert evolution.plan(
        spec(("amount", "decimal")), pg_stored, ("id",), identity=postgres_identifier, type_names=PG_TYPES
    ).steps == (AddColumn("amount", "decimal"),)  # PostgreSQL identifiers are case-sensitive


def test_a_table_without_a_key_gets_the_streams_key_after_its_columns_are_widened() -> None:
    plan = duckdb_plan(spec(("v", "string"), keys=("id", "v")), stored(v="integer"), key=())
    assert plan.steps == (WidenColumn("v", "integer", "string"), AddPrimaryKey(("id", "v")))


def test_an_appending_stream_adds_no_key() -> None:
    assert duckdb_plan(spec(load_method="append"), stored(), key=()).steps == ()


def test_a_key_that_matches_in_the_warehouses_spelling_is_kept() -> None:
    assert duckdb_plan(spec(keys=("ID",)), stored(), key=("id",)).steps == ()


def test_a_changed_key_is_refused() -> None:
    with pytest.raises(SchemaChangeError) as refused:
        duckdb_plan(spec(("v", "string"), keys=("id", "v")), stored(v="string"))
    assert str(refused.value) == (
        "stream 'items': table quickbooks.items has primary key (id) but the stream now declares (id, v); "
        "rename or drop the table to change the key"
    )


@pytest.mark.parametrize("load_method", ["upsert", "append"])
def test_a_removed_key_is_refused(load_method: Literal["upsert", "append"]) -> None:
    with pytest.raises(SchemaChangeError) as refused:
        duckdb_plan(spec(keys=(), load_method=load_method), stored())
    assert str(refused.value).startswith(
        "stream 'items': table quickbooks.items has primary key (id) but the stream now declares no key "
        "properties; declare them again in the tap (key_properties)"
    )


def test_a_refusal_comes_before_any_step() -> None:
    """A plan is all or nothing: a new column next to a refused change is not in any plan."""
    with pytest.raises(SchemaChangeError, match="column 'v'"):
        duckdb_plan(spec(("new", "string"), ("v", "integer")), stored(v="json"))
