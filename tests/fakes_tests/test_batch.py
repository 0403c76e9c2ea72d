"""The batch endpoint: up to 30 queries and writes per request, per-item Faults, 40 batches a minute."""

from __future__ import annotations

from typing import Any

from tests.fakes.qbo import QboSimulator
from tests.fakes.qbo.fixtures import SimFactory
from tests.fakes_tests.client import Company, decimal_json, fault_code


def _batch(company: Company, items: list[dict[str, Any]]) -> Any:
    answer = company.post("batch", {"BatchItemRequest": items})
    assert answer.status_code == 200, answer.text
    body = decimal_json(answer)
    assert body["time"]
    return {item["bId"]: item for item in body["BatchItemResponse"]}


def test_queries_and_writes_in_one_request(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)
    invoice = qbo_sim.get(company.realm_id, "Invoice", "7")
    bill = qbo_sim.get(company.realm_id, "Bill", "2")
    assert invoice is not None
    assert bill is not None
    update = {"Id": "7", "SyncToken": invoice["SyncToken"], "sparse": True, "PrivateNote": "batched"}

    answers = _batch(
        company,
        [
            {"bId": "q", "Query": "select * from Invoice where Id = '7'"},
            {"bId": "u", "operation": "update", "Invoice": update},
            {"bId": "c", "operation": "create", "Vendor": {"DisplayName": "Batch Supplies"}},
            {"bId": "d", "operation": "delete", "Bill": {"Id": "2", "SyncToken": bill["SyncToken"]}},
        ],
    )

    assert answers["q"]["QueryResponse"]["Invoice"] == [invoice]
    assert answers["u"]["Invoice"]["PrivateNote"] == "batched"
    assert answers["c"]["Vendor"]["DisplayName"] == "Batch Supplies"
    assert answers["d"]["Bill"]["status"] == "Deleted"
    assert qbo_sim.get(company.realm_id, "Bill", "2") is None
    assert [r.kind for r in qbo_sim.requests][-1] == "batch"
    assert qbo_sim.data_requests(company.realm_id) == 1


def test_a_failing_item_gets_its_own_fault(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)

    answers = _batch(
        company,
        [
            {
                "bId": "stale",
                "operation": "update",
                "Invoice": {"Id": "1", "SyncToken": "99", "sparse": True},
            },
            {"bId": "bad", "Query": "select nonsense"},
            {"bId": "ok", "Query": "select count(*) from Term"},
        ],
    )

    assert answers["stale"]["Fault"]["Error"][0]["code"] == "5010"
    assert answers["bad"]["Fault"]["Error"][0]["code"] == "4000"
    assert answers["ok"]["QueryResponse"]["totalCount"] == qbo_sim.count(company.realm_id, "Term")


def test_more_than_30_items_is_refused(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)
    items = [{"bId": str(n), "Query": "select * from Term"} for n in range(31)]

    answer = company.post("batch", {"BatchItemRequest": items})

    assert answer.status_code == 400
    assert fault_code(answer) == "2010"
    assert len(_batch(company, items[:30])) == 30


def test_40_batches_a_minute(qbo_sim_factory: SimFactory) -> None:
    company = Company(qbo_sim_factory(companies=1, records_per_company=100))
    item = [{"bId": "1", "Query": "select * from Term"}]

    statuses = [company.post("batch", {"BatchItemRequest": item}).status_code for _ in range(41)]

    assert statuses == [200] * 40 + [429]
    assert company.query("select * from Term").status_code == 200
