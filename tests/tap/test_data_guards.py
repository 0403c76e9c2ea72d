"""Data the tap must not get wrong: bookmarks and start_date later than Intuit's clock, garbage bookmarks,
CDC changes without a time, and records whose Id or LastUpdatedTime cannot be trusted. Each fails only
its realm with one line naming the problem (or, for a change without a time, is kept), never drops data
and never advances state past it."""

from __future__ import annotations

import copy
import datetime
import logging
import typing as t
from pathlib import Path

import pytest

from tests.fakes.qbo.store import DROP
from tests.tap.harness import run_in_process, tap_config

if t.TYPE_CHECKING:
    from tests.fakes.qbo import QboSimulator

ANCHOR = datetime.datetime.now(datetime.UTC).replace(microsecond=0) - datetime.timedelta(hours=1)
STREAMS = ["customers", "invoices"]


def _utc(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).replace(microsecond=0).isoformat()


def _server_now(sim: QboSimulator) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(sim.now(), datetime.UTC)


def _set_cursor(state: dict[str, t.Any], stream: str, realm: str, value: object) -> dict[str, t.Any]:
    changed = copy.deepcopy(state)
    for partition in changed["bookmarks"][stream]["partitions"]:
        if partition["context"] == {"realm_id": realm}:
            partition["cdc_cursor"] = value
    return changed


def _partition(state: dict[str, t.Any], stream: str, realm: str) -> dict[str, t.Any]:
    for partition in state.get("bookmarks", {}).get(stream, {}).get("partitions", []):
        if partition["context"] == {"realm_id": realm}:
            return t.cast("dict[str, t.Any]", partition)
    return {}


def _failure_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_cdc_cursor_later_than_intuits_clock_fails_the_realm_and_keeps_its_state(
    qbo_sim_factory: t.Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sim = qbo_sim_factory(companies=2, records_per_company=100, anchor=ANCHOR)
    future, healthy = sim.realm_ids
    config = tap_config(sim, tmp_path)
    backfill = run_in_process(config, streams=STREAMS)
    ahead = _utc(_server_now(sim) + datetime.timedelta(days=2))
    state = _set_cursor(backfill.state, "invoices", future, ahead)
    sim.create(future, "Customer", {"DisplayName": "Not Emitted Yet"})
    created = sim.create(healthy, "Customer", {"DisplayName": "Healthy Co"})

    with caplog.at_level(logging.INFO):
        result = run_in_process(config, state=state, streams=STREAMS)
    assert result.exit_code == 1
    assert result.ids() == [("customers", healthy, created["Id"])], "nothing of the refused realm"
    errors = " ".join(_failure_lines(caplog))
    assert f"realm {future}" in errors
    assert f"cdc_cursor {ahead} of stream 'invoices' is later than Intuit's clock" in errors
    assert "meltano state edit" in errors
    assert _partition(result.state, "invoices", future)["cdc_cursor"] == ahead, "state kept for the fix"
    assert _partition(result.state, "customers", future) == _partition(backfill.state, "customers", future)


def test_a_cursor_is_judged_by_intuits_clock_not_the_local_one(
    qbo_sim_factory: t.Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=100, anchor=ANCHOR - datetime.timedelta(hours=4))
    realm = sim.realm_ids[0]
    config = tap_config(sim, tmp_path)
    sim.clock_offset = -datetime.timedelta(hours=3)  # Intuit's clock 3 h behind this machine's
    backfill = run_in_process(config, streams=STREAMS)
    # An hour ago on this machine is two hours in Intuit's future: CDC would return nothing up to it.
    local_hour_ago = _utc(datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1))
    state = _set_cursor(backfill.state, "customers", realm, local_hour_ago)
    with caplog.at_level(logging.INFO):
        result = run_in_process(config, state=state, streams=STREAMS)
    assert result.exit_code == 1
    assert "later than Intuit's clock" in " ".join(_failure_lines(caplog))
    assert result.records == []


