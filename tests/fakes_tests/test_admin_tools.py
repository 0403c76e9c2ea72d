"""The HTTP admin API (for tests outside the simulator's process) and the offline record generator."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
import requests

from tests.fakes.qbo import QboSimulator, iter_entity_json, iter_entity_records
from tests.fakes.qbo.timefmt import parse_iso
from tests.fakes_tests.client import Company, refresh


def _admin(sim: QboSimulator, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    answer = requests.request(method, f"{sim.base_url}/admin/{path}", json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_info_lists_credentials_and_companies(qbo_sim: QboSimulator) -> None:
    info = _admin(qbo_sim, "GET", "info")

    assert info["token_url"] == qbo_sim.token_url
    assert info["client_id"] == qbo_sim.client_id
    assert [c["realm_id"] for c in info["companies"]] == qbo_sim.realm_ids
    assert [c["utc_offset"] for c in info["companies"]] == ["-07:00", "-05:00"]
    assert refresh(qbo_sim, info["companies"][0]["refresh_token"]).status_code == 200


def test_inject_limits_latency_and_clock_over_http(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)

    _admin(qbo_sim, "POST", "inject", {"fault": "http502", "times": 1})
    assert company.query("select * from Term").status_code == 502

    _admin(qbo_sim, "POST", "latency", {"seconds": 0.05})
    assert qbo_sim.latency == 0.05

    _admin(qbo_sim, "POST", "clock", {"offset_seconds": 7200})
    assert company.query("select * from Term").status_code == 401  # the access token expired an hour ago

    _admin(qbo_sim, "POST", "limits", {"requests_per_minute": 1, "max_concurrent": 1})
    assert qbo_sim.limiter.requests_per_minute == 1


def test_revoke_and_request_log_over_http(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)
    company.query("select * from Term")

    log = _admin(qbo_sim, "GET", "requests")
    _admin(qbo_sim, "POST", f"revoke/{company.realm_id}")
    _admin(qbo_sim, "POST", "requests/reset")

    assert [entry["kind"] for entry in log] == ["token", "query"]
    assert company.query("select * from Term").status_code == 401
    assert [r.kind for r in qbo_sim.requests] == ["admin", "query"]  # the reset itself is logged after it


def test_admin_errors_are_json(qbo_sim: QboSimulator) -> None:
    answer = requests.post(f"{qbo_sim.base_url}/admin/inject", json={"fault": "nope"}, timeout=10)
    missing = requests.get(f"{qbo_sim.base_url}/admin/nothing/here/at/all", timeout=10)

    assert answer.status_code == 400
    assert "unknown fault" in answer.json()["error"]
    assert missing.status_code == 404


def test_cdc_sees_records_created_and_updated_through_the_api(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)
    since = qbo_sim.stores[company.realm_id].company.clock.seconds(int(qbo_sim.now()) - 2)
    created = qbo_sim.create(company.realm_id, "Customer", {"DisplayName": "Brand New"})
    qbo_sim.update(company.realm_id, "Invoice", "2", {"PrivateNote": "touched"})

    body = company.get("cdc", entities="Customer,Invoice", changedSince=since).json()

    blocks = body["CDCResponse"][0]["QueryResponse"]
    found = {
        key: [r["Id"] for r in rows] for block in blocks for key, rows in block.items() if key[0].isupper()
    }
    assert found == {"Customer": [created["Id"]], "Invoice": ["2"]}


def test_iter_entity_json_matches_iter_entity_records() -> None:
    as_json = [orjson.loads(line) for line in iter_entity_json("Bill", 20, seed=5)]
    as_records = list(iter_entity_records("Bill", 20, seed=5))

    assert [r["Id"] for r in as_json] == [r["Id"] for r in as_records]
    assert [Decimal(str(r["TotalAmt"])) for r in as_json] == [r["TotalAmt"] for r in as_records]
    assert b'"TotalAmt":' in next(iter_entity_json("Bill", 1, seed=5))


def test_iter_entity_records_spreads_history_over_two_years() -> None:
    records = list(iter_entity_records("Invoice", 200))
    first = parse_iso(records[0]["MetaData"]["LastUpdatedTime"])
    last = parse_iso(records[-1]["MetaData"]["LastUpdatedTime"])

    assert 700 * 86400 < last - first < 731 * 86400
