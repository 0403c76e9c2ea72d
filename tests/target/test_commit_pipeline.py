"""Batches are committed on one background thread while the next one is read and decoded
(``commit_pipeline``): the order, the STATE-after-commit rule, errors and bounded memory stay as they were
when every batch was committed in place."""

from __future__ import annotations

import contextlib
import functools
import io
import threading
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from target_looker_stage.commit_pipeline import CommitPipeline
from target_looker_stage.errors import WarehouseError
from target_looker_stage.raw_batch import FastDecoder
from target_looker_stage.target import TargetLookerStage
from target_looker_stage.warehouse.duckdb import DuckDBWarehouse
from tests.target.singer_streams import invoice_messages, parse_states, warehouse_rows

# ----------------------------------------------------------------------------------- the pipeline itself


def test_tasks_run_in_the_order_submitted_on_one_thread_that_is_not_the_main_one() -> None:
    pipeline = CommitPipeline()
    ran: list[tuple[int, str]] = []

    def task(i: int) -> None:
        ran.append((i, threading.current_thread().name))

    for i in range(20):
        pipeline.submit(functools.partial(task, i), batch=i % 3 != 0)
    pipeline.barrier()
    pipeline.close()

    assert [i for i, _ in ran] == list(range(20))
    assert {name for _, name in ran} == {"commit"}


def test_after_a_failed_task_nothing_runs_and_its_error_is_raised_in_the_main_thread() -> None:
    pipeline = CommitPipeline()
    ran: list[str] = []

    def fail() -> None:
        raise WarehouseError("batch 2 rejected")

    pipeline.submit(lambda: ran.append("batch 1"))
    pipeline.submit(fail)
    pipeline.submit(lambda: ran.append("STATE after batch 2"), batch=False)
    with pytest.raises(WarehouseError, match="batch 2 rejected"):
        pipeline.barrier()
    with pytest.raises(WarehouseError, match="batch 2 rejected"):
        pipeline.submit(lambda: ran.append("batch 3"))
    pipeline.close()

    assert ran == ["batch 1"]


def test_a_batch_waits_for_a_slot_so_at_most_max_pending_batches_are_held() -> None:
    pipeline = CommitPipeline(max_pending=2)
    release = threading.Event()

    def hold() -> None:
        release.wait()

    pipeline.submit(hold)  # running
    pipeline.submit(lambda: None)  # queued
    pipeline.submit(lambda: None, batch=False)  # a STATE never waits
    third = threading.Thread(target=pipeline.submit, args=(lambda: None,))
    third.start()
    third.join(timeout=0.3)
    blocked = third.is_alive()
    release.set()
    third.join(timeout=5)
    pipeline.barrier()
    pipeline.close()

    assert blocked
    assert not third.is_alive()


def test_abandon_lets_the_running_commit_finish_and_drops_what_is_queued() -> None:
    pipeline = CommitPipeline(max_pending=3)
    ran: list[str] = []
    started = threading.Event()

    def slow_commit() -> None:
        started.set()
        time.sleep(0.3)
        ran.append("running batch")

    pipeline.submit(slow_commit)
    pipeline.submit(lambda: ran.append("queued batch"))
    pipeline.submit(lambda: ran.append("STATE"), batch=False)
    started.wait(5)
    pipeline.abandon()

    assert ran == ["running batch"]


# ----------------------------------------------------------------------------------- in the target


