"""Change data capture: look-back limit, 1000-object cap, delete stubs, shapes and unsupported entities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.fakes.qbo import QboSimulator
from tests.fakes.qbo.fixtures import SimFactory
from tests.fakes.qbo.timefmt import parse_iso
from tests.fakes_tests.client import Company, decimal_json, fault_code


def _since(delta: timedelta) -> str:
    return (datetime.now(UTC) - delta).astimezone(UTC).isoformat(timespec="seconds")


def _changes(company: Company, entities: str, since: str) -> dict[str, list[dict[str, Any]]]:
    answer = company.get("cdc", entities=entities, changedSince=since)
    assert answer.status_code == 200, answer.text
    blocks = decimal_json(answer)["CDCResponse"][0]["QueryResponse"]
    found: dict[str, list[dict[str, Any]]] = {}
    for block in blocks:
        for key, value in block.items():
            if isinstance(value, list):
                found[key] = value
    return found


def test_changed_since_older_than_30_days_is_a_400_fault(qbo_sim: QboSimulator) -> None:
    answer = Company(qbo_sim).get("cdc", entities="Invoice", changedSince=_since(timedelta(days=31)))

    assert answer.status_code == 400
    assert "older than fixed days is not supported" in answer.json()["Fault"]["Error"][0]["Detail"]


def test_returns_recent_changes_of_each_requested_entity(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)
    since = _since(timedelta(days=29))

    found = _changes(company, "Invoice,Customer", since)

    recent = [
        r
        for r in qbo_sim.iter_records(company.realm_id, "Invoice")
        if parse_iso(r["MetaData"]["LastUpdatedTime"]) >= parse_iso(since)
    ]
    assert [r["Id"] for r in found["Invoice"]] == [r["Id"] for r in recent]
    assert recent, "the default company has invoices in the last 29 days"


def test_response_shape_with_start_position_and_max_results(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)
    answer = company.get("cdc", entities="Invoice", changedSince=_since(timedelta(days=29))).json()

    block = answer["CDCResponse"][0]["QueryResponse"][0]
    assert block["startPosition"] == 1
    assert block["maxResults"] == len(block["Invoice"])
    assert answer["time"]


def test_no_changes_gives_a_single_empty_query_response(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)
    future = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()

    answer = company.get("cdc", entities="Invoice,Customer", changedSince=future).json()

    assert answer["CDCResponse"] == [{"QueryResponse": [{}]}]


def test_deleted_records_come_as_stubs(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)
    since = _since(timedelta(minutes=1))

    qbo_sim.delete(company.realm_id, "Invoice", "5")

    [stub] = _changes(company, "Invoice", since)["Invoice"]
    assert stub["status"] == "Deleted"
    assert stub["domain"] == "QBO"
    assert stub["Id"] == "5"
    assert set(stub) == {"domain", "status", "Id", "MetaData"}
    assert set(stub["MetaData"]) == {"LastUpdatedTime"}


def test_inactive_list_records_are_included(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)
    since = _since(timedelta(minutes=1))

    qbo_sim.update(company.realm_id, "Customer", "3", {"Active": False})

    [customer] = _changes(company, "Customer", since)["Customer"]
    assert customer["Id"] == "3"
    assert customer["Active"] is False


def test_at_most_1000_objects_the_oldest_changes_first(qbo_sim_factory: SimFactory) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=3000, history_days=20)
    company = Company(sim)
    since = _since(timedelta(days=25))

    found = _changes(company, "Invoice,Bill,Customer", since)

    returned = [parse_iso(r["MetaData"]["LastUpdatedTime"]) for rows in found.values() for r in rows]
    assert len(returned) == 1000
    everything = sorted(
        parse_iso(r["MetaData"]["LastUpdatedTime"])
        for entity in ("Invoice", "Bill", "Customer")
        for r in sim.iter_records(company.realm_id, entity)
    )
    assert len(everything) > 1000
    assert max(returned) <= everything[999]


def test_taxcode_is_not_available_through_cdc(qbo_sim: QboSimulator) -> None:
    answer = Company(qbo_sim).get("cdc", entities="Invoice,TaxCode", changedSince=_since(timedelta(days=1)))

    assert answer.status_code == 400
    assert fault_code(answer) == "10000"


def test_missing_parameters_are_faults(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)

    assert company.get("cdc", entities="Invoice").status_code == 400
    assert company.get("cdc", changedSince=_since(timedelta(days=1))).status_code == 400
