"""Records keep QBO's shape, gain realm_id and a UTC last_updated_at, and are emitted once per version."""

from __future__ import annotations

from decimal import Decimal

from tap_quickbooks_cdc.records import Deduplicator, make_record, normalise_time


def test_last_updated_at_is_utc_in_one_fixed_format() -> None:
    assert normalise_time("2026-11-20T10:00:00-07:00") == "2026-11-20T17:00:00+00:00"
    assert normalise_time("2026-11-20T17:00:00.926Z") == "2026-11-20T17:00:00+00:00"
    assert normalise_time("2026-11-21T02:00:00+09:00") == "2026-11-20T17:00:00+00:00"


def test_string_order_of_normalised_times_is_time_order() -> None:
    west = normalise_time("2026-11-20T10:00:01-07:00")  # 17:00:01 UTC
    east = normalise_time("2026-11-20T13:00:00-04:00")  # 17:00:00 UTC
    assert east < west


def test_record_keeps_qbo_fields_and_exact_money() -> None:
    obj = {
        "Id": "42",
        "SyncToken": "3",
        "TotalAmt": Decimal("1234.57"),
        "Line": [{"Amount": Decimal("0.10")}],
        "MetaData": {"LastUpdatedTime": "2026-09-19T13:16:17-07:00"},
    }
    record = make_record(obj, "9130")
    assert record["realm_id"] == "9130"
    assert record["last_updated_at"] == "2026-09-19T20:16:17+00:00"
    assert record["TotalAmt"] == Decimal("1234.57")
    assert record["Line"][0]["Amount"] == Decimal("0.10")
    assert record["_sdc_deleted_at"] is None


def test_cdc_delete_stub_becomes_a_delete_record() -> None:
    stub = {
        "domain": "QBO",
        "status": "Deleted",
        "Id": "979",
        "MetaData": {"LastUpdatedTime": "2026-11-01T08:00:00-08:00"},
    }
    record = make_record(stub, "9130")
    assert record["_sdc_deleted_at"] == "2026-11-01T16:00:00+00:00"
    assert record["last_updated_at"] == "2026-11-01T16:00:00+00:00"
    assert record["status"] == "Deleted"
    assert record["Id"] == "979"


def test_same_version_is_emitted_once() -> None:
    dedup = Deduplicator()
    assert dedup.admit({"Id": "1", "SyncToken": "0"})
    assert not dedup.admit({"Id": "1", "SyncToken": "0"})


def test_sync_token_compares_as_a_number() -> None:
    dedup = Deduplicator()
    assert dedup.admit({"Id": "1", "SyncToken": "9"})
    assert dedup.admit({"Id": "1", "SyncToken": "10"})
    assert not dedup.admit({"Id": "1", "SyncToken": "9"})


def test_nothing_follows_a_delete_of_the_same_id() -> None:
    dedup = Deduplicator()
    assert dedup.admit({"Id": "7", "SyncToken": "2"})
    assert dedup.admit({"Id": "7", "status": "Deleted"})
    assert not dedup.admit({"Id": "7", "SyncToken": "3"})
    assert dedup.admit({"Id": "8", "SyncToken": "0"})
