"""Throttling and transient faults: the sync completes with every record exactly once."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest

from tap_quickbooks_cdc.registry import ENTITY_FOR_STREAM
from tests.tap.harness import run_in_process, tap_config

FAULTS = [
    "http429",
    "http429_xml",
    "http500",
    "http502",
    "http503",
    "fault200",
    "drop",
    "invalid_json",
    "fault6002",
]


def test_a_throttled_flaky_api_still_yields_every_record_once(qbo_sim_factory: t.Any, tmp_path: Path) -> None:
    sim = qbo_sim_factory(
        companies=2, records_per_company=300, requests_per_minute=60, random_fault_probability=0.05
    )
    for fault in FAULTS:  # one of each in a row: a single request meets all of them
        sim.inject(fault, times=1)
    config = tap_config(sim, tmp_path, requests_per_minute=55, max_retries=10)
    result = run_in_process(config)
    assert result.exit_code == 0
    for realm in sim.realm_ids:
        for stream, entity in ENTITY_FOR_STREAM.items():
            ids = [r["Id"] for r in result.stream(stream) if r["realm_id"] == realm]
            assert len(ids) == len(set(ids)), f"duplicates in {stream}"
            assert sorted(ids) == sorted(r["Id"] for r in sim.iter_records(realm, entity)), stream
    statuses = [r.status for r in sim.requests if r.kind != "token"]
    assert 429 in statuses
    assert any(status >= 500 for status in statuses)


def test_incremental_run_survives_faults_on_the_cdc_request(qbo_sim_factory: t.Any, tmp_path: Path) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=200)
    realm = sim.realm_ids[0]
    config = tap_config(sim, tmp_path)
    backfill = run_in_process(config, streams=["customers", "vendors"])
    created = sim.create(realm, "Vendor", {"DisplayName": "Faulty Times LLC"})
    for fault in ("http429", "http503", "drop", "fault200"):
        sim.inject(fault, times=1, path_contains="cdc")
    result = run_in_process(config, state=backfill.state, streams=["customers", "vendors"])
    assert result.exit_code == 0
    assert result.ids() == [("vendors", realm, str(created["Id"]))]


def test_a_fault_that_persists_fails_the_realm_without_advancing_its_state(
    qbo_sim_factory: t.Any, tmp_path: Path
) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=100)
    config = tap_config(sim, tmp_path, max_retries=3)
    backfill = run_in_process(config, streams=["terms"])
    sim.inject("http503", times=50, path_contains="cdc")
    result = run_in_process(config, state=backfill.state, streams=["terms"])
    assert result.exit_code == 1
    assert result.state["bookmarks"]["terms"] == backfill.state["bookmarks"]["terms"]


@pytest.mark.parametrize("fault", ["slow"])
def test_a_request_that_times_out_is_retried(qbo_sim_factory: t.Any, tmp_path: Path, fault: str) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=100)
    sim.inject(fault, times=1, delay=3.0)
    result = run_in_process(tap_config(sim, tmp_path, request_timeout_seconds=1), streams=["terms"])
    assert result.exit_code == 0
    assert len(result.stream("terms")) == sim.count(sim.realm_ids[0], "Term")
