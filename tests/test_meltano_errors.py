"""A wrong client secret under Meltano reads well: the first ERROR line names the fix, each realm fails in one
line (no screen of "skipped" lines), the closing line counts right, and `meltano config test` shows the fix.

Meltano runs in the `demo` environment with every path (token store, stage, warehouse, state, its own system
folder) in a temporary directory, so it never touches the project's output or another run's job lock.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.qbo import QboSimulator, SimConfig

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def sim() -> Iterator[QboSimulator]:
    with QboSimulator(SimConfig(companies=2, seed=5, records_per_company=50)) as server:
        yield server


def meltano_env(sim: QboSimulator, tmp_path: Path, client_secret: str) -> dict[str, str]:
    system = tmp_path / ".meltano"
    system.mkdir()
    for kind in ("extractors", "loaders", "utilities"):  # the installed plugins, shared read-only
        if (ROOT / ".meltano" / kind).exists():
            (system / kind).symlink_to(ROOT / ".meltano" / kind)
    companies = [{"realm_id": r, "refresh_token": sim.current_refresh_token(r)} for r in sim.realm_ids]
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TAP_", "TARGET_", "MELTANO_"))},
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "MELTANO_ENVIRONMENT": "demo",
        "MELTANO_SYS_DIR_ROOT": str(system),
        "MELTANO_STATE_BACKEND_URI": f"file://{tmp_path / 'state'}",
        "TAP_QUICKBOOKS_CDC_API_BASE_URL": sim.base_url,
        "TAP_QUICKBOOKS_CDC_TOKEN_URL": sim.token_url,
        "TAP_QUICKBOOKS_CDC_CLIENT_ID": sim.client_id,
        "TAP_QUICKBOOKS_CDC_CLIENT_SECRET": client_secret,
        "TAP_QUICKBOOKS_CDC_COMPANIES": json.dumps(companies),
        "TAP_QUICKBOOKS_CDC_TOKEN_STORE": str(tmp_path / "qbo_tokens.json"),
        "TARGET_LOOKER_STAGE_STAGE_URI": str(tmp_path / "stage"),
        "TARGET_LOOKER_STAGE_WAREHOUSE_URI": f"duckdb:///{tmp_path / 'warehouse.duckdb'}",
    }


def meltano(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "meltano"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def tap_lines(log: str) -> list[tuple[str, str]]:
    """(level, message) of every line Meltano relayed from the tap."""
    found = []
    for line in log.splitlines():
        match = re.search(r"\[(\w+)\s*\] tap-quickbooks-cdc (.*)$", line)
        if match:
            found.append((match.group(1), match.group(2)))
    return found


def test_a_wrong_client_secret_under_meltano_run_is_one_error_line_per_realm_naming_the_fix(
    sim: QboSimulator, tmp_path: Path
) -> None:
    done = meltano(
        meltano_env(sim, tmp_path, "wrong-secret"), "run", "tap-quickbooks-cdc", "target-looker-stage"
    )
    log = done.stdout + done.stderr
    assert done.returncode != 0
    lines = tap_lines(log)
    errors = [message for level, message in lines if level == "error"]
    assert errors, log[-3000:]
    assert "client_secret" in errors[0]  # the first ERROR line names the fix
    closing = [m for m in errors if "of 2 realms failed" in m]
    assert closing == [errors[-1]]
    assert "2 of 2 realms failed" in closing[0]
    assert "none synced" in closing[0]
    assert "client_secret" in closing[0]  # every realm failed the same way: the fix is in the closing line
    assert "the others synced" not in log
    assert not [m for _, m in lines if "skipped" in m and "remaining streams are skipped" not in m]
    for realm in sim.realm_ids:
        loud = [m for level, m in lines if level in {"error", "warning"} and realm in m and m not in closing]
        assert len(loud) == 1, loud  # one line per realm, however many streams are selected
    assert len(lines) < 40, len(lines)  # was 185 lines, 46 of them "skipped"
    assert "wrong-secret" not in log


def test_meltano_config_test_with_a_wrong_client_secret_shows_the_fix(
    sim: QboSimulator, tmp_path: Path
) -> None:
    done = meltano(meltano_env(sim, tmp_path, "wrong-secret"), "config", "test", "tap-quickbooks-cdc")
    log = done.stdout + done.stderr
    assert done.returncode != 0
    assert "Plugin configuration is invalid" in log
    assert "check 'client_id' and 'client_secret'" in log
    assert "2 of 2 realms failed" in log
