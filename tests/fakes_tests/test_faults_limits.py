"""Throttling (per minute, concurrency), injected faults and the request log."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.fakes.qbo import QboSimulator
from tests.fakes.qbo.fixtures import SimFactory
from tests.fakes_tests.client import Company, fault_code, refresh

TERMS = "select * from Term"


def test_over_the_per_minute_limit_is_429_fault_3001(qbo_sim_factory: SimFactory) -> None:
    company = Company(qbo_sim_factory(requests_per_minute=5))

    statuses = [company.query(TERMS).status_code for _ in range(6)]

    assert statuses == [200] * 5 + [429]
    answer = company.query(TERMS)
    assert fault_code(answer) == "3001"
    assert answer.headers["Content-Type"].startswith("application/json")


def test_limits_are_per_company_and_the_token_endpoint_is_not_limited(qbo_sim_factory: SimFactory) -> None:
    sim = qbo_sim_factory(requests_per_minute=2)
    first = Company(sim, sim.realm_ids[0])
    for _ in range(2):
        first.query(TERMS)

    assert first.query(TERMS).status_code == 429
    assert Company(sim, sim.realm_ids[1]).query(TERMS).status_code == 200
    assert all(refresh(sim, sim.current_refresh_token(sim.realm_ids[0])).status_code == 200 for _ in range(4))


def test_over_the_concurrency_limit_is_429(qbo_sim_factory: SimFactory) -> None:
    sim = qbo_sim_factory(max_concurrent=2, latency=1.0)
    company = Company(sim)

    with ThreadPoolExecutor(4) as pool:
        statuses = sorted(pool.map(lambda _: company.query(TERMS).status_code, range(4)))

    assert statuses == [200, 200, 429, 429]


def test_optional_per_second_limit(qbo_sim_factory: SimFactory) -> None:
    company = Company(qbo_sim_factory(requests_per_second=3))

    burst = [company.query(TERMS).status_code for _ in range(4)]
    time.sleep(1.05)

    assert burst == [200, 200, 200, 429]
    assert company.query(TERMS).status_code == 200


def test_set_limits_changes_the_budget(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)
    qbo_sim.set_limits(requests_per_minute=1, max_concurrent=10)

    assert [company.query(TERMS).status_code for _ in range(2)] == [200, 429]


def test_injected_xml_throttle_body(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)
    qbo_sim.inject("http429_xml")

    answer = company.query(TERMS)

    assert answer.status_code == 429
    assert answer.headers["Content-Type"].startswith("text/xml")
    assert answer.text.startswith('<?xml version="1.0"?>')
    assert '<Fault type="ThrottleException"><Error code="3001">' in answer.text
    assert "message=ThrottleExceeded; errorCode=003001; statusCode=429" in answer.text
    assert company.query(TERMS).status_code == 200


def test_real_throttles_can_use_the_xml_body(qbo_sim_factory: SimFactory) -> None:
    company = Company(qbo_sim_factory(requests_per_minute=1, xml_throttle_probability=1.0))
    company.query(TERMS)

    answer = company.query(TERMS)

    assert answer.status_code == 429
    assert "ThrottleException" in answer.text


def test_fault_inside_http_200(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)
    qbo_sim.inject("fault200")

    answer = company.query(TERMS)

    assert answer.status_code == 200
    assert answer.json()["Fault"]["Error"][0]["code"]
    assert "QueryResponse" not in answer.json()


def test_dropped_connection_then_recovery(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)
    qbo_sim.inject("drop")

    with pytest.raises(requests.ConnectionError):
        company.query(TERMS)

    assert company.query(TERMS).status_code == 200
    assert [r.status for r in qbo_sim.requests if r.kind == "query"] == [0, 200]


@pytest.mark.parametrize(
    ("fault", "status"),
    [("http500", 500), ("http502", 502), ("http503", 503), ("http429", 429), ("fault6002", 504)],
)
def test_injected_http_errors(qbo_sim: QboSimulator, fault: str, status: int) -> None:
    company = Company(qbo_sim)
    qbo_sim.inject(fault, times=2)

    statuses = [company.query(TERMS).status_code for _ in range(3)]

    assert statuses == [status, status, 200]


def test_invalid_json_body(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)
    qbo_sim.inject("invalid_json")

    answer = company.query(TERMS)

    assert answer.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer.text)


def test_slow_response_and_global_latency(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)
    qbo_sim.inject("slow", delay=0.3)
    started = time.monotonic()
    assert company.query(TERMS).status_code == 200
    slow = time.monotonic() - started

    qbo_sim.latency = 0.2
    started = time.monotonic()
    company.query(TERMS)
    latency = time.monotonic() - started

    assert slow >= 0.3
    assert latency >= 0.2


def test_path_filter_can_target_the_token_endpoint(qbo_sim: QboSimulator) -> None:
    qbo_sim.inject("http503", path_contains="/oauth2/")
    company_token = qbo_sim.current_refresh_token(qbo_sim.realm_ids[0])

    assert refresh(qbo_sim, company_token).status_code == 503
    assert refresh(qbo_sim, company_token).status_code == 200


def test_path_filter_only_hits_matching_data_requests(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)
    qbo_sim.inject("http500", path_contains="/cdc")

    assert company.query(TERMS).status_code == 200
    assert company.get("cdc", entities="Term", changedSince="2100-01-01T00:00:00Z").status_code == 500


def test_unknown_fault_name_is_rejected(qbo_sim: QboSimulator) -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        qbo_sim.inject("http418")


def test_request_log_counts_data_requests_per_company(qbo_sim: QboSimulator) -> None:
    first, second = Company(qbo_sim, qbo_sim.realm_ids[0]), Company(qbo_sim, qbo_sim.realm_ids[1])
    qbo_sim.reset_requests()
    first.query(TERMS)
    first.get("term/1")
    first.get("cdc", entities="Term", changedSince="2100-01-01T00:00:00Z")
    first.post("term", {"Name": "Net 90"})
    second.query(TERMS)

    assert qbo_sim.data_requests() == 4
    assert qbo_sim.data_requests(first.realm_id) == 3
    assert [r.kind for r in qbo_sim.requests] == ["query", "read", "cdc", "write", "query"]
    assert qbo_sim.requests[0].realm_id == first.realm_id
    assert qbo_sim.requests[0].status == 200


def test_random_faults_follow_the_seeded_probability(qbo_sim_factory: SimFactory) -> None:
    company = Company(qbo_sim_factory(random_fault_probability=0.5, requests_per_minute=1000))

    statuses = [company.query(TERMS).status_code for _ in range(40)]

    assert 5 < sum(status >= 500 for status in statuses) < 35
    assert set(statuses) <= {200, 500, 502, 503}


def test_a_simulator_bug_answers_500_and_is_logged(
    qbo_sim: QboSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    company = Company(qbo_sim)

    def broken(realm_id: str, statement: str) -> bytes:
        raise RuntimeError("boom")

    monkeypatch.setattr(qbo_sim.service, "query", broken)
    answer = company.query(TERMS)

    assert answer.status_code == 500
    assert "boom" in answer.json()["Fault"]["Error"][0]["Detail"]
    assert qbo_sim.requests[-1].status == 500
    assert company.get("term/1").status_code == 200
