"""DuckDB within its memory limit: batches of very large values and very wide tables load (merged in parts
of bounded size), DuckDB spills to ``duckdb_temp_directory``, and a limit too small for the data stops the
run with one line naming ``duckdb_memory_limit``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from target_looker_stage.arrow_batch import arrow_schema
from target_looker_stage.settings import TargetSettings
from target_looker_stage.table_spec import DELETED_AT_COLUMN, SYNC_VERSION_COLUMN, ColumnSpec, TableSpec
from target_looker_stage.warehouse import duckdb_memory
from target_looker_stage.warehouse.duckdb import DuckDBWarehouse
from target_looker_stage.warehouse.duckdb_memory import memory_bytes, parts_by_size
from tests.target.singer_streams import encode, record_message, run_target, schema_message, state_message

VALUE_BYTES = 20_000_000
WIDE_COLUMNS = 500


def big_value_messages(count: int) -> Iterator[str]:
    properties = {"id": {"type": "integer"}, "body": {"type": ["null", "string"]}}
    yield encode(schema_message("documents", {"type": "object", "properties": properties}, ["id"]))
    for i in range(count):
        yield encode(record_message("documents", {"id": i, "body": chr(ord("a") + i) * VALUE_BYTES}))
    yield encode(state_message({"documents": count}))


def wide_messages(rows: int) -> Iterator[str]:
    properties = {
        "id": {"type": "integer"},
        **{f"c{j}": {"type": ["null", "string"]} for j in range(WIDE_COLUMNS)},
    }
    yield encode(schema_message("wide", {"type": "object", "properties": properties}, ["id"]))
    for i in range(rows):
        record = {"id": i, **{f"c{j}": f"value {i} of column {j}" for j in range(WIDE_COLUMNS)}}
        yield encode(record_message("wide", record))
    yield encode(state_message({"wide": rows}))


def scalar(database: Path, query: str) -> tuple[Any, ...]:
    with duckdb.connect(str(database), read_only=True) as connection:
        row = connection.execute(query).fetchone()
    assert row is not None
    return row


def test_a_batch_of_ten_twenty_megabyte_values_loads(
    tmp_path: Path, config: dict[str, Any], database: Path
) -> None:
    run = run_target({**config, "stage_uri": ""}, big_value_messages(10), workdir=tmp_path)

    assert run.returncode == 0, run.stderr[-2000:]
    assert run.states == [{"documents": 10}]
    query = "SELECT count(*), sum(length(body)), count(DISTINCT body) FROM quickbooks.documents"
    assert scalar(database, query) == (10, 10 * VALUE_BYTES, 10)


def test_a_table_of_five_hundred_columns_loads(
    tmp_path: Path, config: dict[str, Any], database: Path
) -> None:
    run = run_target({**config, "stage_uri": ""}, wide_messages(100), workdir=tmp_path)

    assert run.returncode == 0, run.stderr[-2000:]
    assert scalar(database, 'SELECT count(*), max("c499") FROM quickbooks.wide') == (
        100,
        "value 99 of column 499",
    )


def test_a_memory_limit_too_small_for_the_data_is_one_line_naming_the_setting(
    tmp_path: Path, config: dict[str, Any]
) -> None:
    tiny = {**config, "stage_uri": "", "duckdb_memory_limit": "16MB"}
    run = run_target(tiny, big_value_messages(2), workdir=tmp_path)

    assert run.returncode == 1
    errors = [line for line in run.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1, run.stderr[-2000:]
    assert errors[0].startswith("target-looker-stage: error: DuckDB ")
    assert "ran out of memory" in errors[0]
    assert "raise duckdb_memory_limit" in errors[0]
    assert "Traceback" not in run.stderr
    assert run.states == []


def test_an_unreadable_memory_limit_is_one_line_naming_the_setting(
    tmp_path: Path, config: dict[str, Any]
) -> None:
    run = run_target({**config, "duckdb_memory_limit": "lots"}, big_value_messages(0), workdir=tmp_path)

    assert run.returncode == 1
    assert run.stderr.splitlines()[-1].startswith("target-looker-stage: error: cannot open DuckDB database")
    assert "check duckdb_memory_limit" in run.stderr.splitlines()[-1]


def test_duckdb_spills_to_the_temp_directory_setting_or_next_to_the_database(tmp_path: Path) -> None:
    database = tmp_path / "w.duckdb"
    default = DuckDBWarehouse(f"duckdb:///{database}", TargetSettings.from_config({}))
    chosen = DuckDBWarehouse(
        f"duckdb:///{database}",
        TargetSettings.from_config({"duckdb_temp_directory": str(tmp_path / "spill")}),
    )
    for warehouse, expected in ((default, f"{database}.tmp"), (chosen, str(tmp_path / "spill"))):
        try:
            setting = warehouse.connection.execute("SELECT current_setting('temp_directory')").fetchone()
        finally:
            warehouse.close()
        assert setting == (expected,)


def test_a_batch_is_cut_into_parts_of_at_most_the_budget_where_its_large_values_are() -> None:
    sizes = [10, 10, 5_000, 10, 10, 10, 3_000, 3_000, 10]
    rows = pa.table({"id": list(range(len(sizes))), "body": ["x" * n for n in sizes]})

    parts = parts_by_size(rows, budget=4_000)

    assert pa.concat_tables(parts).equals(rows)
    assert [part["id"].to_pylist() for part in parts] == [[0, 1], [2], [3, 4, 5, 6], [7, 8]]
    assert parts_by_size(rows, budget=10**9) == [rows]


def test_a_batch_with_json_columns_is_cut_into_parts_by_the_length_of_its_json_text() -> None:
    """The warehouse hands DuckDB nested values as Arrow's JSON type; a batch over the budget (for example
    50,000 invoices against the default 1 GB limit) used to stop the run with a traceback here."""
    bodies = pa.array(['{"n": "' + "x" * n + '"}' for n in (10, 3_000, 3_000, 10)], pa.string())
    rows = pa.table(
        {"id": [0, 1, 2, 3], "body": pa.ExtensionArray.from_storage(pa.json_(pa.string()), bodies)}
    )

    parts = parts_by_size(rows, budget=4_000)

    assert [part["id"].to_pylist() for part in parts] == [[0, 1], [2, 3]]


def test_duckdb_memory_settings_are_read_in_its_units() -> None:
    assert memory_bytes("152.5 MiB") == int(152.5 * 2**20)
    assert memory_bytes("1.3 GiB") == int(1.3 * 2**30)
    assert memory_bytes("512 bytes") == 512


def test_a_merge_that_runs_out_of_its_working_memory_is_retried_with_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even when a batch's need is underestimated, DuckDB's out-of-memory error is not the end: the part is
    rolled back and merged again with twice the working limit, up to duckdb_memory_limit."""
    monkeypatch.setattr(duckdb_memory, "_NEED_PER_COLUMN", 0)  # 500 columns look as cheap as 5
    names = [f"c{j}" for j in range(WIDE_COLUMNS)]
    columns = (
        ColumnSpec("id", "integer", nullable=False),
        *(ColumnSpec(name, "string") for name in names),
        ColumnSpec(SYNC_VERSION_COLUMN, "integer"),
        ColumnSpec(DELETED_AT_COLUMN, "timestamp"),
    )
    spec = TableSpec("quickbooks", "wide", columns, ("id",), stream_name="wide")
    rows = [{"id": i, **{name: f"value {i} of {name}" for name in names}} for i in range(50)]
    warehouse = DuckDBWarehouse(f"duckdb:///{tmp_path / 'w.duckdb'}", TargetSettings.from_config({}))
    try:
        warehouse.ensure_table(spec)
        assert warehouse.memory.working == duckdb_memory.START_MEMORY

        assert warehouse.merge(spec, pa.Table.from_pylist(rows, schema=arrow_schema(spec))) == 50
        assert warehouse.memory.working > duckdb_memory.START_MEMORY
    finally:
        warehouse.close()


def test_the_working_memory_only_grows_and_never_past_the_ceiling() -> None:
    budget = duckdb_memory.MemoryBudget("400MB")
    with duckdb.connect(config={"memory_limit": budget.setting}) as connection:
        budget.open(connection)
        assert (budget.working, budget.part_bytes) == (duckdb_memory.START_MEMORY, budget.ceiling // 16)
        budget.reserve(connection, pa.table({"x": ["tiny"]}))
        assert budget.working == duckdb_memory.START_MEMORY
        assert budget.grow(connection)
        assert budget.grow(connection)
        assert budget.working == budget.ceiling
        assert not budget.grow(connection)
        limit = connection.execute("SELECT current_setting('memory_limit')").fetchone()
        assert limit is not None
        assert duckdb_memory.memory_bytes(str(limit[0])) == pytest.approx(400 * 10**6, rel=0.01)
