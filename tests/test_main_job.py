"""README's first command, `make demo`: the main job end to end on the embedded default.

Simulated QBO company -> tap -> target -> DuckDB + Parquet -> dbt -> summary, run twice: the second run is
incremental (CDC) and lands exactly what changed in the simulator between the runs.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
STREAMS = 24


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    summary_path = tmp_path_factory.mktemp("demo") / "summary.json"
    args = f"--records-per-company 600 --summary-json {summary_path}"
    result = subprocess.run(
        ["make", "-s", "demo", f"DEMO_ARGS={args}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    log = (ROOT / "output" / "demo" / "demo.log").read_text(errors="replace")[-4000:]
    assert result.returncode == 0, f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}\n{log}"
    summary: dict[str, Any] = json.loads(summary_path.read_text())
    return result, summary


def test_every_stream_lands_for_every_company(
    demo: tuple[subprocess.CompletedProcess[str], dict[str, Any]],
) -> None:
    _, summary = demo
    live_rows = summary["live_rows"]
    assert len(live_rows) == STREAMS
    assert all(count > 0 for counts in live_rows.values() for count in counts.values()), live_rows
    assert summary["parquet_files"] >= STREAMS


def test_second_run_is_incremental_and_exact(
    demo: tuple[subprocess.CompletedProcess[str], dict[str, Any]],
) -> None:
    _, summary = demo
    made = summary["simulator_changes"]
    assert summary["incremental_changes"] == {
        "new rows": made["created"],
        "updated rows": made["updated"],
        "rows marked deleted": made["deleted"],
    }
    assert summary["incremental_data_requests"] == len(summary["realm_ids"]), "one CDC request per company"


def test_dbt_builds_the_marts_and_the_summary_is_readable(
    demo: tuple[subprocess.CompletedProcess[str], dict[str, Any]],
) -> None:
    result, summary = demo
    assert summary["sales_months"] > 0
    for heading in (
        "Live rows per stream and company",
        "Incremental run",
        "Where the data landed",
        "Timings",
    ):
        assert heading in result.stdout


def test_the_summary_shows_aging_pnl_cash_and_that_the_marts_tie_out(
    demo: tuple[subprocess.CompletedProcess[str], dict[str, Any]],
) -> None:
    result, summary = demo
    for heading in ("A/R aging", "A/P aging", "P&L of", "Cash by bank account", "Tie-out"):
        assert heading in result.stdout
    realms = set(summary["realm_ids"])
    assert set(summary["ar_aging"]) == set(summary["ap_aging"]) == set(summary["pnl"]) == realms
    assert {realm for realm, *_ in summary["cash"]} == realms
    assert summary["tie_out"] == {realm: dict.fromkeys(summary["tie_out"][realm], 0) for realm in realms}
