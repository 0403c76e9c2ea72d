"""The Singer SDK's standard target tests, loading into a real PostgreSQL server (a fresh schema per test)."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import psycopg
import pytest
from singer_sdk.testing import get_target_test_class
from singer_sdk.testing.runners import TargetTestRunner

from target_looker_stage.target import TargetLookerStage
from tests.services import PostgresServer

_StandardSuite = get_target_test_class(TargetLookerStage, config={})


class TestTargetLookerStagePostgres(_StandardSuite):  # type: ignore[misc,valid-type]
    """The SDK's runner, pointed at the session's PostgreSQL server (its URI only exists at run time)."""

    @pytest.fixture
    def runner(self, postgres_server: PostgresServer, tmp_path: Path) -> TargetTestRunner:
        schema = f"sdk_{uuid.uuid4().hex[:10]}"
        config = {
            "stage_uri": str(tmp_path / "stage"),
            "warehouse_uri": postgres_server.uri,
            "default_target_schema": schema,
        }
        return TargetTestRunner(target_class=TargetLookerStage, config=config, parse_env_config=True)


def test_the_suite_really_writes_to_postgres(postgres_server: PostgresServer, tmp_path: Path) -> None:
    """Guards the override above: the standard suite's sample stream lands as rows in PostgreSQL."""
    schema = f"sdk_{uuid.uuid4().hex[:10]}"
    config = {"stage_uri": "", "warehouse_uri": postgres_server.uri, "default_target_schema": schema}
    lines = [
        '{"type": "SCHEMA", "stream": "test_stream", "key_properties": ["id"], '
        '"schema": {"type": "object", "properties": '
        '{"id": {"type": "integer"}, "name": {"type": "string"}}}}',
        '{"type": "RECORD", "stream": "test_stream", "record": {"id": 1, "name": "one"}}',
        '{"type": "STATE", "value": {"done": true}}',
    ]
    runner = TargetTestRunner(TargetLookerStage, config=config, input_io=io.StringIO("\n".join(lines) + "\n"))
    runner.sync_all()
    with psycopg.connect(postgres_server.uri) as conn:
        rows = conn.execute(f'SELECT id, name FROM "{schema}".test_stream').fetchall()
    assert rows == [(1, "one")]
