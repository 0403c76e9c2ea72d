"""Fixtures for target tests: a fresh local stage folder and DuckDB file per test; `warehouse`: each of DuckDB
and PostgreSQL (tests/target/warehouses.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.target.warehouses import warehouse

__all__ = ["warehouse"]


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def stage(tmp_path: Path) -> Path:
    return tmp_path / "stage"


@pytest.fixture
def config(stage: Path, database: Path) -> dict[str, Any]:
    return {"stage_uri": str(stage), "warehouse_uri": f"duckdb:///{database}"}
