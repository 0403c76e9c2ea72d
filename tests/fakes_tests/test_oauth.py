"""OAuth: refresh-token rotation, access-token expiry, revocation and client authentication."""

from __future__ import annotations

import time

import requests

from tests.fakes.qbo import QboSimulator
from tests.fakes.qbo.fixtures import SimFactory
from tests.fakes_tests.client import Company, fault_code, refresh


def test_refresh_returns_bearer_tokens_with_intuit_lifetimes(qbo_sim: QboSimulator) -> None:
    answer = refresh(qbo_sim, qbo_sim.current_refresh_token(qbo_sim.realm_ids[0]))

    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["x_refresh_token_expires_in"] == 8726400
    assert body["access_token"]
    assert "x_refresh_token_hard_expires_in" not in body


def test_hard_expiry_is_reported_only_when_asked(qbo_sim: QboSimulator) -> None:
    answer = refresh(
        qbo_sim,
        qbo_sim.current_refresh_token(qbo_sim.realm_ids[0]),
        **{"x-include-refresh-token-hard-expires-in": "true"},
    )

    assert answer.json()["x_refresh_token_hard_expires_in"] > 4 * 365 * 86400


def test_each_refresh_rotates_and_the_old_refresh_token_is_dead(qbo_sim: QboSimulator) -> None:
    realm = qbo_sim.realm_ids[0]
    first = qbo_sim.current_refresh_token(realm)

    rotated = refresh(qbo_sim, first).json()["refresh_token"]
    reused = refresh(qbo_sim, first)

    assert rotated != first
    assert qbo_sim.current_refresh_token(realm) == rotated
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    assert refresh(qbo_sim, rotated).status_code == 200


def test_previous_access_token_stays_valid_after_a_refresh(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)
    refresh(qbo_sim, qbo_sim.current_refresh_token(company.realm_id))

    assert company.query("select * from Term").status_code == 200


def test_expired_access_token_gets_401_fault_3200(qbo_sim_factory: SimFactory) -> None:
    sim = qbo_sim_factory(access_token_ttl=1.0)
    company = Company(sim)
    assert company.query("select * from Term").status_code == 200

    time.sleep(1.2)
    answer = company.query("select * from Term")

    assert answer.status_code == 401
    assert fault_code(answer) == "3200"
    assert answer.json()["Fault"]["type"] == "AUTHENTICATION"
    assert "time" in answer.json()


def test_clock_offset_expires_access_tokens(qbo_sim: QboSimulator) -> None:
    from datetime import timedelta

    company = Company(qbo_sim)
    qbo_sim.clock_offset = timedelta(hours=2)

    assert company.query("select * from Term").status_code == 401


def test_revoked_company_gets_invalid_grant_and_401(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim)
    token = qbo_sim.current_refresh_token(company.realm_id)

    qbo_sim.revoke(company.realm_id)

    assert refresh(qbo_sim, token).json()["error"] == "invalid_grant"
    assert company.query("select * from Term").status_code == 401
    other = Company(qbo_sim, qbo_sim.realm_ids[1])
    assert other.query("select * from Term").status_code == 200


def test_unknown_refresh_token_is_invalid_grant(qbo_sim: QboSimulator) -> None:
    answer = refresh(qbo_sim, "RT1-not-a-token")

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    assert answer.json()["error_description"]


def test_bad_client_credentials_get_401_invalid_client(qbo_sim: QboSimulator) -> None:
    answer = requests.post(
        qbo_sim.token_url,
        auth=(qbo_sim.client_id, "wrong-secret"),
        data={
            "grant_type": "refresh_token",
            "refresh_token": qbo_sim.current_refresh_token(qbo_sim.realm_ids[0]),
        },
        timeout=10,
    )

    assert answer.status_code == 401
    assert answer.json() == {"error": "invalid_client"}


def test_token_for_another_company_is_refused_with_403(qbo_sim: QboSimulator) -> None:
    company = Company(qbo_sim, qbo_sim.realm_ids[0])
    company.url = f"{qbo_sim.base_url}/v3/company/{qbo_sim.realm_ids[1]}"

    answer = company.query("select * from Term")

    assert answer.status_code == 403
    assert fault_code(answer) == "3201"


def test_missing_bearer_token_is_401(qbo_sim: QboSimulator) -> None:
    answer = requests.get(
        f"{qbo_sim.company_url(qbo_sim.realm_ids[0])}/query",
        params={"query": "select * from Term"},
        timeout=10,
    )

    assert answer.status_code == 401
    assert fault_code(answer) == "3200"
