"""Read by Id, sparse update with SyncToken, create, delete, and the Python mutation API."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

from tests.fakes.qbo import QboSimulator
from tests.fakes.qbo.timefmt import parse_iso
from tests.fakes_tests.client import Company, decimal_json, fault_code


def test_read_returns_the_record_under_its_entity_name(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)

    body = decimal_json(company.get("invoice/4"))

    assert body["Invoice"] == qbo_sim.get(company.realm_id, "Invoice", "4")
    assert body["time"].endswith(qbo_sim.stores[company.realm_id].company.clock.suffix)


def test_read_of_missing_record_is_fault_610(qbo_sim: QboSimulator) -> None:
    answer = Company(qbo_sim).get("invoice/999999")

    assert answer.status_code == 400
    assert fault_code(answer) == "610"
    assert answer.json()["Fault"]["Error"][0]["Message"] == "Object Not Found"


def test_sparse_update_bumps_sync_token_and_last_updated(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)
    before = decimal_json(company.get("customer/2"))["Customer"]

    answer = company.post(
        "customer", {"Id": "2", "SyncToken": before["SyncToken"], "sparse": True, "DisplayName": "Renamed"}
    )

    after = decimal_json(answer)["Customer"]
    assert answer.status_code == 200
    assert int(after["SyncToken"]) == int(before["SyncToken"]) + 1
    assert after["DisplayName"] == "Renamed"
    assert after["GivenName"] == before["GivenName"]
    assert parse_iso(after["MetaData"]["LastUpdatedTime"]) > parse_iso(before["MetaData"]["LastUpdatedTime"])
    assert after["MetaData"]["CreateTime"] == before["MetaData"]["CreateTime"]


def test_stale_sync_token_is_fault_5010(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)
    current = decimal_json(company.get("invoice/1"))["Invoice"]["SyncToken"]
    company.post("invoice", {"Id": "1", "SyncToken": current, "sparse": True, "PrivateNote": "first"})

    answer = company.post(
        "invoice", {"Id": "1", "SyncToken": current, "sparse": True, "PrivateNote": "second"}
    )

    assert answer.status_code == 400
    assert fault_code(answer) == "5010"
    assert answer.json()["Fault"]["Error"][0]["Message"] == "Stale Object Error"
    assert qbo_sim.get(company.realm_id, "Invoice", "1")["PrivateNote"] == "first"  # type: ignore[index]


def test_post_without_id_creates_a_record_with_sync_token_0(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)
    count = qbo_sim.count(company.realm_id, "Vendor")

    created = decimal_json(company.post("vendor", {"DisplayName": "New Supplier"}))["Vendor"]

    assert created["DisplayName"] == "New Supplier"
    assert created["SyncToken"] == "0"
    assert created["Id"] == str(count + 1)
    assert created["MetaData"]["CreateTime"] == created["MetaData"]["LastUpdatedTime"]


def test_delete_operation_needs_current_sync_token(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)
    record = decimal_json(company.get("bill/3"))["Bill"]

    stale = company.post("bill", {"Id": "3", "SyncToken": "99"}, operation="delete")
    deleted = company.post("bill", {"Id": "3", "SyncToken": record["SyncToken"]}, operation="delete")

    assert fault_code(stale) == "5010"
    assert deleted.json()["Bill"]["status"] == "Deleted"
    assert fault_code(company.get("bill/3")) == "610"
    assert qbo_sim.get(company.realm_id, "Bill", "3") is None


def test_python_mutations_stamp_now_and_strictly_later(qbo_sim: QboSimulator) -> None:
    realm = qbo_sim.realm_ids[0]
    first = qbo_sim.update(realm, "Item", "1", {"Description": "a"})
    second = qbo_sim.update(realm, "Item", "1", {"Description": "b"})

    t1 = parse_iso(first["MetaData"]["LastUpdatedTime"])
    t2 = parse_iso(second["MetaData"]["LastUpdatedTime"])
    assert t2 > t1
    assert abs(t1 - qbo_sim.now()) < 5


def test_clock_offset_moves_mutation_stamps(qbo_sim: QboSimulator) -> None:
    realm = qbo_sim.realm_ids[0]
    qbo_sim.clock_offset = timedelta(days=3)

    created = qbo_sim.create(realm, "Invoice", {"PrivateNote": "future"})

    stamp = parse_iso(created["MetaData"]["LastUpdatedTime"])
    assert time.time() + 3 * 86400 - 5 < stamp <= time.time() + 3 * 86400


def test_created_invoice_has_consistent_money(qbo_sim: QboSimulator) -> None:
    created = qbo_sim.create(qbo_sim.realm_ids[1], "Invoice")

    assert created["Balance"] == created["TotalAmt"]
    assert isinstance(created["TotalAmt"], Decimal)
    assert qbo_sim.get(qbo_sim.realm_ids[1], "Invoice", created["Id"]) == created


def test_update_to_inactive_hides_a_list_record(qbo_sim: QboSimulator) -> None:
    realm = qbo_sim.realm_ids[0]
    active = qbo_sim.count(realm, "Vendor", include_inactive=False)

    qbo_sim.update(realm, "Vendor", "1", {"Active": False})

    assert qbo_sim.count(realm, "Vendor", include_inactive=False) == active - (1 if active else 0)
    assert qbo_sim.get(realm, "Vendor", "1")["Active"] is False  # type: ignore[index]


def test_admin_http_api_drives_mutations(qbo_sim: QboSimulator) -> None:
    import requests

    realm = qbo_sim.realm_ids[0]
    created = requests.post(
        f"{qbo_sim.base_url}/admin/{realm}/Customer", json={"DisplayName": "Via admin"}, timeout=10
    ).json()
    updated = requests.post(
        f"{qbo_sim.base_url}/admin/{realm}/Customer/{created['Id']}", json={"Notes": "edited"}, timeout=10
    ).json()
    gone = requests.delete(f"{qbo_sim.base_url}/admin/{realm}/Customer/{created['Id']}", timeout=10)

    assert updated["SyncToken"] == "1"
    assert updated["Notes"] == "edited"
    assert gone.status_code == 200
    assert qbo_sim.get(realm, "Customer", created["Id"]) is None
    assert [r.kind for r in qbo_sim.requests] == ["admin", "admin", "admin"]
