"""The Looker simulator driven by the real looker-sdk 4.0: every path, verb and body it uses must be what the
simulator serves, and the SDK must see what real Looker would make it see (errors as ``SDKError``)."""

from __future__ import annotations

import datetime
import json
import sqlite3
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
    looker_sim.wait_idle()
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
    assert looker_sim.calls[-1].status == 500
    assert looker_sim.pdt_builds == []


def test_logout_ends_the_token(looker_sim: LookerSimulator) -> None:
    sdk = _sdk(looker_sim)
    sdk.all_datagroups()
    token = sdk.auth.token.access_token

    sdk.auth.logout()

    logout = looker_sim.calls[-1]
    assert (logout.method, logout.path, logout.status, logout.token) == ("DELETE", "/api/logout", 204, token)
    assert not looker_sim.tokens.is_live(token)


# ---- scheduled plans ---------------------------------------------------------------------------------------
def _destination(address: str, secret: str | None = None) -> models.ScheduledPlanDestination:
    return models.ScheduledPlanDestination(
        type="webhook",
        format="json",
        address=address,
        parameters=json.dumps({"k": "v"}),
        secret_parameters=secret,
    )


def _plan(**fields: Any) -> models.WriteScheduledPlan:
    values: dict[str, Any] = {
        "name": "refresh finance",
        "dashboard_id": "12",
        "crontab": "0 6 * * *",
        "scheduled_plan_destination": [
            _destination("https://hooks.example/a", json.dumps({"token": "s3cr"}))
        ],
    }
    values.update(fields)
    return models.WriteScheduledPlan(**values)


def test_a_scheduled_plan_is_created_listed_and_its_secret_parameters_are_never_returned(
    looker_sim: LookerSimulator,
) -> None:
    sdk = _sdk(looker_sim)

    created = sdk.create_scheduled_plan(_plan())
    listed = sdk.all_scheduled_plans(fields="id,name,crontab,scheduled_plan_destination")

    assert created.id is not None
    assert (created.name, created.dashboard_id, created.crontab, created.enabled) == (
        "refresh finance",
        "12",
        "0 6 * * *",
        True,
    )
    [dest] = created.scheduled_plan_destination
    assert (dest.type, dest.address, dest.secret_parameters) == ("webhook", "https://hooks.example/a", None)
    assert [(p.id, p.name, p.dashboard_id) for p in listed] == [(created.id, "refresh finance", None)]
    assert "secret_parameters" not in json.dumps(looker_sim.scheduled_plans())
    assert looker_sim.plan_secrets(created.id) == [json.dumps({"token": "s3cr"})]
    assert looker_sim.calls[-1].query == {"fields": "id,name,crontab,scheduled_plan_destination"}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": None}, "name"),
        ({"dashboard_id": None}, "look_id"),
        ({"look_id": "3"}, "look_id"),
        ({"datagroup": "qbo_etl"}, "crontab"),
        ({"crontab": None}, "crontab"),
        ({"scheduled_plan_destination": []}, "scheduled_plan_destination"),
        ({"dashboard_id": None, "look_id": "3"}, "require_results"),
    ],
)
def test_an_invalid_scheduled_plan_is_refused_with_422_naming_the_field(
    looker_sim: LookerSimulator, fields: dict[str, Any], field: str
) -> None:
    sdk = _sdk(looker_sim)

    with pytest.raises(error.SDKError) as raised:
        sdk.create_scheduled_plan(_plan(**fields))

    assert raised.value.message == "Validation Failed"
    assert field in [e.field for e in raised.value.errors]
    assert looker_sim.calls[-1].status == 422
    assert looker_sim.scheduled_plans() == []


def test_a_plan_on_a_datagroup_needs_no_crontab(looker_sim: LookerSimulator) -> None:
    sdk = _sdk(looker_sim)

    created = sdk.create_scheduled_plan(_plan(crontab=None, datagroup="qbo_etl"))

    assert (created.crontab, created.datagroup) == (None, "qbo_etl")


def test_triggering_a_datagroup_runs_the_plans_scheduled_on_it(looker_sim: LookerSimulator) -> None:
    sdk = _sdk(looker_sim)
    on_datagroup = sdk.create_scheduled_plan(_plan(crontab=None, datagroup="qbo_etl"))
    sdk.create_scheduled_plan(_plan(name="on a crontab"))
    [group] = sdk.all_datagroups()

    sdk.update_datagroup(group.id, models.WriteDatagroup(stale_before=int(time.time()) - 60))
    assert looker_sim.triggered_plan_runs == []
    sdk.update_datagroup(group.id, models.WriteDatagroup(triggered_at=int(time.time()) - 60))

    assert [run[0] for run in looker_sim.triggered_plan_runs] == [on_datagroup.id]
    assert looker_sim.plan_runs == []


