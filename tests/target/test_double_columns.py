"""Floats from other taps: refused by default (money is never rounded), stored as DOUBLE for the columns
`double_columns` names, on DuckDB and PostgreSQL alike, the same on both load paths; `multipleOf` keeps a
column an exact decimal."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from target_looker_stage.errors import SchemaChangeError
from target_looker_stage.schema_mapping import is_double_column
from tests.target.singer_streams import encode, record_message, run_in_process, run_target, schema_message
from tests.target.warehouses import Warehouse

#: A weather tap's stream: a reading that is a binary float, a ratio, a huge count, and an amount in cents.
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "reading": {"type": ["null", "number"]},
        "ratio": {"type": ["null", "number"]},
        "fee": {"type": ["null", "number"], "multipleOf": 0.01},
    },
}
RECORDS: list[dict[str, Any]] = [
    {"id": 1, "reading": 0.30000000000000004, "ratio": 1e-12, "fee": 12.34},
    {"id": 2, "reading": 6.02e23, "ratio": -2.5, "fee": 0.1},
    {"id": 3, "reading": None, "ratio": 5, "fee": None},
]


def messages(stream: str = "weather", records: list[dict[str, Any]] = RECORDS) -> list[str]:
    return [
        encode(schema_message(stream, SCHEMA, ["id"])),
        *(encode(record_message(stream, r)) for r in records),
        '{"type":"STATE","value":{"weather":3}}\n',
    ]


def column_types(warehouse: Warehouse, table: str) -> dict[str, str]:
    found = warehouse.query(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ?",
        (warehouse.schema, table),
    )
    return {str(name): str(kind).lower() for name, kind in found}


def test_floats_are_refused_with_one_line_naming_the_setting(warehouse: Warehouse, tmp_path: Path) -> None:
    run = run_target(warehouse.config, messages(), workdir=tmp_path)
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("target-looker-stage: error:")]
    assert len(errors) == 1, run.stderr
    assert "stream 'weather': column 'reading'" in errors[0]
    assert "{'id': 1}" in errors[0]
    assert "double_columns" in errors[0]
    assert "0.30000000000000004" not in run.stderr  # a record value is customer data
    assert run.states == []
    assert warehouse.rows("weather") == []


def test_the_double_columns_option_stores_floats_as_doubles_and_amounts_exactly(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    config = {**warehouse.config, "double_columns": ["weather"]}
    run = run_target(config, messages(), workdir=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.states == [{"weather": 3}]
    assert warehouse.rows("weather", "id, reading, ratio, fee") == sorted(
        [
            (1, 0.30000000000000004, 1e-12, Decimal("12.340000000")),
            (2, 6.02e23, -2.5, Decimal("0.100000000")),
            (3, None, 5.0, None),
        ],
        key=repr,
    )
    types = column_types(warehouse, "weather")
    double = "double" if warehouse.kind == "duckdb" else "double precision"
    assert (types["reading"], types["ratio"]) == (double, double)
    assert types["fee"].startswith(("decimal(38,9)", "numeric"))  # multipleOf: an amount stays exact
    (staged,) = Path(config["stage_uri"]).rglob("*.parquet")
    table = pq.read_table(staged)
    assert str(table.schema.field("reading").type) == "double"
    assert table.column("reading").to_pylist()[:2] == [0.30000000000000004, 6.02e23]
    assert str(table.schema.field("fee").type) == "decimal128(38, 9)"


@pytest.mark.parametrize("pattern", ["weather.reading", "weath*.read*", "*"])
def test_a_pattern_can_name_one_column_or_every_stream(pattern: str, tmp_path: Path) -> None:
    database = tmp_path / "w.duckdb"
    config = {"stage_uri": "", "warehouse_uri": f"duckdb:///{database}", "double_columns": [pattern]}
    one = [{"id": 1, "reading": 0.30000000000000004, "ratio": 0.5, "fee": 1}]
    run_in_process(config, messages(records=one))
    with duckdb.connect(str(database)) as connection:
        kinds = dict(
            connection.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'weather'"
            ).fetchall()
        )
    assert kinds["reading"] == "DOUBLE"
    assert kinds["ratio"] == ("DOUBLE" if pattern == "*" else "DECIMAL(38,9)")
    assert kinds["fee"] == "DECIMAL(38,9)"


def test_both_load_paths_store_the_same_doubles(tmp_path: Path) -> None:
    """The batch-native path parses the number text with Arrow, the per-record path converts the reader's
    Decimal with float(): both give the nearest double (flattening, a no-op on these flat records, turns the
    batch-native path off)."""
    values = [0.1, 0.30000000000000004, 1e-300, 1.7976931348623157e308, 123456789.123456789, -0.0, 3]
    records = [{"id": i, "reading": v, "ratio": None, "fee": None} for i, v in enumerate(values)]
    results = []
    for name, extra in (
        ("fast", {}),
        ("per_record", {"flattening_enabled": True, "flattening_max_depth": 1}),
    ):
        database = tmp_path / f"{name}.duckdb"
        config = {"stage_uri": "", "warehouse_uri": f"duckdb:///{database}", "double_columns": ["weather"]}
        target = run_in_process({**config, **extra}, messages(records=records))
        assert target == [{"weather": 3}]
        with duckdb.connect(str(database)) as connection:
            results.append(
                connection.execute("SELECT id, reading FROM quickbooks.weather ORDER BY id").fetchall()
            )
    assert results[0] == results[1] == [(i, float(v)) for i, v in enumerate(values)]


def test_a_value_beyond_the_double_range_is_refused_not_stored_as_infinity(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    lines = messages(records=[{"id": 1, "reading": 1, "ratio": 1, "fee": 1}])
    lines.insert(2, '{"type":"RECORD","stream":"weather","record":{"id":2,"reading":1e400}}\n')
    run = run_target({**warehouse.config, "double_columns": ["weather"]}, lines, workdir=tmp_path)
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert "column 'reading' (double)" in run.stderr
    assert "{'id': 2}" in run.stderr
    assert warehouse.rows("weather") == []


def test_an_existing_decimal_column_is_not_turned_into_a_double(warehouse: Warehouse) -> None:
    exact = [{"id": 1, "reading": 0.5, "ratio": 0.25, "fee": 1}]
    run_in_process(warehouse.config, messages(records=exact))
    with pytest.raises(SchemaChangeError, match="column 'reading' cannot change from"):
        run_in_process({**warehouse.config, "double_columns": ["weather"]}, messages(records=exact))
    assert len(warehouse.rows("weather")) == 1


def test_integer_columns_widen_to_double_in_place(warehouse: Warehouse) -> None:
    whole = {**SCHEMA, "properties": {"id": {"type": "integer"}, "reading": {"type": ["null", "integer"]}}}
    run_in_process(
        warehouse.config,
        [
            encode(schema_message("weather", whole, ["id"])),
            encode(record_message("weather", {"id": 1, "reading": 7})),
        ],
    )
    run_in_process(
        {**warehouse.config, "double_columns": ["weather"]}, messages(records=[{"id": 2, "reading": 0.5}])
    )
    assert warehouse.rows("weather", "id, reading") == [(1, 7.0), (2, 0.5)]


def test_patterns_match_streams_and_qualified_columns() -> None:
    assert is_double_column(["sensors"], "sensors", "t")
    assert is_double_column(["sensors.t"], "sensors", "t")
    assert not is_double_column(["sensors.t"], "sensors", "u")
    assert is_double_column(["sens*"], "sensors", "u")
    assert is_double_column(["a.b"], "a.b", "x")  # a stream whose name has a dot
    assert not is_double_column([], "sensors", "t")
    assert not is_double_column(["Sensors"], "sensors", "t")  # names are case-sensitive, as streams are


def test_multipleof_is_checked_exactly_and_an_off_step_amount_is_one_line(tmp_path: Path) -> None:
    """The reader's Decimals broke fastjsonschema's float division (a traceback); floats would misjudge
    12.34 as off a 0.01 step. Checked exactly: 12.34 loads, 12.345 is refused naming the rule."""
    config = {"stage_uri": "", "warehouse_uri": f"duckdb:///{tmp_path / 'w.duckdb'}"}
    good = [
        {"id": 1, "reading": 1, "ratio": 2, "fee": 12.34},
        {"id": 2, "reading": 1, "ratio": 2, "fee": 0.07},
    ]
    assert run_in_process(config, messages(records=good)) == [{"weather": 3}]
    run = run_target(config, messages(records=[{"id": 3, "fee": 12.345}]), workdir=tmp_path)
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert "fee must be multiple of 0.01" in run.stderr
    assert "12.345" not in run.stderr
