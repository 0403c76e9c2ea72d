"""The Looker simulator over plain HTTP: error bodies, authentication, injected answers, latency, the call
log, and the knobs the SDK does not reach (result formats, ``fields``, the SQL error mode)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests

from tests.fakes.looker import LookerSimulator, PdtView
from tests.fakes.looker.fixtures import LookerSimFactory

API = "/api/4.0"


def _login(sim: LookerSimulator) -> str:
    answer = requests.post(
        f"{sim.base_url}{API}/login",
        data={"client_id": sim.client_id, "client_secret": sim.client_secret},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def _call(
    sim: LookerSimulator, method: str, path: str, token: str | None, body: Any = None, **params: str
) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(
        method, f"{sim.base_url}{API}{path}", json=body, params=params, headers=headers, timeout=10
    )


def test_login_answers_a_bearer_token_with_its_lifetime(looker_sim_factory: LookerSimFactory) -> None:
    sim = looker_sim_factory(token_lifetime_seconds=1800)

    answer = requests.post(
        f"{sim.base_url}{API}/login",
        data={"client_id": sim.client_id, "client_secret": sim.client_secret},
        timeout=10,
    )

    body = answer.json()
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 1800)
    assert set(body) == {"access_token", "token_type", "expires_in"}


@pytest.mark.parametrize(
    "form", [{"client_id": "wrong", "client_secret": "wrong"}, {}, {"client_id": "only-the-id"}]
)
def test_login_with_wrong_or_missing_credentials_is_looker_s_404_body(
    looker_sim: LookerSimulator, form: dict[str, str]
) -> None:
    answer = requests.post(f"{looker_sim.base_url}{API}/login", data=form, timeout=10)

    assert answer.status_code == 404
    assert answer.json() == {
        "message": "Not found",
        "documentation_url": "https://cloud.google.com/looker/docs/r/err/4.0/404/post/login",
    }


def test_a_call_without_a_live_token_is_401_requires_authentication(looker_sim: LookerSimulator) -> None:
    for token in (None, "made-up-token"):
        answer = _call(looker_sim, "GET", "/datagroups", token)
        assert answer.status_code == 401
        assert answer.json()["message"] == "Requires authentication."
        assert answer.json()["documentation_url"].endswith("/401/get/datagroups")


def test_the_token_scheme_is_accepted_as_well_as_bearer(looker_sim: LookerSimulator) -> None:
    token = _login(looker_sim)

    answer = requests.get(
        f"{looker_sim.base_url}{API}/datagroups", headers={"Authorization": f"token {token}"}, timeout=10
    )

    assert answer.status_code == 200


def test_a_token_really_expires_after_its_lifetime(looker_sim_factory: LookerSimFactory) -> None:
    sim = looker_sim_factory(token_lifetime_seconds=1)
    token = _login(sim)
    assert _call(sim, "GET", "/datagroups", token).status_code == 200

    time.sleep(1.1)

    assert _call(sim, "GET", "/datagroups", token).status_code == 401
    assert [(c.status, c.token, c.token_live) for c in sim.calls[1:]] == [
        (200, token, True),
        (401, token, False),
    ]


def test_logout_ends_the_token_on_both_logout_paths(looker_sim: LookerSimulator) -> None:
    for path in ("/api/logout", f"{API}/logout"):
        token = _login(looker_sim)
        answer = requests.delete(
            f"{looker_sim.base_url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert answer.status_code == 204
        assert _call(looker_sim, "GET", "/datagroups", token).status_code == 401


def test_expire_tokens_makes_the_next_call_401(looker_sim: LookerSimulator) -> None:
    token = _login(looker_sim)

    looker_sim.expire_tokens()

    assert _call(looker_sim, "GET", "/datagroups", token).status_code == 401


def test_an_unknown_path_is_a_logged_404_with_looker_s_body(looker_sim: LookerSimulator) -> None:
    token = _login(looker_sim)

    answer = _call(looker_sim, "GET", "/no_such_thing", token)

    assert answer.status_code == 404
    assert set(answer.json()) == {"message", "documentation_url"}
    assert (looker_sim.calls[-1].path, looker_sim.calls[-1].status) == (f"{API}/no_such_thing", 404)


def test_a_422_lists_each_field_error_with_field_code_and_message(looker_sim: LookerSimulator) -> None:
    token = _login(looker_sim)
    future = int(time.time()) + 600

    answer = _call(looker_sim, "PATCH", "/datagroups/1", token, {"triggered_at": future, "stale_before": "x"})

    body = answer.json()
    assert answer.status_code == 422
    assert body["message"] == "Validation Failed"
    assert body["documentation_url"].endswith("/422/patch/datagroups/:datagroup_id")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [
        ("stale_before", "invalid"),
        ("triggered_at", "invalid"),
    ]
    assert all(e["message"] and e["documentation_url"] for e in body["errors"])


def test_an_injected_status_hits_only_matching_calls_for_the_given_times(looker_sim: LookerSimulator) -> None:
    token = _login(looker_sim)
    looker_sim.inject(method="PATCH", path_prefix=f"{API}/datagroups", status=503, times=2)
    stamp = {"triggered_at": int(time.time()) - 60}

    assert _call(looker_sim, "GET", "/datagroups", token).status_code == 200
    first = _call(looker_sim, "PATCH", "/datagroups/1", token, stamp)
    second = _call(looker_sim, "PATCH", "/datagroups/1", token, stamp)
    third = _call(looker_sim, "PATCH", "/datagroups/1", token, stamp)

    assert (first.status_code, second.status_code, third.status_code) == (503, 503, 200)
    assert first.json()["message"] == "Service Unavailable"
    assert "documentation_url" in first.json()
    assert [c.status for c in looker_sim.calls] == [200, 200, 503, 503, 200]


def test_an_injected_answer_carries_retry_after_and_a_custom_body(looker_sim: LookerSimulator) -> None:
    token = _login(looker_sim)
    looker_sim.inject(status=429, retry_after=2, body={"message": "slow down", "documentation_url": "x"})

    answer = _call(looker_sim, "GET", "/connections", token)

    assert (answer.status_code, answer.headers["Retry-After"]) == (429, "2")
    assert answer.json() == {"message": "slow down", "documentation_url": "x"}


def test_an_injection_can_hit_login(looker_sim: LookerSimulator) -> None:
    looker_sim.inject(path_prefix=f"{API}/login", status=500)

    answer = requests.post(
        f"{looker_sim.base_url}{API}/login",
        data={"client_id": looker_sim.client_id, "client_secret": looker_sim.client_secret},
        timeout=10,
    )

    assert answer.status_code == 500
    assert looker_sim.logins() == 0
    assert _login(looker_sim)


def test_latency_is_added_to_every_call(looker_sim: LookerSimulator) -> None:
    token = _login(looker_sim)
    looker_sim.set_latency(0.2)

    started = time.monotonic()
    _call(looker_sim, "GET", "/datagroups", None)
    _call(looker_sim, "GET", "/datagroups", token)

    assert time.monotonic() - started >= 0.4


def test_the_call_log_keeps_method_path_query_and_arrival_order(looker_sim: LookerSimulator) -> None:
    token = _login(looker_sim)
    looker_sim.reset_calls()

    _call(looker_sim, "GET", "/derived_table/finance/ar_aging/start", token, force_rebuild="true")
    _call(looker_sim, "GET", "/scheduled_plans", token, fields="id")

    first, second = looker_sim.calls
    assert (first.method, first.path, first.query) == (
        "GET",
        f"{API}/derived_table/finance/ar_aging/start",
        {"force_rebuild": "true"},
    )
    assert second.query == {"fields": "id"}
    assert first.at <= second.at


def test_a_pdt_flag_that_is_not_true_or_false_is_refused(looker_sim: LookerSimulator) -> None:
    token = _login(looker_sim)

    answer = _call(looker_sim, "GET", "/derived_table/finance/ar_aging/start", token, force_rebuild="yes")

    assert answer.status_code == 400
    assert "force_rebuild" in answer.json()["message"]


def test_a_run_once_above_the_rate_is_429_with_retry_after(looker_sim_factory: LookerSimFactory) -> None:
    sim = looker_sim_factory(run_once_per_second=1)
    token = _login(sim)
    plan = {
        "name": "p",
        "dashboard_id": "1",
        "scheduled_plan_destination": [{"type": "email", "format": "csv", "address": "a@example.com"}],
    }

    assert _call(sim, "POST", "/scheduled_plans/run_once", token, plan).status_code == 200
    refused = _call(sim, "POST", "/scheduled_plans/run_once", token, plan)

    assert (refused.status_code, refused.headers["Retry-After"]) == (429, "1")
    assert refused.json()["message"] == "Too Many Requests"
    assert refused.json()["documentation_url"].endswith("/429/post/scheduled_plans/run_once")


def test_a_plan_destination_with_invalid_parameters_json_is_refused(looker_sim: LookerSimulator) -> None:
    token = _login(looker_sim)
    plan = {
        "name": "p",
        "dashboard_id": "1",
        "crontab": "0 * * * *",
        "scheduled_plan_destination": [
            {"type": "webhook", "format": "json", "address": "https://x", "secret_parameters": "{not json"}
        ],
    }

    answer = _call(looker_sim, "POST", "/scheduled_plans", token, plan)

    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == [
        "scheduled_plan_destination[0].secret_parameters"
    ]


def _sql(sim: LookerSimulator, token: str, sql: str, result_format: str = "json") -> requests.Response:
    created = _call(sim, "POST", "/sql_queries", token, {"connection_name": "warehouse", "sql": sql})
    assert created.status_code == 200, created.text
    return _call(sim, "POST", f"/sql_queries/{created.json()['slug']}/run/{result_format}", token)


def test_sql_runner_serves_csv_and_runs_several_statements_as_a_script(looker_sim: LookerSimulator) -> None:
    token = _login(looker_sim)

    script = _sql(looker_sim, token, "create table t (a integer, b text); insert into t values (1, 'x');")
    csv_answer = _sql(looker_sim, token, "select a, b from t", "csv")

    assert script.json() == []
    assert csv_answer.headers["Content-Type"].startswith("text/csv")
    assert csv_answer.text == "a,b\n1,x\n"


def test_an_unsupported_result_format_is_400(looker_sim: LookerSimulator) -> None:
    token = _login(looker_sim)

    answer = _sql(looker_sim, token, "select 1", "xlsx")

    assert answer.status_code == 400
    assert "xlsx" in answer.json()["message"]


def test_sql_errors_can_come_as_looker_error_rows_in_a_200(looker_sim_factory: LookerSimFactory) -> None:
    sim = looker_sim_factory(sql_errors_in_body=True)
    token = _login(sim)

    answer = _sql(sim, token, "select * from missing_table")

    assert answer.status_code == 200
    [row] = answer.json()
    assert row["looker_error"].startswith("SQL Error: no such table: missing_table")


def test_all_scheduled_plans_honours_fields_loosely(looker_sim: LookerSimulator) -> None:
    token = _login(looker_sim)
    plan = {
        "name": "p",
        "dashboard_id": "1",
        "crontab": "0 * * * *",
        "scheduled_plan_destination": [{"type": "email", "format": "csv", "address": "a@example.com"}],
    }
    _call(looker_sim, "POST", "/scheduled_plans", token, plan)

    answer = _call(
        looker_sim, "GET", "/scheduled_plans", token, fields="id,name,scheduled_plan_destination(id)"
    )

    [row] = answer.json()
    assert set(row) == {"id", "name", "scheduled_plan_destination"}
    assert json.dumps(row).count("secret_parameters") == 0


def test_a_pdt_build_is_added_first_then_running(looker_sim_factory: LookerSimFactory) -> None:
    sim = looker_sim_factory(models={"m": {"views": {"slow": PdtView(build_seconds=2.0)}}})
    token = _login(sim)

    started = _call(sim, "GET", "/derived_table/m/slow/start", token).json()
    materialization_id = started["materialization_id"]
    first = _call(sim, "GET", f"/derived_table/{materialization_id}/status", token).json()
    time.sleep(0.45)
    later = _call(sim, "GET", f"/derived_table/{materialization_id}/status", token).json()

    assert [json.loads(a["resp_text"])["status"] for a in (started, first, later)] == [
        "added",
        "added",
        "running",
    ]
    assert sim.pdt_builds[0]["status"] == "running"
