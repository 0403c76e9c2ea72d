"""`looker_refresh: after_transform`: the load leaves Looker alone, and `target-looker-stage-looker-refresh`
(run by the job after dbt) does the refresh with the same settings, report and exit-status rule."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.looker import LookerSimConfig, LookerSimulator
from tests.target.singer_streams import invoice_messages, run_target, warehouse_rows, write_config

COMMAND = Path(sys.executable).parent / "target-looker-stage-looker-refresh"
PDTS = [{"model": "finance", "view": "ar_aging"}, {"model": "finance", "view": "gl"}]


@pytest.fixture
def sim() -> Iterator[LookerSimulator]:
    with LookerSimulator(LookerSimConfig()) as simulator:
        yield simulator


def looker_config(sim: LookerSimulator, **extra: Any) -> dict[str, Any]:
    return {
        "looker_base_url": sim.base_url,
        "looker_client_id": sim.client_id,
        "looker_client_secret": sim.client_secret,
        "looker_datagroups": ["finance::qbo_etl"],
        "looker_refresh": "after_transform",
        **extra,
    }


def refresh(config: dict[str, Any], tmp_path: Path, env: dict[str, str] | None = None) -> Any:
    args = [str(COMMAND), "--config", "ENV" if env else str(write_config(tmp_path, config))]
    return subprocess.run(
        args, capture_output=True, text=True, timeout=120, check=False, env=env or dict(os.environ)
    )


def test_the_load_makes_no_looker_call_and_says_the_refresh_comes_after_dbt(
    sim: LookerSimulator, config: dict[str, Any], database: Path, tmp_path: Path
) -> None:
    run = run_target({**config, **looker_config(sim)}, invoice_messages(20, state_every=10), workdir=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert len(warehouse_rows(database, "quickbooks.invoices")) == 15
    assert sim.calls == []
    assert "looker: refresh after dbt (looker_refresh: after_transform)" in run.stderr


@pytest.mark.parametrize(("failure", "exit_code"), [("warn", 0), ("fail", 1)])
def test_the_refresh_command_triggers_the_datagroup_and_reports_each_pdt(
    sim: LookerSimulator, tmp_path: Path, failure: str, exit_code: int
) -> None:
    result = refresh(looker_config(sim, looker_pdts=PDTS, looker_failure=failure), tmp_path)
    assert result.returncode == exit_code, result.stderr[-2000:]
    assert "looker: datagroup finance::qbo_etl triggered" in result.stderr
    assert "looker: pdt finance/ar_aging built in" in result.stderr
    assert "looker: pdt finance/gl failed: " in result.stderr
    assert [c for c in sim.calls if c.method == "PATCH" and c.path.startswith("/api/4.0/datagroups/")]
    assert all(c.token_live for c in sim.calls if c.token is not None)
    assert sim.client_secret not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_the_refresh_command_reads_meltano_s_environment_variables(
    sim: LookerSimulator, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "TARGET_LOOKER_STAGE_LOOKER_BASE_URL": sim.base_url,
        "TARGET_LOOKER_STAGE_LOOKER_CLIENT_ID": sim.client_id,
        "TARGET_LOOKER_STAGE_LOOKER_CLIENT_SECRET": sim.client_secret,
        "TARGET_LOOKER_STAGE_LOOKER_DATAGROUPS": '["finance::qbo_etl"]',
        "TARGET_LOOKER_STAGE_LOOKER_REFRESH": "after_transform",
    }
    result = refresh({}, tmp_path, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "looker: datagroup finance::qbo_etl triggered" in result.stderr


def test_without_a_looker_url_the_refresh_step_says_it_is_off(tmp_path: Path) -> None:
    result = refresh({"looker_refresh": "after_transform"}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "looker: refresh off (looker_base_url is not set)" in result.stderr


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"looker_refresh": "after_load"}, "looker_base_url"),
        ({"looker_base_url": "http://127.0.0.1:9", "looker_client_id": "x"}, "looker_client_secret"),
        ({"looker_refresh": "sometimes"}, "looker_refresh"),
    ],
)
def test_bad_settings_are_one_line_naming_the_setting(
    tmp_path: Path, settings: dict[str, Any], named: str
) -> None:
    result = refresh(settings, tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert named in lines[0]
    assert lines[0].startswith("target-looker-stage-looker-refresh: error: ")