def test_updating_a_plan_replaces_all_its_destinations(looker_sim: LookerSimulator) -> None:
    sdk = _sdk(looker_sim)
    created = sdk.create_scheduled_plan(
        _plan(
            scheduled_plan_destination=[_destination("https://a.example"), _destination("https://b.example")]
        )
    )

    updated = sdk.update_scheduled_plan(
        created.id,
        models.WriteScheduledPlan(
            crontab="30 7 * * *", scheduled_plan_destination=[_destination("https://c.example")]
        ),
    )

    assert updated.crontab == "30 7 * * *"
    assert updated.name == "refresh finance"
    assert [d.address for d in updated.scheduled_plan_destination] == ["https://c.example"]
    assert [d.address for d in sdk.scheduled_plan(created.id).scheduled_plan_destination] == [
        "https://c.example"
    ]
    assert looker_sim.plan_secrets(created.id) == [None]  # a destination sent without its secret loses it
    renamed = sdk.update_scheduled_plan(created.id, models.WriteScheduledPlan(name="renamed"))
    assert [d.address for d in renamed.scheduled_plan_destination] == ["https://c.example"]


def test_run_once_by_id_runs_the_plan_and_answers_429_above_the_rate(
    looker_sim_factory: LookerSimFactory,
) -> None:
    sim = looker_sim_factory(run_once_per_second=3)
    sdk = _sdk(sim)
    plan = sdk.create_scheduled_plan(_plan())

    for _ in range(3):
        sdk.scheduled_plan_run_once_by_id(plan.id)
    with pytest.raises(error.SDKError) as raised:
        sdk.scheduled_plan_run_once_by_id(plan.id)

    assert raised.value.message == "Too Many Requests"
    assert [run[0] for run in sim.plan_runs] == [plan.id] * 3
    assert sim.calls[-1].path == f"/api/4.0/scheduled_plans/{plan.id}/run_once"
    assert sim.calls[-1].status == 429
    time.sleep(1.05)
    sdk.scheduled_plan_run_once_by_id(plan.id)
    assert len(sim.plan_runs) == 4


def test_run_once_of_an_unsaved_plan_needs_no_schedule_and_is_not_stored(looker_sim: LookerSimulator) -> None:
    sdk = _sdk(looker_sim)

    ran = sdk.scheduled_plan_run_once(_plan(crontab=None))

    assert ran.run_once is True
    assert looker_sim.scheduled_plans() == []
    assert [run[0] for run in looker_sim.plan_runs] == [ran.id]
    assert looker_sim.run_once_bodies[0]["name"] == "refresh finance"


def test_deleting_a_plan_then_reading_it_is_not_found(looker_sim: LookerSimulator) -> None:
    sdk = _sdk(looker_sim)
    plan = sdk.create_scheduled_plan(_plan())

    sdk.delete_scheduled_plan(plan.id)

    with pytest.raises(error.SDKError):
        sdk.scheduled_plan(plan.id)
    assert _api_calls(looker_sim)[-2:] == [
        ("DELETE", f"/api/4.0/scheduled_plans/{plan.id}", 204),
        ("GET", f"/api/4.0/scheduled_plans/{plan.id}", 404),
    ]


# ---- SQL Runner and connections ------------------------------------------------------------------------
def test_sql_runner_executes_on_the_sqlite_file_and_commits_dml(looker_sim: LookerSimulator) -> None:
    sdk = _sdk(looker_sim)

    def run(sql: str) -> Any:
        query = sdk.create_sql_query(models.SqlQueryCreate(connection_name="warehouse", sql=sql))
        return json.loads(sdk.run_sql_query(query.slug, "json"))

    assert run("create table refreshed (name text, at integer)") == []
    assert run("insert into refreshed values ('finance', 42)") == []
    assert run("select name, at from refreshed") == [{"name": "finance", "at": 42}]
    with sqlite3.connect(looker_sim.sql_database_path) as conn:
        assert conn.execute("select name, at from refreshed").fetchall() == [("finance", 42)]
    assert looker_sim.calls[-1].path.endswith("/run/json")


def test_a_failing_statement_answers_a_looker_error_body(looker_sim: LookerSimulator) -> None:
    sdk = _sdk(looker_sim)
    query = sdk.create_sql_query(models.SqlQueryCreate(connection_name="warehouse", sql="select * from nope"))

    with pytest.raises(error.SDKError) as raised:
        sdk.run_sql_query(query.slug, "json")

    assert "no such table: nope" in raised.value.message
    assert looker_sim.calls[-1].status == 400


def test_a_sql_query_on_an_unknown_connection_is_refused(looker_sim: LookerSimulator) -> None:
    sdk = _sdk(looker_sim)

    with pytest.raises(error.SDKError) as raised:
        sdk.create_sql_query(models.SqlQueryCreate(connection_name="nowhere", sql="select 1"))

    assert [e.field for e in raised.value.errors] == ["connection_name"]


def test_connections_are_listed_and_tested(looker_sim: LookerSimulator) -> None:
    sdk = _sdk(looker_sim)

    [connection] = sdk.all_connections()
    results = sdk.test_connection("warehouse")

    assert (connection.name, connection.pdt_api_control_enabled) == ("warehouse", True)
    assert [(r.name, r.status) for r in results] == [("connect", "success"), ("query", "success")]
    assert looker_sim.calls[-1].method == "PUT"
    with pytest.raises(error.SDKError):
        sdk.test_connection("nowhere")
