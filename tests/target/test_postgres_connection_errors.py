"""PostgresWarehouse connection errors: fast, one line, never the password (user info or URI parameter)."""

from __future__ import annotations

import time

import pytest

from target_looker_stage.errors import ConfigError, WarehouseError
from target_looker_stage.settings import TargetSettings
from target_looker_stage.warehouse.postgres import PostgresWarehouse
from tests.services import PostgresServer


def test_an_unreachable_server_fails_fast_in_one_line_without_the_password(
    postgres_server: PostgresServer,
) -> None:
    closed = postgres_server.uri.replace(f":{postgres_server.port}/", ":1/")
    started = time.monotonic()
    with pytest.raises(WarehouseError) as raised:
        PostgresWarehouse(closed, TargetSettings.from_config({"postgres_connect_timeout": 3})).check()
    assert time.monotonic() - started < 15
    message = str(raised.value)
    assert "\n" not in message
    assert postgres_server.password not in message
    assert "looker:***@127.0.0.1:1/warehouse" in message


def test_a_wrong_password_is_reported_without_echoing_it(postgres_server: PostgresServer) -> None:
    wrong = postgres_server.uri.replace(postgres_server.password, "Wr0ng-S3cret")
    warehouse = PostgresWarehouse(wrong, TargetSettings.from_config({}))
    assert warehouse.display_uri == f"postgresql://looker:***@127.0.0.1:{postgres_server.port}/warehouse"
    with pytest.raises(WarehouseError, match="password authentication failed") as raised:
        warehouse.check()
    assert "Wr0ng-S3cret" not in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_non_postgres_uri_is_a_config_error_without_the_password() -> None:
    with pytest.raises(ConfigError) as raised:
        PostgresWarehouse("mysql://u:hunter2@db/x", TargetSettings.from_config({}))
    assert "hunter2" not in str(raised.value)


def test_a_password_given_as_a_uri_parameter_is_redacted_too() -> None:
    warehouse = PostgresWarehouse(
        "postgresql://looker@127.0.0.1:5/db?sslmode=disable&password=Param-Secret",
        TargetSettings.from_config({}),
    )
    assert warehouse.display_uri == "postgresql://looker@127.0.0.1:5/db?sslmode=disable&password=***"
    with pytest.raises(WarehouseError) as raised:
        warehouse.check()
    assert "Param-Secret" not in str(raised.value)


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        ("postgresql://u:Pass-1234@db.example:6432/wh", "postgresql://u:***@db.example:6432/wh"),
        ("postgresql://u:Pass-1234@[::1]:5432/wh", "postgresql://u:***@[::1]:5432/wh"),
        ("postgresql://u:P%40ss-1234@db/wh?sslmode=require", "postgresql://u:***@db/wh?sslmode=require"),
        ("postgresql://u@db/wh", "postgresql://u@db/wh"),
    ],
)
def test_display_uri_hides_only_the_password(uri: str, shown: str) -> None:
    assert PostgresWarehouse(uri, TargetSettings.from_config({})).display_uri == shown
