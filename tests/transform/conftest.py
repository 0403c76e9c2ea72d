"""A small company the LookML and two-A/R tests share: one pipeline run and one `dbt build` for both."""

from __future__ import annotations

import pytest

from tests.fakes.qbo import QboSimulator, SimConfig
from tests.fakes.qbo.ground_truth import Books
from tests.transform.pipeline import Warehouse, sync


@pytest.fixture(scope="session")
def two_ar_company(tmp_path_factory: pytest.TempPathFactory) -> tuple[Warehouse, Books]:
    """A company with two A/R accounts and departments, loaded into DuckDB and built with `dbt build`."""
    workdir = tmp_path_factory.mktemp("two-ar")
    config = SimConfig(companies=1, seed=31, records_per_company=1_200, multi_ar_departments=True)
    with QboSimulator(config) as sim:
        messages = sync(sim, workdir / "tap").messages
        books = Books(sim, sim.realm_ids[0])
    warehouse = Warehouse("duckdb", workdir, duckdb_path=workdir / "warehouse.duckdb")
    warehouse.load(messages)
    warehouse.dbt("build")
    return warehouse, books
