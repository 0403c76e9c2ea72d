"""The LookML in transform/looker/ parses and only reads columns the dbt marts really have.

Every ``.lkml`` file is parsed with ``lkml``; each view's relation (``sql_table_name`` or a PDT's SQL) runs on
a DuckDB warehouse that `dbt build` made from a small simulated company, and every ``${TABLE}.column`` a view
reads must be among the columns that relation returns. Dashboards (YAML LookML dashboards) may only name
fields the views define, and every PDT is persisted on the ``qbo_etl`` datagroup the target triggers.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb
import lkml
import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML (a dbt dependency) ships no stubs

from tests.transform.pipeline import PROJECT, Warehouse

LOOKER = PROJECT / "looker"
MARTS = (
    "quickbooks__general_ledger",
    "quickbooks__profit_and_loss",
    "quickbooks__balance_sheet",
    "quickbooks__ar_aging",
    "quickbooks__ap_aging",
    "quickbooks__cash_position",
)
SUBJECTS = ("general_ledger", "profit_and_loss", "balance_sheet", "ar_aging", "ap_aging", "cash_position")
DASHBOARDS = ("receivables", "payables", "profitability", "cash_position")
TABLE_COLUMN = re.compile(r"\$\{TABLE\}\.(\w+)")


def parsed() -> dict[Path, dict[str, Any]]:
    return {path: lkml.load(path.read_text()) for path in sorted(LOOKER.rglob("*.lkml"))}


def views() -> dict[str, dict[str, Any]]:
    return {view["name"]: view for doc in parsed().values() for view in doc.get("views", [])}


def model() -> dict[str, Any]:
    (found,) = [doc for path, doc in parsed().items() if path.name.endswith(".model.lkml")]
    return found


def relation_sql(view: dict[str, Any]) -> str:
    if "sql_table_name" in view:
        return str(view["sql_table_name"]).strip()
    return "(" + str(view["derived_table"]["sql"]).strip() + ")"


def fields(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [*view.get("dimensions", []), *view.get("dimension_groups", []), *view.get("measures", [])]


def field_names(view: dict[str, Any]) -> set[str]:
    names = {f["name"] for f in [*view.get("dimensions", []), *view.get("measures", [])]}
    for group in view.get("dimension_groups", []):
        names |= {f"{group['name']}_{timeframe}" for timeframe in group.get("timeframes", [])}
    return names


@pytest.fixture
def warehouse(two_ar_company: tuple[Warehouse, Any]) -> Warehouse:
    """A DuckDB warehouse with every mart built by `dbt build` (the shared small company)."""
    return two_ar_company[0]


def test_every_lookml_file_parses_with_lkml() -> None:
    documents = parsed()
    assert len(documents) >= len(SUBJECTS) + 1
    assert all(documents.values())


def test_every_mart_has_a_view_and_every_subject_an_explore() -> None:
    relations = " ".join(relation_sql(view) for view in views().values())
    assert [mart for mart in MARTS if f"marts.{mart}" not in relations] == []
    explores = {explore["name"] for explore in model()["explores"]}
    assert set(SUBJECTS) <= explores
    assert explores <= set(views()), "an explore without a view of the same name"


def test_pdts_are_persisted_on_the_qbo_etl_datagroup() -> None:
    assert [group["name"] for group in model()["datagroups"]] == ["qbo_etl"]
    assert model()["persist_with"] == "qbo_etl"
    pdts = {name: view["derived_table"] for name, view in views().items() if "derived_table" in view}
    assert {"ar_aging", "ap_aging"} <= set(pdts)
    assert {name: table.get("datagroup_trigger") for name, table in pdts.items()} == dict.fromkeys(
        pdts, "qbo_etl"
    )


def missing_columns(warehouse: Warehouse, checked: dict[str, dict[str, Any]]) -> list[str]:
    """``view.column`` for every ``${TABLE}.column`` a view reads that its relation does not return."""
    missing: list[str] = []
    assert warehouse.duckdb_path is not None
    with duckdb.connect(str(warehouse.duckdb_path), read_only=True) as con:
        for name, view in checked.items():
            description = con.execute(f"select * from {relation_sql(view)} as relation limit 0").description
            columns = {column[0] for column in description}
            used = {column for f in fields(view) for column in TABLE_COLUMN.findall(str(f.get("sql", "")))}
            missing += [f"{name}.{column}" for column in sorted(used - columns)] or ([] if used else [name])
    return missing


def test_every_view_reads_only_columns_its_dbt_relation_has(warehouse: Warehouse) -> None:
    assert missing_columns(warehouse, views()) == []


def test_a_view_reading_a_column_the_mart_lacks_is_reported(warehouse: Warehouse) -> None:
    planted = {
        "sql_table_name": "marts.quickbooks__cash_position",
        "dimensions": [
            {"name": "gone", "sql": "${TABLE}.closing_balance"},
            {"name": "ok", "sql": "${TABLE}.date"},
        ],
    }
    assert missing_columns(warehouse, {"cash": planted}) == ["cash.closing_balance"]


def test_the_datagroup_trigger_runs_on_the_marts(warehouse: Warehouse) -> None:
    (group,) = model()["datagroups"]
    assert warehouse.query(str(group["sql_trigger"]).strip())[0][0]


def test_dashboards_name_only_fields_the_views_define() -> None:
    known = {f"{name}.{field}" for name, view in views().items() for field in field_names(view)}
    explores = {explore["name"] for explore in model()["explores"]}
    found: dict[str, list[str]] = {}
    for path in sorted((LOOKER / "dashboards").glob("*.dashboard.lookml")):
        (dashboard,) = yaml.safe_load(path.read_text())
        named: list[str] = []
        for element in dashboard["elements"]:
            assert element["explore"] in explores, (path.name, element["name"])
            named += element.get("fields", []) + element.get("pivots", []) + list(element.get("filters", {}))
            named += [sort.split()[0] for sort in element.get("sorts", [])]
            named += list(element.get("listen", {}).values())
        named += [f["field"] for f in dashboard.get("filters", [])]
        found[dashboard["dashboard"]] = sorted(set(named) - known)
    assert set(found) == set(DASHBOARDS)
    assert found == {name: [] for name in DASHBOARDS}
