"""Bad input and unreachable destinations: one clear line on stderr, exit code 1, nothing half-written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.target.singer_streams import (
    INVOICE_KEYS,
    INVOICE_SCHEMA,
    TargetRun,
    encode,
    invoice,
    record_message,
    run_target,
    schema_message,
    state_message,
)

SCHEMA = encode(schema_message("invoices", INVOICE_SCHEMA, INVOICE_KEYS))
GOOD = [encode(record_message("invoices", invoice(i, 0))) for i in range(3)]


def error_line(run: TargetRun) -> str:
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("target-looker-stage: error:")]
    assert len(errors) == 1, run.stderr
    return errors[0]


def assert_nothing_written(stage: Path, database: Path) -> None:
    assert not list(stage.rglob("*.parquet")) if stage.exists() else True
    if database.exists():
        with duckdb.connect(str(database), read_only=True) as connection:
            tables = connection.execute("SELECT table_name FROM information_schema.tables").fetchall()
            for (table,) in tables:
                assert connection.execute(f'SELECT count(*) FROM quickbooks."{table}"').fetchone() == (0,)


def test_malformed_json_line(config: dict[str, Any], tmp_path: Path, stage: Path, database: Path) -> None:
    run = run_target(
        config, [SCHEMA, *GOOD, '{"type": "RECORD", "stream": "invoices", "record": {\n'], workdir=tmp_path
    )
    assert "input line 5 is not valid JSON" in error_line(run)
    assert run.states == []
    assert_nothing_written(stage, database)


def test_record_before_schema(config: dict[str, Any], tmp_path: Path, stage: Path, database: Path) -> None:
    run = run_target(config, [GOOD[0], SCHEMA], workdir=tmp_path)
    assert "stream 'invoices' was encountered before a corresponding schema" in error_line(run)
    assert_nothing_written(stage, database)


def test_record_violating_its_schema(
    config: dict[str, Any], tmp_path: Path, stage: Path, database: Path
) -> None:
    bad = encode(record_message("invoices", invoice(9, 0, TotalAmt="a lot")))
    run = run_target(config, [SCHEMA, *GOOD, bad, encode(state_message({"p": 1}))], workdir=tmp_path)
    line = error_line(run)
    assert "stream 'invoices'" in line
    assert "'Id': '9'" in line
    assert "TotalAmt" in line
    assert run.states == []
    assert_nothing_written(stage, database)


def test_schema_violation_is_accepted_when_validation_is_off(
    config: dict[str, Any], tmp_path: Path, database: Path
) -> None:
    extra = encode(record_message("invoices", invoice(9, 0, DocNumber=12345)))
    run = run_target({**config, "validate_records": False}, [SCHEMA, extra], workdir=tmp_path)
    assert run.returncode == 0, run.stderr
    with duckdb.connect(str(database), read_only=True) as connection:
        assert connection.execute('SELECT "DocNumber" FROM quickbooks.invoices').fetchall() == [("12345",)]


@pytest.mark.parametrize(
    ("setting", "uri", "expected"),
    [
        ("stage_uri", "gs://bucket/prefix", "stage_uri scheme 'gs://' is not supported"),
        (
            "warehouse_uri",
            "mysql://user:pw-SECRET@127.0.0.1/db",
            "warehouse_uri scheme 'mysql://' is not supported",
        ),
    ],
)
def test_unknown_uri_scheme(
    config: dict[str, Any], tmp_path: Path, setting: str, uri: str, expected: str
) -> None:
    run = run_target({**config, setting: uri}, [SCHEMA, *GOOD], workdir=tmp_path)
    assert expected in error_line(run)
    assert "SECRET" not in run.stderr


def test_unwritable_stage_folder(config: dict[str, Any], tmp_path: Path, database: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    run = run_target({**config, "stage_uri": str(blocker / "stage")}, [SCHEMA, *GOOD], workdir=tmp_path)
    assert "stage folder" in error_line(run)
    assert not database.exists()


def test_unopenable_duckdb_file(config: dict[str, Any], tmp_path: Path, stage: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    run = run_target(
        {**config, "warehouse_uri": f"duckdb:///{blocker}/w.duckdb"}, [SCHEMA, *GOOD], workdir=tmp_path
    )
    assert "cannot open DuckDB database" in error_line(run)
    assert not list(stage.rglob("*.parquet"))


def test_empty_uris_skip_stage_and_warehouse(tmp_path: Path) -> None:
    run = run_target({"stage_uri": "", "warehouse_uri": ""}, [SCHEMA, *GOOD], workdir=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "Staging to (skipped); warehouse (skipped)" in run.stderr
    assert not (tmp_path / "output").exists()


def test_defaults_are_relative_to_the_working_directory(tmp_path: Path) -> None:
    run = run_target({}, [SCHEMA, *GOOD, encode(state_message({"p": 3}))], workdir=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.states == [{"p": 3}]
    assert list((tmp_path / "output" / "stage" / "stream=invoices").rglob("*.parquet"))
    assert (tmp_path / "output" / "warehouse.duckdb").exists()
