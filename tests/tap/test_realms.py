"""Each realm is its own partition: separate bookmarks, and one broken company never blocks another."""

from __future__ import annotations

import logging
import typing as t
from datetime import timedelta
from pathlib import Path

import pytest

from tests.tap.harness import catalog_selecting, run_in_process, run_subprocess, tap_config

if t.TYPE_CHECKING:
    from tests.fakes.qbo import QboSimulator

STREAMS = ["customers", "invoices", "terms"]


def _partition(state: dict[str, t.Any], stream: str, realm: str) -> dict[str, t.Any]:
    return next(p for p in state["bookmarks"][stream]["partitions"] if p["context"] == {"realm_id": realm})


def _count(sim: QboSimulator, realm: str) -> int:
    return sum(sim.count(realm, entity) for entity in ("Customer", "Invoice", "Term"))


def test_two_realms_sync_in_one_run_with_separate_bookmarks(qbo_sim_factory: t.Any, tmp_path: Path) -> None:
    sim = qbo_sim_factory(companies=2, records_per_company=200)
    first, second = sim.realm_ids
    result = run_in_process(tap_config(sim, tmp_path), streams=STREAMS)
    assert result.exit_code == 0
    for realm in (first, second):
        assert len([k for k in result.ids() if k[1] == realm]) == _count(sim, realm)
    for stream in STREAMS:
        a, b = _partition(result.state, stream, first), _partition(result.state, stream, second)
        assert a["replication_key_value"] == max(
            r["last_updated_at"] for r in result.stream(stream) if r["realm_id"] == first
        )
        assert b["replication_key_value"] == max(
            r["last_updated_at"] for r in result.stream(stream) if r["realm_id"] == second
        )
        assert "cdc_cursor" in a
        assert "cdc_cursor" in b


def test_a_revoked_realm_fails_alone_and_the_run_exits_non_zero(
    qbo_sim_factory: t.Any, tmp_path: Path
) -> None:
    sim = qbo_sim_factory(companies=2, records_per_company=200)
    healthy, revoked = sim.realm_ids
    config = tap_config(sim, tmp_path)
    catalog = catalog_selecting(STREAMS, tmp_path)
    before = run_subprocess(config, tmp_path, catalog=catalog)
    assert before.exit_code == 0, before.log[-2000:]

    sim.revoke(revoked)
    sim.clock_offset = timedelta(minutes=1)  # a later run: cursors are whole seconds
    sim.create(healthy, "Customer", {"DisplayName": "After Revoke Inc"})
    sim.reset_requests()
    after = run_subprocess(config, tmp_path, state=before.state, catalog=catalog)

    assert after.exit_code == 1
    assert {realm for _, realm, _ in after.ids()} == {healthy}
    assert [r["DisplayName"] for r in after.stream("customers")] == ["After Revoke Inc"]
    assert f"realm {revoked}: FAILED" in after.log
    assert "reconnect the company in the Intuit app" in after.log
    assert f"realm {healthy}: ok" in after.log
    assert f"1 of 2 realms failed ({revoked}); 1 synced" in after.log
    for stream in STREAMS:
        assert _partition(after.state, stream, revoked) == _partition(before.state, stream, revoked)
        assert (
            _partition(after.state, stream, healthy)["cdc_cursor"]
            > _partition(before.state, stream, healthy)["cdc_cursor"]
        )
    # invalid_grant is final: one refresh attempt for the revoked realm, no data requests, no retry loop
    assert sim.data_requests(revoked) == 0
    assert len([r for r in sim.requests if r.kind == "token"]) == 2


def test_a_realm_the_token_does_not_belong_to_is_reported(
    qbo_sim_factory: t.Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=100)
    realm = sim.realm_ids[0]
    config = tap_config(sim, tmp_path)
    config["companies"] = [
        {"realm_id": "4620816365999999999", "refresh_token": sim.current_refresh_token(realm)}
    ]
    with caplog.at_level(logging.ERROR):
        result = run_in_process(config, streams=["terms"])
    assert result.exit_code == 1
    assert result.records == []
    assert "realm 4620816365999999999:" in caplog.text
    assert "not authorised for this company (Fault 3201): check the realm ID" in caplog.text
    assert "cdc_cursor" not in str(result.state)