class Events:
    """What happened when, across the main and the commit thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.log: list[tuple[str, float]] = []

    def add(self, what: str) -> None:
        with self.lock:
            self.log.append((what, time.monotonic()))


class RecordingStdout(io.StringIO):
    def __init__(self, events: Events) -> None:
        super().__init__()
        self.events = events

    def write(self, text: str) -> int:
        if text.strip():
            self.events.add("state")
        return super().write(text)


@pytest.fixture
def slow_merges(monkeypatch: pytest.MonkeyPatch) -> Events:
    """Each DuckDB merge takes 0.2 s longer; decodes and merges are logged."""
    events = Events()
    merge, decode = DuckDBWarehouse.merge, FastDecoder.decode

    def slow_merge(self: DuckDBWarehouse, spec: Any, rows: pa.Table) -> int:
        events.add("merge start")
        time.sleep(0.2)
        written = merge(self, spec, rows)
        events.add(f"merge end {rows.num_rows}")
        return written

    def logged_decode(self: FastDecoder, lines: Any) -> pa.Table | None:
        events.add("decode")
        return decode(self, lines)

    monkeypatch.setattr(DuckDBWarehouse, "merge", slow_merge)
    monkeypatch.setattr(FastDecoder, "decode", logged_decode)
    return events


def run(config: dict[str, Any], lines: list[str], events: Events) -> list[dict[str, Any]]:
    target = TargetLookerStage(config=config)
    out = RecordingStdout(events)
    try:
        with contextlib.redirect_stdout(out):
            target.listen(io.StringIO("".join(lines)))
    finally:
        target.close()
    return parse_states(out.getvalue())


def test_each_state_is_relayed_only_after_every_batch_before_it_is_merged_while_decoding_overlaps(
    tmp_path: Path, slow_merges: Events
) -> None:
    database = tmp_path / "w.duckdb"
    config = {"stage_uri": "", "warehouse_uri": f"duckdb:///{database}", "batch_size_rows": 10}
    lines = list(invoice_messages(60, state_every=20, distinct_ids=60))

    states = run(config, lines, slow_merges)

    # (the SDK relays the latest STATE again at the end of the input, as it did before)
    assert states == [{"position": 20}, {"position": 40}, {"position": 60}, {"position": 60}]
    log = [what for what, _ in slow_merges.log]
    merged, positions = 0, iter(state["position"] for state in states)
    for what in log:
        if what.startswith("merge end"):
            merged += int(what.rsplit(" ", 1)[1])
        if what == "state":
            assert merged >= next(positions)  # every batch before the STATE is committed
    assert merged == 60
    # a later batch was decoded while an earlier one was being merged (the two threads overlapped)
    overlapped = any(
        log[i] == "merge start" and "decode" in log[i + 1 : log.index("merge end 10", i)]
        for i in range(len(log))
        if log[i] == "merge start" and "merge end 10" in log[i:]
    )
    assert overlapped, log
    assert len(warehouse_rows(database, "quickbooks.invoices")) == 60


def test_a_commit_error_is_reported_before_a_bad_line_that_comes_after_its_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_merge(self: DuckDBWarehouse, spec: Any, rows: pa.Table) -> int:
        time.sleep(0.3)  # the main thread has read the bad line by then
        raise WarehouseError("DuckDB: the first batch is rejected (test)")

    monkeypatch.setattr(DuckDBWarehouse, "merge", failing_merge)
    database = tmp_path / "w.duckdb"
    config = {"stage_uri": "", "warehouse_uri": f"duckdb:///{database}", "batch_size_rows": 10}
    lines = list(invoice_messages(10, state_every=10, distinct_ids=10))
    lines.append("this line is not JSON\n")
    target = TargetLookerStage(config=config)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), pytest.raises(WarehouseError, match="first batch is rejected"):
            target.listen(io.StringIO("".join(lines)))
    finally:
        target.close()

    assert parse_states(out.getvalue()) == []


def test_abandon_does_not_wait_for_ever_for_a_commit_that_hangs() -> None:
    pipeline = CommitPipeline()
    hang, started = threading.Event(), threading.Event()

    def hanging_commit() -> None:
        started.set()
        hang.wait(30)

    pipeline.submit(hanging_commit)
    started.wait(5)
    began = time.monotonic()
    pipeline.abandon(timeout=0.2)
    waited = time.monotonic() - began
    hang.set()

    assert waited < 5