def test_a_cursor_ahead_of_the_local_clock_but_not_of_intuits_is_used(
    qbo_sim_factory: t.Any, tmp_path: Path
) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=100, anchor=ANCHOR)
    realm = sim.realm_ids[0]
    config = tap_config(sim, tmp_path)
    sim.clock_offset = datetime.timedelta(hours=3)  # Intuit's clock 3 h ahead: cursors are "future" here
    backfill = run_in_process(config, streams=STREAMS)
    cursor = _partition(backfill.state, "customers", realm)["cdc_cursor"]
    assert cursor > _utc(datetime.datetime.now(datetime.UTC))
    created = sim.create(realm, "Customer", {"DisplayName": "Ahead Of Us Ltd"})
    sim.reset_requests()
    result = run_in_process(config, state=backfill.state, streams=STREAMS)
    assert result.exit_code == 0
    assert result.ids() == [("customers", realm, created["Id"])]
    assert sim.data_requests(realm) == 1


def test_a_future_queried_at_does_not_stop_tax_codes_from_being_read_again(
    qbo_sim_factory: t.Any, tmp_path: Path
) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=100, anchor=ANCHOR)
    realm = sim.realm_ids[0]
    config = tap_config(sim, tmp_path)
    backfill = run_in_process(config, streams=["tax_codes"])
    state = copy.deepcopy(backfill.state)
    _partition(state, "tax_codes", realm)["queried_at"] = _utc(_server_now(sim) + datetime.timedelta(days=2))
    sim.reset_requests()
    result = run_in_process(config, state=state, streams=["tax_codes"])
    assert result.exit_code == 0
    assert [r.kind for r in sim.requests if r.kind != "token"] == ["query"], "re-read, not skipped for days"
    assert _partition(result.state, "tax_codes", realm)["queried_at"] <= _utc(_server_now(sim))


def test_a_start_date_later_than_intuits_clock_fails_the_realm_without_writing_a_cursor(
    qbo_sim_factory: t.Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=100, anchor=ANCHOR)
    realm = sim.realm_ids[0]
    start = _utc(_server_now(sim) + datetime.timedelta(days=30))
    config = tap_config(sim, tmp_path, start_date=start)
    with caplog.at_level(logging.INFO):
        result = run_in_process(config, streams=STREAMS)
    assert result.exit_code == 1
    errors = " ".join(_failure_lines(caplog))
    assert f"realm {realm}: start_date {start} is later than Intuit's clock" in errors
    assert "set start_date to a past date" in errors
    for stream in STREAMS:
        assert "cdc_cursor" not in _partition(result.state, stream, realm), "no cursor past unread changes"


def test_a_garbage_cursor_fails_its_realm_before_any_request_or_record(
    qbo_sim_factory: t.Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sim = qbo_sim_factory(companies=2, records_per_company=100, anchor=ANCHOR)
    broken, healthy = sim.realm_ids
    config = tap_config(sim, tmp_path)
    backfill = run_in_process(config, streams=STREAMS)
    state = _set_cursor(backfill.state, "invoices", broken, "last tuesday")
    sim.create(broken, "Customer", {"DisplayName": "Waits For The Fix"})  # customers sync before invoices
    created = sim.create(healthy, "Customer", {"DisplayName": "Unaffected Inc"})
    sim.reset_requests()
    with caplog.at_level(logging.INFO):
        result = run_in_process(config, state=state, streams=STREAMS)
    assert result.exit_code == 1
    assert result.ids() == [("customers", healthy, created["Id"])]
    assert sim.data_requests(broken) == 0
    errors = " ".join(_failure_lines(caplog))
    assert f"realm {broken}: the state's 'cdc_cursor' of stream 'invoices' is not an ISO date-time" in errors
    assert "last tuesday" not in errors


def test_a_cdc_delete_stub_without_last_updated_time_is_kept_as_a_delete(
    qbo_sim_factory: t.Any, tmp_path: Path
) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=100, anchor=ANCHOR)
    realm = sim.realm_ids[0]
    config = tap_config(sim, tmp_path)
    backfill = run_in_process(config, streams=STREAMS)
    invoice = backfill.stream("invoices")[0]["Id"]
    customer = backfill.stream("customers")[0]["Id"]
    before = _utc(_server_now(sim))
    sim.delete(realm, "Invoice", invoice)
    sim.tamper(realm, "Invoice", invoice, {"MetaData": DROP})
    sim.update(realm, "Customer", customer, {"CompanyName": "Renamed, Time Unknown"})
    sim.tamper(realm, "Customer", customer, {"MetaData": {}})

    result = run_in_process(config, state=backfill.state, streams=STREAMS)
    assert result.exit_code == 0
    assert sorted(result.ids()) == sorted([("customers", realm, customer), ("invoices", realm, invoice)])
    stub = result.stream("invoices")[0]
    assert stub["status"] == "Deleted"
    assert stub["_sdc_deleted_at"] is not None, "the target needs it to delete the row"
    assert stub["_sdc_deleted_at"] >= before, "stamped with the CDC response's time"
    assert result.stream("customers")[0]["CompanyName"] == "Renamed, Time Unknown"


