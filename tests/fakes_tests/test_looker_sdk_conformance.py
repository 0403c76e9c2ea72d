"""The Looker simulator driven by the real looker-sdk 4.0: every path, verb and body it uses must be what the
simulator serves, and the SDK must see what real Looker would make it see (errors as ``SDKError``)."""

from __future__ import annotations

import datetime
import json
import time
from typing import Any

import pytest
from looker_sdk import error
from looker_sdk.sdk.api40 import models

from tests.fakes.looker import LookerSimulator, PdtView
from tests.fakes.looker.fixtures import LookerSimFactory
from tests.fakes.looker.sdk_client import ERROR_DOC_HELPER, no_error_docs, sdk_for


@pytest.fixture(autouse=True)
def _offline_error_docs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK's ErrorDocHelper GETs Looker's CDN on every error, with no timeout: keep it offline."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("looker-sdk tried to fetch error documentation from the internet")

    monkeypatch.setattr(ERROR_DOC_HELPER, "parse_and_lookup", no_error_docs)
    monkeypatch.setattr(ERROR_DOC_HELPER, "get_index", refuse)


def _sdk(sim: LookerSimulator) -> Any:
    return sdk_for(sim.base_url, sim.client_id, sim.client_secret)


def _api_calls(sim: LookerSimulator) -> list[tuple[str, str, int]]:
    return [(call.method, call.path, call.status) for call in sim.calls]


def test_the_sdk_logs_in_with_the_form_body_and_sends_the_bearer_token(looker_sim: LookerSimulator) -> None:
    sdk = _sdk(looker_sim)

    groups = sdk.all_datagroups()

    assert [(g.model_name, g.name) for g in groups] == [("finance", "qbo_etl")]
    assert _api_calls(looker_sim) == [
        ("POST", "/api/4.0/login", 200),
        ("GET", "/api/4.0/datagroups", 200),
    ]
    login, listing = looker_sim.calls
    assert login.token is None
    assert listing.token == sdk.auth.token.access_token
    assert listing.token_live
    assert looker_sim.logins() == 1


def test_wrong_credentials_on_login_answer_looker_s_not_found(looker_sim: LookerSimulator) -> None:
    sdk = sdk_for(looker_sim.base_url, looker_sim.client_id, "not-the-secret")

    with pytest.raises(error.SDKError) as raised:
        sdk.all_datagroups()

    assert json.loads(raised.value.args[0])["message"] == "Not found"
    assert _api_calls(looker_sim) == [("POST", "/api/4.0/login", 404)]
    assert looker_sim.logins() == 0


def test_an_expired_token_answers_401_until_the_sdk_logs_in_again_by_its_clock(
    looker_sim_factory: LookerSimFactory,
) -> None:
    sim = looker_sim_factory(token_lifetime_seconds=1)
    sdk = _sdk(sim)
    sdk.all_datagroups()
    # expires_in is 1 s but the SDK subtracts 10 s of lag: pretend its clock still trusts the token
    sdk.auth.token.expires_at = datetime.datetime.now() + datetime.timedelta(hours=1)
    time.sleep(1.1)

    with pytest.raises(error.SDKError) as raised:
        sdk.all_datagroups()
    assert raised.value.message == "Requires authentication."
    expired = sim.calls[-1]
    assert (expired.status, expired.token_live) == (401, False)

    sdk.auth.token.expires_at = datetime.datetime.now() - datetime.timedelta(seconds=1)
    assert len(sdk.all_datagroups()) == 1
    assert _api_calls(sim)[-2:] == [("POST", "/api/4.0/login", 200), ("GET", "/api/4.0/datagroups", 200)]
    assert sim.calls[-1].token_live
    assert sim.logins() == 2


def test_a_lifetime_under_the_sdk_lag_makes_it_log_in_before_every_call(
    looker_sim_factory: LookerSimFactory,
) -> None:
    sim = looker_sim_factory(token_lifetime_seconds=3)
    sdk = _sdk(sim)

    for _ in range(3):
        sdk.all_datagroups()

    assert sim.logins() == 3
    assert all(call.status == 200 and (call.token is None or call.token_live) for call in sim.calls)


def test_update_datagroup_sets_triggered_at_and_refuses_a_future_time(looker_sim: LookerSimulator) -> None:
    sdk = _sdk(looker_sim)
    [group] = sdk.all_datagroups()
    now = int(time.time())

    updated = sdk.update_datagroup(group.id, models.WriteDatagroup(triggered_at=now - 60))
    assert updated.triggered_at == now - 60
    assert looker_sim.datagroups()[0]["triggered_at"] == now - 60

    with pytest.raises(error.SDKError) as raised:
        sdk.update_datagroup(group.id, models.WriteDatagroup(stale_before=now + 3600))
    assert raised.value.message == "Validation Failed"
    assert [(e.field, e.code) for e in raised.value.errors] == [("stale_before", "invalid")]
    assert looker_sim.calls[-1].status == 422
    assert looker_sim.datagroups()[0]["stale_before"] is None


