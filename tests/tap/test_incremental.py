"""Backfill, then CDC: an incremental run emits exactly what changed (deletes included), with one
CDC request per realm covering every selected entity."""

from __future__ import annotations

import datetime
import typing as t
from pathlib import Path

from tap_quickbooks_cdc.registry import ENTITY_FOR_STREAM
from tests.tap.harness import run_in_process, tap_config

if t.TYPE_CHECKING:
    from tests.fakes.qbo import QboSimulator

# History ends an hour ago, so nothing but the test's own mutations is newer than the CDC cursor margin.
ANCHOR = datetime.datetime.now(datetime.UTC).replace(microsecond=0) - datetime.timedelta(hours=1)


def _expected_counts(sim: QboSimulator, realm: str) -> dict[str, int]:
    return {stream: sim.count(realm, entity) for stream, entity in ENTITY_FOR_STREAM.items()}


def test_first_run_backfills_every_record_of_every_realm(qbo_sim_factory: t.Any, tmp_path: Path) -> None:
    sim = qbo_sim_factory(companies=2, records_per_company=300, anchor=ANCHOR)
    result = run_in_process(tap_config(sim, tmp_path))
    assert result.exit_code == 0
    for realm in sim.realm_ids:
        for stream, expected in _expected_counts(sim, realm).items():
            emitted = [r for r in result.stream(stream) if r["realm_id"] == realm]
            assert len(emitted) == expected, (realm, stream)
            assert len({r["Id"] for r in emitted}) == expected, "no duplicates"
    every = [m["record"] for m in result.records]
    assert all(r["last_updated_at"].endswith("+00:00") for r in every)
    assert all(r["_sdc_deleted_at"] is None for r in every)


def test_incremental_run_emits_exactly_the_changes(qbo_sim_factory: t.Any, tmp_path: Path) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=300, anchor=ANCHOR)
    realm = sim.realm_ids[0]
    config = tap_config(sim, tmp_path)
    backfill = run_in_process(config)
    assert backfill.exit_code == 0

    customer = backfill.stream("customers")[0]
    invoice = backfill.stream("invoices")[0]
    created = sim.create(realm, "Customer", {"DisplayName": "Brand New Co"})
    sim.update(realm, "Customer", customer["Id"], {"CompanyName": "Renamed Ltd"})
    sim.delete(realm, "Invoice", invoice["Id"])

    sim.reset_requests()
    incremental = run_in_process(config, state=backfill.state)
    assert incremental.exit_code == 0
    assert sorted(incremental.ids()) == sorted(
        [
            ("customers", realm, str(created["Id"])),
            ("customers", realm, customer["Id"]),
            ("invoices", realm, invoice["Id"]),
        ]
    )
    renamed = next(r for r in incremental.stream("customers") if r["Id"] == customer["Id"])
    assert renamed["CompanyName"] == "Renamed Ltd"
    assert int(renamed["SyncToken"]) > int(customer["SyncToken"])
    deleted = incremental.stream("invoices")[0]
    assert deleted["status"] == "Deleted"
    assert deleted["_sdc_deleted_at"] == deleted["last_updated_at"]
    assert deleted["_sdc_deleted_at"] > invoice["last_updated_at"]
    # One CDC request for all 23 CDC entities; TaxCode (not in CDC) was read by the backfill less than
    # query_only_refresh_hours ago, so it costs no request.
    assert sim.data_requests(realm) == 1


def test_no_change_run_makes_one_data_request_per_realm(qbo_sim_factory: t.Any, tmp_path: Path) -> None:
    sim = qbo_sim_factory(companies=2, records_per_company=200, anchor=ANCHOR)
    config = tap_config(sim, tmp_path)
    backfill = run_in_process(config)  # every stream, tax_codes included, as `meltano run` selects them
    sim.reset_requests()
    quiet = run_in_process(config, state=backfill.state)
    assert quiet.exit_code == 0
    assert quiet.records == []
    for realm in sim.realm_ids:
        assert sim.data_requests(realm) == 1
        assert [r.kind for r in sim.requests if r.realm_id == realm and r.kind != "token"] == ["cdc"]


def test_state_has_a_cursor_and_bookmark_per_realm_and_stream(qbo_sim_factory: t.Any, tmp_path: Path) -> None:
    sim = qbo_sim_factory(companies=2, records_per_company=200, anchor=ANCHOR)
    started = datetime.datetime.now(datetime.UTC)
    result = run_in_process(tap_config(sim, tmp_path), streams=["invoices", "terms"])
    for stream in ("invoices", "terms"):
        partitions = result.state["bookmarks"][stream]["partitions"]
        assert sorted(p["context"]["realm_id"] for p in partitions) == sorted(sim.realm_ids)
        for partition in partitions:
            cursor = datetime.datetime.fromisoformat(partition["cdc_cursor"])
            # the realm's sync start on the server clock, minus the margin
            assert started - datetime.timedelta(minutes=3) < cursor <= started
            assert partition["replication_key"] == "last_updated_at"
            newest = max(
                r["last_updated_at"]
                for r in result.stream(stream)
                if r["realm_id"] == partition["context"]["realm_id"]
            )
            assert partition["replication_key_value"] == newest
