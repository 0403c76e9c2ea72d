"""``warehouse_uri`` -> the Warehouse that merges batches there (drivers imported only when used)."""

from __future__ import annotations

from urllib.parse import urlsplit

from target_looker_stage.errors import ConfigError
from target_looker_stage.settings import TargetSettings
from target_looker_stage.warehouse.base import Warehouse


def open_warehouse(settings: TargetSettings) -> Warehouse | None:
    """None when ``warehouse_uri`` is empty (warehouse skipped); ConfigError for an unknown scheme."""
    uri = settings.warehouse_uri.strip()
    if not uri:
        return None
    scheme = urlsplit(uri).scheme.lower() if "://" in uri else ""
    if scheme == "duckdb":
        from target_looker_stage.warehouse.duckdb import DuckDBWarehouse  # noqa: PLC0415 (driver loaded only when used)

        return DuckDBWarehouse(uri, settings)
    if scheme in ("postgresql", "postgres"):
        from target_looker_stage.warehouse.postgres import PostgresWarehouse  # noqa: PLC0415 (driver loaded only when used)

        return PostgresWarehouse(uri, settings)
    shown = f"'{scheme}://'" if scheme else "(none)"
    msg = f"warehouse_uri scheme {shown} is not supported; use duckdb:///path/file.duckdb or postgresql://..."
    raise ConfigError(msg)
