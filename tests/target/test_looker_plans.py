"""Declared Scheduled Plans through the real looker-sdk against the Looker simulator: created once, no write
when unchanged, updated in place when changed, undeclared plans untouched, run once per run, no secrets."""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from target_looker_stage.looker.refresh import run_refresh
from target_looker_stage.looker.report import LookerReport
from target_looker_stage.looker.settings import parse_looker_settings
from tests.fakes.looker import LookerSimConfig, LookerSimulator

S3_SECRET = "s3-SECRET-access-key-0042"
SFTP_SECRET = "sftp-SECRET-password-0043"
AR_PLAN: dict[str, Any] = {
    "name": "AR aging to S3",
    "dashboard_id": "12",
    "crontab": "0 6 * * 1",
    "timezone": "UTC",
    "destinations": [
        {
            "type": "s3",
            "format": "csv",
            "address": "s3://finance-exports/ar/",
            "parameters": {"region": "eu-west-1", "access_key_id": "AKIAEXAMPLE"},
            "secret_parameters": {"secret_access_key": S3_SECRET},
        }
    ],
}
GL_PLAN: dict[str, Any] = {
    "name": "GL look after ETL",
    "look_id": "7",
    "datagroup": "qbo_etl",
    "destinations": [
        {"type": "email", "format": "csv", "address": "controller@example.com"},
        {
            "type": "sftp",
            "format": "xlsx",
            "address": "sftp://files.example.com/gl/",
            "parameters": {"username": "looker"},
            "secret_parameters": {"password": SFTP_SECRET},
        },
    ],
}
WRITES = ("POST", "PATCH", "PUT", "DELETE")


@pytest.fixture
def sim() -> Iterator[LookerSimulator]:
    with LookerSimulator(LookerSimConfig()) as simulator:
        yield simulator


def refresh(sim: LookerSimulator, *plans: dict[str, Any]) -> LookerReport:
    settings = parse_looker_settings(
        {
            "looker_base_url": sim.base_url,
            "looker_client_id": sim.client_id,
            "looker_client_secret": sim.client_secret,
            "looker_scheduled_plans": [copy.deepcopy(p) for p in plans],
        }
    )
    return run_refresh(settings, records=1, logger=logging.getLogger("test.looker"))


def statuses(report: LookerReport) -> dict[tuple[str, str], str]:
    return {(i.kind, i.name): i.status for i in report.items}


def plan_writes(sim: LookerSimulator) -> list[tuple[str, str]]:
    return [(c.method, c.path) for c in sim.calls if c.method in WRITES and "/scheduled_plans" in c.path]


def test_declared_plans_are_created_once_and_a_second_run_makes_no_write(sim: LookerSimulator) -> None:
    first = refresh(sim, AR_PLAN, GL_PLAN)
    assert not first.failed, first.lines()
    assert statuses(first) == {
        ("plan", "AR aging to S3"): "created",
        ("plan", "GL look after ETL"): "created",
    }
    stored = {p["name"]: p for p in sim.scheduled_plans()}
    assert set(stored) == {"AR aging to S3", "GL look after ETL"}
    assert stored["AR aging to S3"]["crontab"] == "0 6 * * 1"
    assert stored["GL look after ETL"]["datagroup"] == "qbo_etl"
    assert sim.plan_secrets(stored["AR aging to S3"]["id"]) == [
        '{"secret_access_key": "s3-SECRET-access-key-0042"}'
    ]

    sim.reset_calls()
    second = refresh(sim, AR_PLAN, GL_PLAN)
    assert statuses(second) == {
        ("plan", "AR aging to S3"): "unchanged",
        ("plan", "GL look after ETL"): "unchanged",
    }
    assert plan_writes(sim) == []
    assert [(c.method, c.path) for c in sim.calls if c.path.startswith("/api/4.0/scheduled_plans")] == [
        ("GET", "/api/4.0/scheduled_plans")
    ]
    assert len(sim.scheduled_plans()) == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"crontab": "30 7 * * 1-5"}, "crontab"),
        (
            {"destinations": [{**AR_PLAN["destinations"][0], "address": "s3://finance-exports/ar-v2/"}]},
            "destinations",
        ),
        (
            {"destinations": [{**AR_PLAN["destinations"][0], "parameters": {"region": "us-east-1"}}]},
            "destinations",
        ),
        ({"crontab": None, "datagroup": "qbo_etl"}, "crontab"),
    ],
)
def test_a_changed_schedule_or_destination_updates_the_existing_plan_in_place(
    sim: LookerSimulator, change: dict[str, Any], field: str
) -> None:
    refresh(sim, AR_PLAN)
    [before] = sim.scheduled_plans()
    sim.reset_calls()

    changed = {**AR_PLAN, **change}
    report = refresh(sim, changed)

    [item] = report.items
    assert item.status == "updated", report.lines()
    assert field in item.detail
    [after] = sim.scheduled_plans()
    assert after["id"] == before["id"]
    assert plan_writes(sim) == [("PATCH", f"/api/4.0/scheduled_plans/{before['id']}")]
    assert after["crontab"] == changed.get("crontab")
    assert after["datagroup"] == changed.get("datagroup")
    [destination] = after["scheduled_plan_destination"]
    assert destination["address"] == changed["destinations"][0]["address"]
    # the update replaced all destinations, so it sent the secret again: still stored
    assert sim.plan_secrets(after["id"]) == ['{"secret_access_key": "s3-SECRET-access-key-0042"}']
    assert statuses(refresh(sim, changed)) == {("plan", "AR aging to S3"): "unchanged"}


