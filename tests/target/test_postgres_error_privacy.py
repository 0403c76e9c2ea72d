"""PostgreSQL's error text quotes record values (a unique violation's key, a "Failing row", COPY's CONTEXT, an
input error's primary message, a trigger's RAISE); the target's one line never does: it names the table, the
column where PostgreSQL tells it, the SQLSTATE and the fix. Real errors on a real server, through the CLI or
PostgresWarehouse."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pytest

from target_looker_stage.arrow_batch import ARROW_TYPES
from target_looker_stage.errors import WarehouseError
from target_looker_stage.settings import TargetSettings
from target_looker_stage.table_spec import ColumnSpec, TableSpec
from target_looker_stage.warehouse.postgres import PostgresWarehouse
from target_looker_stage.warehouse.postgres_errors import describe
from tests.services import PostgresServer
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

MARKER = "CUSTOMER-SECRET-4711"
NUMBER = 987654321987


@pytest.fixture
def schema() -> str:
    return f"p_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def config(postgres_server: PostgresServer, schema: str, tmp_path: Path) -> dict[str, Any]:
    return {
        "stage_uri": str(tmp_path / "stage"),
        "warehouse_uri": postgres_server.uri,
        "default_target_schema": schema,
    }


@pytest.fixture
def admin(postgres_server: PostgresServer) -> Iterator[psycopg.Connection[Any]]:
    """A DBA's session: constraints and triggers the target did not create."""
    with psycopg.connect(postgres_server.admin_conninfo, autocommit=True) as conn:
        yield conn


@pytest.fixture
def warehouse(postgres_server: PostgresServer) -> Iterator[PostgresWarehouse]:
    wh = PostgresWarehouse(postgres_server.uri, TargetSettings.from_config({}))
    yield wh
    wh.close()


def messages(*records: dict[str, Any]) -> list[str]:
    return [
        encode(schema_message("invoices", INVOICE_SCHEMA, INVOICE_KEYS)),
        *(encode(record_message("invoices", r)) for r in records),
        encode(state_message({"position": len(records)})),
    ]


def error_line(run: TargetRun, *hidden: str) -> str:
    """The run's one error line, after checking no hidden text reached stdout or stderr."""
    assert run.returncode == 1, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    for text in hidden:
        assert text not in run.stderr + run.stdout
    (line,) = [x for x in run.stderr.splitlines() if x.startswith("target-looker-stage: error: ")]
    return line


KEYED: dict[str, Any] = {"stream_name": "Invoice", "key_properties": ("id",)}


def failed_merge(warehouse: PostgresWarehouse, spec: TableSpec, rows: list[dict[str, Any]]) -> str:
    """The one line of the WarehouseError merging ``rows`` into ``spec``'s (new) table raises."""
    warehouse.ensure_table(spec)
    arrow = pa.schema([pa.field(c.name, ARROW_TYPES[c.kind]) for c in spec.columns])
    with pytest.raises(WarehouseError) as raised:
        warehouse.merge(spec, pa.Table.from_pylist(rows, arrow))
    line = str(raised.value)
    assert "\n" not in line
    assert MARKER not in line
    return line


def loaded(config: dict[str, Any], tmp_path: Path) -> None:
    """A first run creates the table (with its primary key) so a DBA can add rules to it."""
    first = run_target(config, messages(invoice(1, 0)), workdir=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]


def test_a_timestamp_postgresql_cannot_store_is_named_by_column_and_row_never_by_value(
    config: dict[str, Any], schema: str, tmp_path: Path
) -> None:
    """Year 0 passes the batch path but not PostgreSQL: its primary message and COPY's CONTEXT both quote
    the value."""
    stamp = "0000-04-07T11:47:11.987654Z"
    run = run_target(config, messages(invoice(1, 0), invoice(7, 0, last_updated_at=stamp)), workdir=tmp_path)
    line = error_line(run, "11:47:11.987654", "0000-04-07")
    assert f"PostgreSQL failed to merge a batch into {schema}.invoices" in line
    assert "date/time field value out of range: … (column 'last_updated_at', row 2 of the batch" in line
    assert "fix that and re-run" in line


def test_a_key_appended_twice_into_a_keyed_table_is_named_by_its_constraint_never_by_its_value(
    config: dict[str, Any], schema: str, tmp_path: Path
) -> None:
    record = invoice(MARKER, 0, DocNumber=MARKER, total=str(NUMBER))
    assert run_target(config, messages(record), workdir=tmp_path).returncode == 0
    run = run_target({**config, "load_method": "append-only"}, messages(record), workdir=tmp_path)
    line = error_line(run, MARKER, str(NUMBER))
    assert f"{schema}.invoices" in line
    assert 'duplicate key value violates unique constraint "invoices_pkey" (SQLSTATE 23505)' in line