@pytest.mark.parametrize(
    ("tampered", "expected"),
    [
        (
            {"MetaData": {"LastUpdatedTime": "20th of November"}},
            "MetaData.LastUpdatedTime is not an ISO 8601",
        ),
        (
            {"MetaData": {"LastUpdatedTime": "2026-11-20T10:00:00"}},
            "MetaData.LastUpdatedTime has no UTC offset",
        ),
    ],
)
def test_an_untrustworthy_last_updated_time_fails_only_its_realm_naming_entity_and_id(
    qbo_sim_factory: t.Any,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    tampered: dict[str, t.Any],
    expected: str,
) -> None:
    sim = qbo_sim_factory(companies=2, records_per_company=100, anchor=ANCHOR)
    broken, healthy = sim.realm_ids
    sim.tamper(broken, "Customer", "3", tampered)
    with caplog.at_level(logging.INFO):
        result = run_in_process(tap_config(sim, tmp_path), streams=STREAMS)
    assert result.exit_code == 1
    errors = " ".join(_failure_lines(caplog))
    assert f"realm {broken}: Customer Id 3: {expected}" in errors
    assert "20th of November" not in errors, "a record's values stay out of the log"
    for stream, entity in (("customers", "Customer"), ("invoices", "Invoice")):
        emitted = [r for r in result.stream(stream) if r["realm_id"] == healthy]
        assert len(emitted) == sim.count(healthy, entity)
    assert not any(r["realm_id"] == broken for r in result.stream("customers"))
    assert "cdc_cursor" not in _partition(result.state, "customers", broken)


def test_an_unreadable_server_time_fails_the_realm_instead_of_building_a_cursor_on_it(
    qbo_sim_factory: t.Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=100, anchor=ANCHOR)
    realm = sim.realm_ids[0]
    sim.service.time_override = "2026-11-25T03:14:15.926"  # no offset: which instant is it?
    with caplog.at_level(logging.INFO):
        result = run_in_process(tap_config(sim, tmp_path), streams=["customers"])
    assert result.exit_code == 1
    assert result.records == []
    assert f"realm {realm}: the response time has no UTC offset" in " ".join(_failure_lines(caplog))
    assert "cdc_cursor" not in _partition(result.state, "customers", realm)


def test_records_without_an_id_fail_the_realm_instead_of_collapsing_into_one(
    qbo_sim_factory: t.Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=100, anchor=ANCHOR)
    realm = sim.realm_ids[0]
    for record_id in ("2", "5"):
        sim.tamper(realm, "Customer", record_id, {"Id": DROP})
    with caplog.at_level(logging.INFO):
        result = run_in_process(tap_config(sim, tmp_path), streams=["customers"])
    assert result.exit_code == 1
    assert result.stream("customers") == []
    assert f"realm {realm}: Customer object has no Id" in " ".join(_failure_lines(caplog))


def test_a_numeric_id_is_emitted_as_the_string_the_schema_declares(
    qbo_sim_factory: t.Any, tmp_path: Path
) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=100, anchor=ANCHOR)
    realm = sim.realm_ids[0]
    sim.tamper(realm, "Customer", "4", {"Id": 4, "SyncToken": 2})
    result = run_in_process(tap_config(sim, tmp_path), streams=["customers"])
    assert result.exit_code == 0
    record = next(r for r in result.stream("customers") if r["Id"] == "4")
    assert record["SyncToken"] == "2"
    assert all(isinstance(r["Id"], str) for r in result.stream("customers"))
