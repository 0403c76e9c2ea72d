"""CDC's limits: the 1000-object cap, the 30-day window, and TaxCode (not in CDC)."""

from __future__ import annotations

import copy
import datetime
import logging
import time
import typing as t
from pathlib import Path

import pytest

from tap_quickbooks_cdc.records import normalise_time
from tests.tap.harness import run_in_process, tap_config

ANCHOR = datetime.datetime.now(datetime.UTC).replace(microsecond=0) - datetime.timedelta(hours=1)


def _cdc_requests(sim: t.Any) -> list[str]:
    return [r.path for r in sim.requests if r.kind == "cdc"]


def test_more_than_1000_changes_are_paged_per_entity_without_loss_or_duplicates(
    qbo_sim_factory: t.Any, tmp_path: Path
) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=200, anchor=ANCHOR)
    realm = sim.realm_ids[0]
    config = tap_config(sim, tmp_path)
    streams = ["customers", "vendors", "terms"]
    backfill = run_in_process(config, streams=streams)
    created = [sim.create(realm, "Customer", {"DisplayName": f"Wave A {n}"})["Id"] for n in range(700)]
    time.sleep(1.1)  # a second wave one second later: CDC pages advance by LastUpdatedTime
    created += [sim.create(realm, "Customer", {"DisplayName": f"Wave B {n}"})["Id"] for n in range(500)]
    vendor = sim.create(realm, "Vendor", {"DisplayName": "Late Vendor"})["Id"]

    sim.reset_requests()
    result = run_in_process(config, state=backfill.state, streams=streams)
    assert result.exit_code == 0
    emitted = [r["Id"] for r in result.stream("customers")]
    assert sorted(emitted) == sorted(created)  # 1200 changes, each exactly once
    assert [r["Id"] for r in result.stream("vendors")] == [vendor]
    # the shared request hit the cap; then customers took 2 pages, vendors and terms 1 each
    assert len(_cdc_requests(sim)) == 5


def test_a_cursor_outside_the_30_day_window_falls_back_to_query_and_names_the_gap(
    qbo_sim_factory: t.Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=200, anchor=ANCHOR)
    realm = sim.realm_ids[0]
    config = tap_config(sim, tmp_path)
    streams = ["customers", "invoices"]
    backfill = run_in_process(config, streams=streams)
    sim.clock_offset = datetime.timedelta(days=31)  # the company was not synced for a month
    created = sim.create(realm, "Customer", {"DisplayName": "Month Later LLC"})

    sim.reset_requests()
    with caplog.at_level(logging.WARNING):
        late = run_in_process(config, state=backfill.state, streams=streams)
    assert late.exit_code == 0
    assert late.ids() == [("customers", realm, created["Id"])]
    assert len(_cdc_requests(sim)) == 1, "the window error is learnt once per realm, not per stream"
    assert "cannot be seen" in caplog.text
    assert "older than CDC's 30-day window" in caplog.text

    sim.reset_requests()
    again = run_in_process(config, state=late.state, streams=streams)
    assert again.exit_code == 0
    # nothing changed since: at most the changes inside the cursor margin are delivered again (upserts)
    assert set(again.ids()) <= set(late.ids())
    assert sim.data_requests(realm) == 1, "the new cursor is inside the window: back to one CDC request"


def test_a_bookmark_known_to_be_too_old_goes_straight_to_query(
    qbo_sim_factory: t.Any, tmp_path: Path
) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=400, anchor=ANCHOR, history_days=90)
    realm = sim.realm_ids[0]
    config = tap_config(sim, tmp_path)
    backfill = run_in_process(config, streams=["customers"])
    old = (datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=45)).strftime(
        "%Y-%m-%dT%H:%M:%S+00:00"
    )
    for partition in backfill.state["bookmarks"]["customers"]["partitions"]:
        partition["cdc_cursor"] = old
    sim.reset_requests()
    result = run_in_process(config, state=backfill.state, streams=["customers"])
    assert result.exit_code == 0
    assert _cdc_requests(sim) == []
    expected = [
        r["Id"]
        for r in sim.iter_records(realm, "Customer")
        if normalise_time(r["MetaData"]["LastUpdatedTime"]) >= old
    ]
    assert expected, "the company has customers changed in the last 45 days"
    assert sorted(r["Id"] for r in result.stream("customers")) == sorted(expected)


def test_tax_codes_are_read_by_query_because_cdc_does_not_serve_them(
    qbo_sim_factory: t.Any, tmp_path: Path
) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=200, anchor=ANCHOR)
    config = tap_config(sim, tmp_path, query_only_refresh_hours=0)
    backfill = run_in_process(config, streams=["tax_codes"])
    assert len(backfill.stream("tax_codes")) == sim.count(sim.realm_ids[0], "TaxCode")
    sim.reset_requests()
    result = run_in_process(config, state=backfill.state, streams=["tax_codes"])
    assert result.records == []
    assert [r.kind for r in sim.requests if r.kind != "token"] == ["query"]


def test_tax_codes_are_requeried_only_once_the_refresh_interval_has_passed(
    qbo_sim_factory: t.Any, tmp_path: Path
) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=200, anchor=ANCHOR)
    config = tap_config(sim, tmp_path)  # default query_only_refresh_hours: 24
    backfill = run_in_process(config, streams=["tax_codes"])
    partition = backfill.state["bookmarks"]["tax_codes"]["partitions"][0]
    assert partition["queried_at"].endswith("+00:00"), "a UTC bookmark like every other"
    sim.reset_requests()
    soon = run_in_process(config, state=backfill.state, streams=["tax_codes"])
    assert soon.exit_code == 0
    assert sim.data_requests() == 0, "read less than 24 h ago: no request"
    assert soon.state["bookmarks"]["tax_codes"]["partitions"][0]["queried_at"] == partition["queried_at"]

    day_old = copy.deepcopy(backfill.state)
    queried = datetime.datetime.fromisoformat(partition["queried_at"]) - datetime.timedelta(hours=25)
    day_old["bookmarks"]["tax_codes"]["partitions"][0]["queried_at"] = queried.isoformat()
    later = run_in_process(config, state=day_old, streams=["tax_codes"])
    assert later.exit_code == 0
    assert [r.kind for r in sim.requests if r.kind != "token"] == ["query"]
