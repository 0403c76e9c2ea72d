"""The Singer SDK's standard target tests, against a local stage folder and a DuckDB file."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from singer_sdk.testing import get_target_test_class

from target_looker_stage.target import TargetLookerStage

_ROOT = Path(tempfile.mkdtemp(prefix="target-looker-stage-sdk-suite-"))
atexit.register(shutil.rmtree, _ROOT, ignore_errors=True)

TestTargetLookerStageDuckDB = get_target_test_class(
    TargetLookerStage,
    config={"stage_uri": str(_ROOT / "stage"), "warehouse_uri": f"duckdb:///{_ROOT / 'warehouse.duckdb'}"},
)
