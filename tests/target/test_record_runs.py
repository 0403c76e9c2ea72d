"""Runs of RECORD lines: after a RECORD line taken as bytes, the reader hands the following lines of the
same stream over together (``LineReader._read``). Batches are still cut at exactly ``batch_size_rows``
records and at each STATE, and a bad line in a run is still reported by its own line number."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.target.singer_streams import (
    INVOICE_KEYS,
    INVOICE_SCHEMA,
    encode,
    invoice,
    record_message,
    run_target,
    schema_message,
    staged_rows,
    state_message,
    warehouse_rows,
)

SCHEMA = encode(schema_message("invoices", INVOICE_SCHEMA, INVOICE_KEYS))


def records(start: int, stop: int) -> list[str]:
    return [encode(record_message("invoices", invoice(i, 0))) for i in range(start, stop)]


def committed_batches(stderr: str) -> list[int]:
    """The rows of each committed batch, from the sink's log lines, in order."""
    return [
        int(line.split("Committed ", 1)[1].split(" ", 1)[0])
        for line in stderr.splitlines()
        if "Committed " in line
    ]


def test_batches_are_cut_at_batch_size_rows_and_at_each_state_within_long_runs(
    config: dict[str, Any], tmp_path: Path, stage: Path, database: Path
) -> None:
    # 2,500 records (longer than a run of 1,024 lines) in batches of 7; a STATE after record 2,000 drains
    lines = [SCHEMA, *records(0, 2_000), encode(state_message({"n": 2_000})), *records(2_000, 2_500)]
    lines.append(encode(state_message({"n": 2_500})))

    run = run_target({**config, "batch_size_rows": 7}, lines, workdir=tmp_path)

    assert run.returncode == 0, run.stderr[-2000:]
    assert run.states[:2] == [{"n": 2_000}, {"n": 2_500}]
    before_state = [7] * (2_000 // 7) + [2_000 % 7]
    after_state = [7] * (500 // 7) + [500 % 7]
    assert committed_batches(run.stderr) == before_state + after_state
    assert len(warehouse_rows(database, "quickbooks.invoices")) == 2_500
    assert len(staged_rows(stage, "invoices")) == 2_500


@pytest.mark.parametrize("position", [2, 700, 1_030])
def test_a_bad_line_inside_a_run_is_reported_by_its_own_line_number(
    config: dict[str, Any], tmp_path: Path, position: int
) -> None:
    """Line 1 is the SCHEMA, record i is line i + 2; the bad record starts exactly like a good one."""
    good = records(0, 1_200)
    bad = good[position].replace('"record":{', '"record":{"broken"', 1)
    lines = [SCHEMA, *good[:position], bad, *good[position + 1 :]]

    run = run_target(config, lines, workdir=tmp_path)

    assert run.returncode == 1
    assert f"input line {position + 2} is not valid JSON" in run.stderr
    assert "Traceback" not in run.stderr
    assert run.states == []