def test_a_plan_not_declared_is_left_alone(sim: LookerSimulator) -> None:
    refresh(sim, AR_PLAN, GL_PLAN)
    [gl] = [p for p in sim.scheduled_plans() if p["name"] == "GL look after ETL"]
    sim.reset_calls()

    report = refresh(sim, {**AR_PLAN, "crontab": "0 9 * * *"})

    assert statuses(report) == {("plan", "AR aging to S3"): "updated"}
    [gl_after] = [p for p in sim.scheduled_plans() if p["name"] == "GL look after ETL"]
    assert gl_after == gl
    assert all(gl["id"] not in path for _, path in plan_writes(sim))


def test_a_changed_secret_alone_needs_force_update_because_looker_never_returns_it(
    sim: LookerSimulator,
) -> None:
    refresh(sim, AR_PLAN)
    [plan] = sim.scheduled_plans()
    rotated = copy.deepcopy(AR_PLAN)
    rotated["destinations"][0]["secret_parameters"] = {"secret_access_key": "rotated-SECRET-0044"}

    assert statuses(refresh(sim, rotated)) == {("plan", "AR aging to S3"): "unchanged"}
    report = refresh(sim, {**rotated, "force_update": True})

    assert statuses(report) == {("plan", "AR aging to S3"): "updated"}
    assert sim.plan_secrets(plan["id"]) == ['{"secret_access_key": "rotated-SECRET-0044"}']


def test_run_once_after_load_runs_the_plan_once_per_run(sim: LookerSimulator) -> None:
    plan = {**AR_PLAN, "run_once_after_load": True}
    first = refresh(sim, plan, GL_PLAN)
    second = refresh(sim, plan, GL_PLAN)

    assert statuses(first)[("plan_run", "AR aging to S3")] == "ran once"
    assert statuses(second)[("plan_run", "AR aging to S3")] == "ran once"
    [ar] = [p for p in sim.scheduled_plans() if p["name"] == "AR aging to S3"]
    assert [plan_id for plan_id, _ in sim.plan_runs] == [ar["id"], ar["id"]]
    assert "looker: plan 'AR aging to S3' ran once" in second.lines()


def test_run_once_of_many_plans_backs_off_on_lookers_rate_limit() -> None:
    with LookerSimulator(LookerSimConfig(run_once_per_second=3)) as sim:
        plans = [{**AR_PLAN, "name": f"AR {i}", "run_once_after_load": True} for i in range(7)]
        report = refresh(sim, *plans)

        assert not report.failed, report.lines()
        assert len(sim.plan_runs) == 7
        assert report.stats.throttled >= 1
        assert [c.status for c in sim.calls if c.path.endswith("/run_once")].count(
            429
        ) == report.stats.throttled


def test_a_rejected_plan_is_one_line_with_lookers_field_errors_and_no_secret(
    sim: LookerSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bad = {**GL_PLAN, "datagroup": None, "crontab": "every monday"}
    report = refresh(sim, AR_PLAN, bad)

    assert statuses(report) == {
        ("plan", "AR aging to S3"): "created",
        ("plan", "GL look after ETL"): "failed",
    }
    [line] = [line for line in report.lines() if line.startswith("looker: plan 'GL")]
    assert line.startswith("looker: plan 'GL look after ETL' failed: Looker rejected the request (HTTP 422)")
    assert "crontab" in line
    for secret in (S3_SECRET, SFTP_SECRET, sim.client_secret):
        assert secret not in caplog.text
        assert secret not in str(report.summary())