def test_update_datagroup_of_an_unknown_id_is_not_found(looker_sim: LookerSimulator) -> None:
    sdk = _sdk(looker_sim)

    with pytest.raises(error.SDKError) as raised:
        sdk.update_datagroup("999", models.WriteDatagroup(triggered_at=int(time.time()) - 60))

    assert raised.value.message == "Not found"
    assert raised.value.documentation_url.endswith("/404/patch/datagroups/:datagroup_id")
    assert ERROR_DOC_HELPER.pattern.match(raised.value.documentation_url)  # what the SDK would fetch


def _status(answer: models.MaterializePDT) -> dict[str, Any]:
    assert answer.resp_text is not None
    detail: dict[str, Any] = json.loads(answer.resp_text)
    return detail


def test_a_pdt_build_goes_added_running_complete_by_elapsed_time(
    looker_sim_factory: LookerSimFactory,
) -> None:
    sim = looker_sim_factory(
        models={"finance": {"datagroups": [], "views": {"ar_aging": PdtView(build_seconds=0.5)}}}
    )
    sdk = _sdk(sim)

    started = sdk.start_pdt_build("finance", "ar_aging", force_rebuild="true", workspace="production")
    assert _status(started)["status"] == "added"
    start_call = sim.calls[-1]
    assert start_call.path == "/api/4.0/derived_table/finance/ar_aging/start"
    assert start_call.query == {"force_rebuild": "true", "workspace": "production"}
    time.sleep(0.2)
    assert _status(sdk.check_pdt_build(started.materialization_id))["status"] == "running"
    time.sleep(0.4)
    assert _status(sdk.check_pdt_build(started.materialization_id))["status"] == "complete"
    [build] = sim.pdt_builds
    assert (build["model"], build["view"], build["force_rebuild"], build["workspace"]) == (
        "finance",
        "ar_aging",
        True,
        "production",
    )


def test_a_failing_pdt_build_ends_in_error_with_its_message(looker_sim: LookerSimulator) -> None:
    sdk = _sdk(looker_sim)

    started = sdk.start_pdt_build("finance", "gl", force_rebuild="false")
    time.sleep(0.25)
    detail = _status(sdk.check_pdt_build(started.materialization_id))

    assert (detail["status"], detail["message"]) == ("error", "Table 'x' not found")


def test_stopping_a_running_pdt_build_kills_it(looker_sim: LookerSimulator) -> None:
    sdk = _sdk(looker_sim)
    started = sdk.start_pdt_build("finance", "ar_aging")

    stopped = sdk.stop_pdt_build(started.materialization_id)
    time.sleep(0.6)

    assert _status(stopped)["status"] == "killed"
    assert _status(sdk.check_pdt_build(started.materialization_id))["status"] == "killed"
    assert looker_sim.calls[-2].path == f"/api/4.0/derived_table/{started.materialization_id}/stop"


@pytest.mark.parametrize(("model", "view"), [("finance", "no_such_view"), ("no_such_model", "ar_aging")])
def test_starting_an_unknown_model_or_view_is_not_found(
    looker_sim: LookerSimulator, model: str, view: str
) -> None:
    sdk = _sdk(looker_sim)

    with pytest.raises(error.SDKError) as raised:
        sdk.start_pdt_build(model, view)

    assert raised.value.message == "Not found"
    assert looker_sim.calls[-1].status == 404


def test_checking_a_build_not_started_through_the_api_is_not_found(looker_sim: LookerSimulator) -> None:
    sdk = _sdk(looker_sim)

    with pytest.raises(error.SDKError):
        sdk.check_pdt_build("0123456789abcdef")

    assert looker_sim.calls[-1].status == 404


def test_starting_a_view_that_is_not_persisted_gives_a_generic_error(looker_sim: LookerSimulator) -> None:
    sdk = _sdk(looker_sim)

    with pytest.raises(error.SDKError) as raised:
        sdk.start_pdt_build("finance", "plain_view")

    assert raised.value.message == "An error has occurred."
    assert looker_sim.calls[-1].status == 400
    assert looker_sim.pdt_builds == []


def test_logout_ends_the_token(looker_sim: LookerSimulator) -> None:
    sdk = _sdk(looker_sim)
    sdk.all_datagroups()
    token = sdk.auth.token.access_token

    sdk.auth.logout()

    logout = looker_sim.calls[-1]
    assert (logout.method, logout.path, logout.status, logout.token) == ("DELETE", "/api/logout", 204, token)
    assert not looker_sim.tokens.is_live(token)
