"""Companies in parallel within one run (`parallel`): an idle incremental run of 200 companies costs about
200 round trips / workers, each company inside its own limits; a parallel backfill writes what the
sequential one writes; a revoked company among 200 fails alone."""

from __future__ import annotations

import copy
import datetime as dt
import json
import time
import typing as t
from collections import Counter
from pathlib import Path

import pytest

from tap_quickbooks_cdc.records import to_utc_text
from tests.tap.harness import RunResult, catalog_selecting, run_in_process, run_subprocess, tap_config

STREAMS = ["invoices", "customers"]
LATENCY = 0.2


def idle_state(sim: t.Any, streams: list[str] = STREAMS) -> dict[str, t.Any]:
    """Bookmarks as a CDC pass ten minutes ago left them, for every company."""
    cursor = to_utc_text(dt.datetime.fromtimestamp(sim.now(), dt.UTC) - dt.timedelta(minutes=10))
    partitions = [{"context": {"realm_id": realm}, "cdc_cursor": cursor} for realm in sim.realm_ids]
    return {"bookmarks": {stream: {"partitions": partitions} for stream in streams}}


def cursors(state: dict[str, t.Any]) -> dict[tuple[str, str], str]:
    return {
        (stream, p["context"]["realm_id"]): p["cdc_cursor"]
        for stream, bookmark in state["bookmarks"].items()
        for p in bookmark.get("partitions", [])
        if "cdc_cursor" in p
    }


def throttled(sim: t.Any) -> Counter[str | None]:
    return Counter(r.realm_id for r in sim.requests if r.status == 429)


@pytest.mark.slow
def test_an_idle_run_of_200_companies_takes_round_trips_divided_by_workers(
    qbo_sim_factory: t.Any, tmp_path: Path
) -> None:
    sim = qbo_sim_factory(companies=200, records_per_company=30, latency=LATENCY)
    state = idle_state(sim)
    config = tap_config(sim, tmp_path, max_parallel_companies=10)
    started = time.monotonic()
    result = run_in_process(config, state=copy.deepcopy(state), streams=STREAMS)  # the SDK updates it
    elapsed = time.monotonic() - started
    assert result.exit_code == 0
    sequential = len(sim.realm_ids) * LATENCY  # 40 s of round trips one company after another
    assert elapsed < 0.4 * sequential, f"{elapsed:.1f} s for what takes {sequential:.0f} s sequentially"
    assert {r: sim.data_requests(r) for r in sim.realm_ids} == dict.fromkeys(sim.realm_ids, 1)
    assert throttled(sim) == Counter()
    before, after = cursors(state), cursors(result.state)
    assert set(after) == set(before)
    assert all(after[key] > before[key] for key in before)  # every company's bookmark advanced


@pytest.mark.slow
def test_a_parallel_backfill_of_20_companies_writes_what_the_sequential_one_writes(
    qbo_sim_factory: t.Any, tmp_path: Path
) -> None:
    sim = qbo_sim_factory(companies=20, records_per_company=60, latency=0.02)
    catalog = catalog_selecting([*STREAMS, "terms", "tax_codes"], tmp_path)
    runs: dict[int, RunResult] = {}
    for workers in (1, 8):
        folder = tmp_path / f"workers-{workers}"
        folder.mkdir()
        config = tap_config(sim, folder, max_parallel_companies=workers)
        runs[workers] = run_subprocess(config, folder, catalog=catalog, timeout=300)
        assert runs[workers].exit_code == 0, runs[workers].log[-2000:]
    sequential, parallel = runs[1], runs[8]

    def multiset(result: RunResult) -> Counter[str]:
        return Counter(
            json.dumps([m["stream"], m["record"]], sort_keys=True, default=str) for m in result.records
        )

    assert multiset(parallel) == multiset(sequential)
    assert len(parallel.records) > 20 * 4
    assert [m["stream"] for m in parallel.records] == [m["stream"] for m in sequential.records]
    lines = [json.loads(line) for line in parallel.stdout.splitlines() if line.strip()]
    first_record = {m["stream"]: i for i, m in reversed(list(enumerate(lines))) if m["type"] == "RECORD"}
    schema_at = {m["stream"]: i for i, m in enumerate(lines) if m["type"] == "SCHEMA"}
    assert all(schema_at[s] < i for s, i in first_record.items())  # each stream's SCHEMA first
    assert set(cursors(parallel.state)) == set(cursors(sequential.state))  # every realm's bookmarks
    assert len(cursors(parallel.state)) == 20 * 4  # every stream of every company


@pytest.mark.slow
def test_a_revoked_company_among_200_fails_alone_with_one_line(
    qbo_sim_factory: t.Any, tmp_path: Path
) -> None:
    sim = qbo_sim_factory(companies=200, records_per_company=30, latency=0.02)
    revoked = sim.realm_ids[57]
    config = tap_config(sim, tmp_path, max_parallel_companies=10)
    sim.revoke(revoked)
    state = idle_state(sim)
    result = run_subprocess(config, tmp_path, state=state, catalog=catalog_selecting(STREAMS, tmp_path))
    assert result.exit_code == 1
    errors = [line for line in result.log.splitlines() if "| ERROR" in line]
    (summary,) = [e for e in errors if "realms failed" in e]
    assert "1 of 200 realms failed" in summary
    assert [e for e in errors if e != summary] == [e for e in errors if revoked in e and e != summary]
    assert len(errors) == 2, errors  # the realm's one line and the run's summary
    before, after = cursors(state), cursors(result.state)
    assert set(after) == set(before)
    moved = {realm for key, realm in after if after[(key, realm)] > before[(key, realm)]}
    assert moved == set(sim.realm_ids) - {revoked}  # the revoked company keeps its bookmark