#: A DBA's rule on the target's table (statements, ``{t}`` = the table, ``{s}`` = its schema), the record
#: fields that break it, and what the line says instead of PostgreSQL's "Failing row" or RAISE text.
DBA_RULES: dict[str, tuple[list[str], dict[str, Any], str]] = {
    "not null": (
        ['ALTER TABLE {t} ALTER COLUMN "DocNumber" SET NOT NULL'],
        {"DocNumber": None, "CustomerRef": {"value": "1", "name": MARKER}},
        'null value in column "DocNumber" of relation "invoices" violates not-null constraint '
        "(column 'DocNumber', SQLSTATE 23502)",
    ),
    "check": (
        ['ALTER TABLE {t} ADD CONSTRAINT total_below_a_million CHECK ("TotalAmt" < 1000000)'],
        {"DocNumber": MARKER},
        'new row for relation "invoices" violates check constraint "total_below_a_million" (SQLSTATE 23514)',
    ),
    "trigger": (
        [
            'CREATE FUNCTION "{s}".reserved() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN '
            "IF NEW.\"DocNumber\" LIKE 'CUSTOMER%' THEN "
            "RAISE EXCEPTION 'document % is reserved', NEW.\"DocNumber\"; END IF; RETURN NEW; END $$",
            'CREATE TRIGGER reserved BEFORE INSERT ON {t} FOR EACH ROW EXECUTE FUNCTION "{s}".reserved()',
        ],
        {"DocNumber": MARKER},
        "a trigger or function on the table raised an error (its message may quote record values) "
        "(SQLSTATE P0001)",
    ),
}


@pytest.mark.parametrize("rule", list(DBA_RULES))
def test_a_rule_a_dba_added_is_named_never_by_the_failing_row_or_its_message(
    config: dict[str, Any], schema: str, tmp_path: Path, admin: psycopg.Connection[Any], rule: str
) -> None:
    statements, fields, shown = DBA_RULES[rule]
    loaded(config, tmp_path)
    for statement in statements:
        admin.execute(statement.format(t=f'"{schema}".invoices', s=schema).encode())
    record = invoice(2, 0, total=str(NUMBER), **fields)
    line = error_line(run_target(config, messages(record), workdir=tmp_path), MARKER, str(NUMBER))
    assert f"PostgreSQL failed to merge a batch into {schema}.invoices" in line
    assert shown in line


def test_invalid_json_reaching_the_server_names_the_column_never_the_token(
    warehouse: PostgresWarehouse, schema: str
) -> None:
    line = failed_merge(
        warehouse,
        TableSpec(schema, "invoices", (ColumnSpec("id", "string"), ColumnSpec("line", "json")), **KEYED),
        [{"id": "1", "line": "[]"}, {"id": MARKER, "line": "{" + MARKER}],
    )
    assert f"{schema}.invoices" in line
    assert "invalid input syntax for type json (column 'line', row 2 of the batch, SQLSTATE 22P02)" in line


def test_a_null_key_names_the_column_never_the_failing_row(warehouse: PostgresWarehouse, schema: str) -> None:
    line = failed_merge(
        warehouse,
        TableSpec(
            schema, "invoices", (ColumnSpec("id", "string"), ColumnSpec("doc_number", "string")), **KEYED
        ),
        [{"id": None, "doc_number": MARKER}],
    )
    assert f"{schema}.invoices" in line
    assert "violates not-null constraint (column 'id', SQLSTATE 23502)" in line


@pytest.mark.parametrize(
    ("statement", "shown"),
    [
        (f"SELECT '{MARKER}'::numeric", "invalid input syntax for type numeric: … (SQLSTATE 22P02)"),
        (f"SELECT 'a\"{MARKER}\"b'::numeric", "invalid input syntax for type numeric: … (SQLSTATE 22P02)"),
        (f"SELECT '{MARKER}'''::date", "invalid input syntax for type date: … (SQLSTATE 22007)"),
        (f"SELECT '{NUMBER}'::integer", "value … is out of range for type integer (SQLSTATE 22003)"),
        (f"SELECT {NUMBER}::integer", "integer out of range (SQLSTATE 22003)"),
        (f"SELECT '{NUMBER}-01-01'::date", "date/time field value out of range: … (SQLSTATE 22008)"),
        (f"SELECT '{{{MARKER}'::jsonb", "invalid input syntax for type json (SQLSTATE 22P02)"),
        (
            "SELECT convert_from('\\x41e2'::bytea, 'UTF8')",
            "invalid byte sequence for encoding …: … (SQLSTATE 22021)",
        ),
    ],
)
def test_values_in_postgresqls_primary_message_become_an_ellipsis(
    postgres_server: PostgresServer, statement: str, shown: str
) -> None:
    with psycopg.connect(postgres_server.uri) as conn, pytest.raises(psycopg.Error) as raised:
        conn.execute(statement.encode())
    line = describe(raised.value)
    assert line == shown
    assert MARKER not in line
    assert str(NUMBER) not in line
