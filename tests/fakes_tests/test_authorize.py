"""Connecting a company: the authorize redirect, the authorization-code grant and CompanyInfo."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import requests

from tests.fakes.qbo import QboSimulator
from tests.fakes_tests.client import refresh

REDIRECT = "http://127.0.0.1:8040/callback"


def click_connect(sim: QboSimulator, redirect_uri: str = REDIRECT, **params: str) -> requests.Response:
    """GET Intuit's authorize URL on the simulator without following its redirect."""
    query = {
        "client_id": sim.client_id,
        "response_type": "code",
        "scope": "com.intuit.quickbooks.accounting",
        "redirect_uri": redirect_uri,
        "state": "st-123",
        **params,
    }
    return requests.get(f"{sim.base_url}/connect/oauth2", params=query, allow_redirects=False, timeout=10)


def callback_params(answer: requests.Response) -> dict[str, str]:
    assert answer.status_code == 302, answer.text
    return {key: values[0] for key, values in parse_qs(urlsplit(answer.headers["Location"]).query).items()}


def exchange(
    sim: QboSimulator, code: str, redirect_uri: str = REDIRECT, secret: str = ""
) -> requests.Response:
    return requests.post(
        sim.token_url,
        auth=(sim.client_id, secret or sim.client_secret),
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
        headers={"Accept": "application/json"},
        timeout=10,
    )


def test_connect_redirects_to_the_redirect_uri_with_code_state_and_the_chosen_realm(
    qbo_sim: QboSimulator,
) -> None:
    realm = qbo_sim.realm_ids[1]

    answer = click_connect(qbo_sim, sim_realm=realm)

    assert answer.headers["Location"].startswith(REDIRECT + "?")
    params = callback_params(answer)
    assert params["state"] == "st-123"
    assert params["realmId"] == realm
    assert params["code"]


def test_the_code_buys_a_first_refresh_token_that_then_rotates(qbo_sim: QboSimulator) -> None:
    realm = qbo_sim.realm_ids[0]
    code = callback_params(click_connect(qbo_sim))["code"]

    body = exchange(qbo_sim, code).json()

    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["x_refresh_token_expires_in"] == 8726400
    assert body["refresh_token"] == qbo_sim.current_refresh_token(realm)
    assert refresh(qbo_sim, body["refresh_token"]).status_code == 200


def test_a_code_works_once(qbo_sim: QboSimulator) -> None:
    code = callback_params(click_connect(qbo_sim))["code"]
    assert exchange(qbo_sim, code).status_code == 200

    again = exchange(qbo_sim, code)

    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_a_code_older_than_ten_minutes_is_refused(qbo_sim: QboSimulator) -> None:
    code = callback_params(click_connect(qbo_sim))["code"]
    qbo_sim.clock_offset = timedelta(minutes=11)

    late = exchange(qbo_sim, code)

    assert late.status_code == 400
    assert late.json()["error"] == "invalid_grant"


def test_a_code_is_bound_to_its_redirect_uri_and_is_spent_by_a_wrong_one(qbo_sim: QboSimulator) -> None:
    code = callback_params(click_connect(qbo_sim))["code"]

    wrong = exchange(qbo_sim, code, redirect_uri="http://127.0.0.1:9999/elsewhere")

    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    assert exchange(qbo_sim, code).json()["error"] == "invalid_grant"


def test_bad_client_credentials_get_invalid_client_and_keep_the_code(qbo_sim: QboSimulator) -> None:
    code = callback_params(click_connect(qbo_sim))["code"]

    wrong = exchange(qbo_sim, code, secret="not-the-secret")

    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    assert exchange(qbo_sim, code).status_code == 200


def test_an_unknown_code_and_a_missing_redirect_uri_are_refused(qbo_sim: QboSimulator) -> None:
    assert exchange(qbo_sim, "AB11-made-up").json()["error"] == "invalid_grant"
    assert exchange(qbo_sim, "AB11-made-up", redirect_uri=" ").status_code == 400
    missing = requests.post(
        qbo_sim.token_url,
        auth=(qbo_sim.client_id, qbo_sim.client_secret),
        data={"grant_type": "authorization_code", "code": "x"},
        timeout=10,
    )
    assert missing.json()["error"] == "invalid_request"


def test_connecting_again_replaces_the_company_refresh_token(qbo_sim: QboSimulator) -> None:
    realm = qbo_sim.realm_ids[0]
    old = qbo_sim.current_refresh_token(realm)

    exchange(qbo_sim, callback_params(click_connect(qbo_sim))["code"])

    assert refresh(qbo_sim, old).json()["error"] == "invalid_grant"


def test_cancel_on_the_consent_screen_redirects_with_access_denied(qbo_sim: QboSimulator) -> None:
    params = callback_params(click_connect(qbo_sim, sim_decision="deny"))

    assert params == {"error": "access_denied", "state": "st-123"}


def test_a_wrong_response_type_or_scope_is_answered_on_the_redirect(qbo_sim: QboSimulator) -> None:
    assert (
        callback_params(click_connect(qbo_sim, response_type="token"))["error"] == "unsupported_response_type"
    )
    assert callback_params(click_connect(qbo_sim, scope="openid"))["error"] == "invalid_scope"


def test_an_unknown_client_or_unregistered_redirect_uri_gets_an_error_page_not_a_redirect(
    qbo_sim: QboSimulator,
) -> None:
    qbo_sim.authority.redirect_uris = {REDIRECT}

    unknown_client = click_connect(qbo_sim, client_id="someone-else")
    unregistered = click_connect(qbo_sim, redirect_uri="https://evil.example/steal")

    assert unknown_client.status_code == 400
    assert "client_id" in unknown_client.text
    assert unregistered.status_code == 400
    assert "Location" not in unregistered.headers
    assert click_connect(qbo_sim).status_code == 302


def test_company_info_names_the_connected_company(qbo_sim: QboSimulator) -> None:
    realm = qbo_sim.realm_ids[1]
    access = exchange(qbo_sim, callback_params(click_connect(qbo_sim, sim_realm=realm))["code"]).json()
    headers = {"Authorization": f"Bearer {access['access_token']}", "Accept": "application/json"}
    url = f"{qbo_sim.company_url(realm)}/companyinfo"

    info = requests.get(f"{url}/{realm}", params={"minorversion": "75"}, headers=headers, timeout=10)
    other_id = requests.get(f"{url}/1", headers=headers, timeout=10)

    assert info.status_code == 200
    assert info.json()["CompanyInfo"]["CompanyName"] == qbo_sim.stores[realm].company.name
    assert info.json()["CompanyInfo"]["Country"] == "USA"
    assert other_id.json()["Fault"]["Error"][0]["code"] == "610"
    assert any(r.kind == "read" and "companyinfo" in r.path for r in qbo_sim.requests)
