"""The Looker refresh after a load, through the real looker-sdk against the Looker simulator, with the
target run as a command (exit status, one line per item, data committed before Looker is touched)."""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from target_looker_stage.looker.client import RetryPolicy
from target_looker_stage.looker.refresh import run_refresh
from target_looker_stage.looker.settings import parse_looker_settings
from tests.fakes.looker import LookerSimConfig, LookerSimulator, PdtView
from tests.services import free_port
from tests.target.singer_streams import (
    TargetRun,
    invoice_messages,
    parse_states,
    run_target,
    target_command,
    warehouse_rows,
    write_config,
)

PDTS = [{"model": "finance", "view": "ar_aging"}, {"model": "finance", "view": "gl"}]


@pytest.fixture
def sim() -> Iterator[LookerSimulator]:
    with LookerSimulator(LookerSimConfig()) as simulator:
        yield simulator


def looker_config(sim: LookerSimulator, **extra: Any) -> dict[str, Any]:
    return {
        "looker_base_url": sim.base_url,
        "looker_client_id": sim.client_id,
        "looker_client_secret": sim.client_secret,
        "looker_datagroups": ["finance::qbo_etl"],
        **extra,
    }


def looker_lines(run: TargetRun) -> list[str]:
    """The report lines (the logger prefixes each with its time and level)."""
    return [line[line.index("looker: ") :] for line in run.stderr.splitlines() if "looker: " in line]


def assert_loaded(run: TargetRun, database: Path, count: int) -> None:
    assert run.states[-1] == {"position": count}, run.stderr[-3000:]
    assert len(warehouse_rows(database, "quickbooks.invoices")) == count * 3 // 4
    assert "Traceback" not in run.stderr


def assert_no_secret(run: TargetRun, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in run.stdout + run.stderr


@pytest.mark.parametrize(("failure", "exit_code"), [("warn", 0), ("fail", 1)])
def test_a_load_triggers_the_datagroup_and_builds_two_pdts_one_ending_in_lookers_error(  # noqa: PLR0917
    sim: LookerSimulator,
    config: dict[str, Any],
    database: Path,
    tmp_path: Path,
    failure: str,
    exit_code: int,
) -> None:
    settings = {**config, **looker_config(sim, looker_pdts=PDTS, looker_failure=failure)}
    run = run_target(settings, invoice_messages(40, state_every=10), workdir=tmp_path)

    assert run.returncode == exit_code, run.stderr[-3000:]
    assert_loaded(run, database, 40)
    lines = looker_lines(run)
    assert "looker: datagroup finance::qbo_etl triggered" in lines
    assert any(line.startswith("looker: pdt finance/ar_aging built in ") for line in lines)
    assert "looker: pdt finance/gl failed: Table 'x' not found" in lines
    [datagroup] = sim.datagroups()
    assert datagroup["triggered_at"] <= time.time()
    assert {b["view"]: b["status"] for b in sim.pdt_builds} == {"ar_aging": "complete", "gl": "error"}
    if failure == "fail":
        [error] = [line for line in run.stderr.splitlines() if line.startswith("target-looker-stage: error:")]
        assert "looker refresh failed" in error
        assert "finance/gl" in error
    assert_no_secret(run, sim.client_secret)
    [report_file] = (tmp_path / "stage" / "_manifests").glob("*.looker_report.json")
    report = json.loads(report_file.read_text())
    assert report["status"] == "failed"
    assert [(i["name"], i["status"]) for i in report["items"]] == [
        ("finance::qbo_etl", "triggered"),
        ("finance/ar_aging", "built"),
        ("finance/gl", "failed"),
    ]
    assert report["logins"] == 1


def test_without_looker_settings_the_target_loads_as_before_and_says_once_that_refresh_is_off(
    config: dict[str, Any], database: Path, tmp_path: Path
) -> None:
    run = run_target(config, invoice_messages(20, state_every=5), workdir=tmp_path)

    assert run.returncode == 0, run.stderr[-3000:]
    assert_loaded(run, database, 20)
    assert looker_lines(run) == ["looker: refresh off (looker_base_url is not set)"]


def test_an_idle_run_skips_the_refresh_and_says_so(
    sim: LookerSimulator, config: dict[str, Any], tmp_path: Path
) -> None:
    idle = json.dumps({"type": "STATE", "value": {"position": 7}}) + "\n"
    run = run_target({**config, **looker_config(sim)}, idle, workdir=tmp_path)

    assert run.returncode == 0, run.stderr[-3000:]
    assert run.states == [{"position": 7}]
    [line] = looker_lines(run)
    assert line.startswith("looker: refresh skipped: the input had no records (set looker_refresh_when_idle")
    assert sim.calls == []


def test_an_idle_run_refreshes_when_looker_refresh_when_idle_is_set(
    sim: LookerSimulator, config: dict[str, Any], tmp_path: Path
) -> None:
    idle = json.dumps({"type": "STATE", "value": {"position": 7}}) + "\n"
    run = run_target({**config, **looker_config(sim, looker_refresh_when_idle=True)}, idle, workdir=tmp_path)

    assert run.returncode == 0, run.stderr[-3000:]
    assert "looker: datagroup finance::qbo_etl triggered" in looker_lines(run)


def test_with_three_second_tokens_and_a_paused_input_no_call_uses_an_expired_token_and_refresh_runs_once(
    config: dict[str, Any], database: Path, tmp_path: Path
) -> None:
    with LookerSimulator(LookerSimConfig(token_lifetime_seconds=3)) as sim:
        settings = {**config, **looker_config(sim, looker_pdts=PDTS[:1]), "batch_size_rows": 10}
        process = subprocess.Popen(
            target_command(write_config(tmp_path, settings)),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=tmp_path,
            env=dict(os.environ),
        )
        assert process.stdin is not None
        assert process.stdout is not None
        assert process.stderr is not None
        stderr: list[bytes] = []
        reader = threading.Thread(target=lambda: stderr.append(process.stderr.read()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        messages = list(invoice_messages(40, state_every=10))
        first, rest = messages[:23], messages[23:]  # SCHEMA + 20 records + 2 STATEs; then the other 20
        process.stdin.write("".join(first).encode())
        process.stdin.flush()
        states = [process.stdout.readline(), process.stdout.readline()]
        assert [json.loads(s) for s in states] == [{"position": 10}, {"position": 20}]
        time.sleep(4)  # longer than a token's life, between two batches
        assert sim.calls == []  # nothing touches Looker before the input ends
        process.stdin.write("".join(rest).encode())
        process.stdin.close()
        stdout = process.stdout.read().decode()
        assert process.wait(timeout=60) == 0
        reader.join(timeout=10)

        assert parse_states(stdout)[-1] == {"position": 40}
        assert len(warehouse_rows(database, "quickbooks.invoices")) == 30
        authenticated = [c for c in sim.calls if not c.path.endswith("/login")]
        assert authenticated
        assert all(c.token_live for c in authenticated), [
            (c.method, c.path) for c in authenticated if not c.token_live
        ]
        assert [c.method for c in sim.calls if c.path.startswith("/api/4.0/datagroups/")] == ["PATCH"]
        assert [b["status"] for b in sim.pdt_builds] == ["complete"]
        assert sim.client_secret not in stdout + b"".join(stderr).decode()


def test_a_wrong_client_secret_is_one_line_naming_the_setting_and_the_data_stays_committed(
    sim: LookerSimulator, config: dict[str, Any], database: Path, tmp_path: Path
) -> None:
    wrong = "wrong-SECRET-0123456789"
    settings = {**config, **looker_config(sim, looker_pdts=PDTS), "looker_client_secret": wrong}
    run = run_target(settings, invoice_messages(20, state_every=10), workdir=tmp_path)

    assert run.returncode == 0, run.stderr[-3000:]
    assert_loaded(run, database, 20)
    [stopped] = [line for line in looker_lines(run) if line.startswith("looker: refresh stopped:")]
    assert "looker_client_secret" in stopped
    assert "HTTP 404 on login" in stopped
    assert [c.path for c in sim.calls] == ["/api/4.0/login"]
    assert_no_secret(run, wrong, sim.client_secret)


def test_a_wrong_client_secret_fails_the_run_after_the_load_when_looker_failure_is_fail(
    sim: LookerSimulator, config: dict[str, Any], database: Path, tmp_path: Path
) -> None:
    wrong = "wrong-SECRET-0123456789"
    settings = {**config, **looker_config(sim), "looker_client_secret": wrong, "looker_failure": "fail"}
    run = run_target(settings, invoice_messages(20, state_every=10), workdir=tmp_path)

    assert run.returncode == 1
    assert_loaded(run, database, 20)
    [error] = [line for line in run.stderr.splitlines() if line.startswith("target-looker-stage: error:")]
    assert "looker_client_secret" in error
    assert_no_secret(run, wrong)


def test_an_unreachable_looker_is_one_line_naming_the_base_url_setting(
    config: dict[str, Any], database: Path, tmp_path: Path
) -> None:
    secret = "unreachable-SECRET-0001"
    settings = {
        **config,
        "looker_base_url": f"http://127.0.0.1:{free_port()}",
        "looker_client_id": "id",
        "looker_client_secret": secret,
        "looker_datagroups": ["finance::qbo_etl"],
    }
    run = run_target(settings, invoice_messages(20, state_every=10), workdir=tmp_path)

    assert run.returncode == 0, run.stderr[-3000:]
    assert_loaded(run, database, 20)
    [stopped] = [line for line in looker_lines(run) if line.startswith("looker: refresh stopped:")]
    assert "cannot reach Looker after 2 retries" in stopped
    assert "looker_base_url" in stopped
    assert_no_secret(run, secret)


def test_unknown_model_view_and_datagroup_are_one_line_each_naming_them(
    sim: LookerSimulator, config: dict[str, Any], database: Path, tmp_path: Path
) -> None:
    settings = {
        **config,
        **looker_config(
            sim,
            looker_datagroups=["finance::qbo_etl", "finance::nightly", "sales::qbo_etl"],
            looker_pdts=[{"model": "finance", "view": "nope"}, {"model": "finance", "view": "plain_view"}],
            looker_failure="fail",
        ),
    }
    run = run_target(settings, invoice_messages(20, state_every=10), workdir=tmp_path)

    assert run.returncode == 1
    assert_loaded(run, database, 20)
    failed = {line.split(" failed: ")[0]: line for line in looker_lines(run) if " failed: " in line}
    assert "model 'finance' has no datagroup 'nightly'" in failed["looker: datagroup finance::nightly"]
    assert "model 'sales' is not among finance" in failed["looker: datagroup sales::qbo_etl"]
    assert "HTTP 404" in failed["looker: pdt finance/nope"]
    assert "view 'nope'" in failed["looker: pdt finance/nope"]
    assert "HTTP 500 after 1 retry: An error has occurred." in failed["looker: pdt finance/plain_view"]
    assert "persisted derived table" in failed["looker: pdt finance/plain_view"]
    assert "looker: datagroup finance::qbo_etl triggered" in looker_lines(run)


def test_a_429_storm_is_backed_off_honouring_retry_after_then_one_line(
    sim: LookerSimulator, config: dict[str, Any], database: Path, tmp_path: Path
) -> None:
    sim.inject(method="PATCH", path_prefix="/api/4.0/datagroups", status=429, times=50, retry_after=1)
    started = time.monotonic()
    run = run_target({**config, **looker_config(sim)}, invoice_messages(20, state_every=10), workdir=tmp_path)

    assert run.returncode == 0, run.stderr[-3000:]
    assert_loaded(run, database, 20)
    patches = [c for c in sim.calls if c.method == "PATCH"]
    assert [c.status for c in patches] == [429] * 5  # the first try and 4 retries, then it gives up
    gaps = [b.at - a.at for a, b in itertools.pairwise(patches)]
    assert all(gap >= 0.95 for gap in gaps), gaps  # Retry-After: 1 honoured
    assert time.monotonic() - started < 60
    [line] = [line for line in looker_lines(run) if line.startswith("looker: datagroup")]
    assert line == (
        "looker: datagroup finance::qbo_etl failed: Looker kept throttling (HTTP 429) after 4 retries, "
        "honouring Retry-After; run again later"
    )


def test_a_short_429_burst_and_two_503s_are_retried_and_the_refresh_succeeds(sim: LookerSimulator) -> None:
    sim.inject(method="GET", path_prefix="/api/4.0/datagroups", status=429, times=1, retry_after=1)
    sim.inject(method="PATCH", path_prefix="/api/4.0/datagroups", status=503, times=2)
    settings = parse_looker_settings(looker_config(sim))

    report = run_refresh(
        settings, records=1, logger=logging.getLogger("test.looker"), policy=RetryPolicy(backoff_factor=0.05)
    )

    assert [i.line() for i in report.items] == ["looker: datagroup finance::qbo_etl triggered"]
    assert [c.status for c in sim.calls if c.path == "/api/4.0/datagroups"] == [429, 200]
    assert [c.status for c in sim.calls if c.method == "PATCH"] == [503, 503, 200]
    assert sim.datagroups()[0]["triggered_at"] is not None
    assert (report.stats.retries, report.stats.throttled) == (3, 1)


def test_a_5xx_storm_is_retried_a_bounded_number_of_times_then_one_line(sim: LookerSimulator) -> None:
    sim.inject(method="PATCH", path_prefix="/api/4.0/datagroups", status=503, times=20)
    settings = parse_looker_settings(looker_config(sim, looker_pdts=PDTS[:1]))
    fast = RetryPolicy(backoff_factor=0.01, jitter=0.0)

    report = run_refresh(settings, records=1, logger=logging.getLogger("test.looker"), policy=fast)

    assert [c.status for c in sim.calls if c.method == "PATCH"] == [503] * 5
    assert report.items[0].line() == (
        "looker: datagroup finance::qbo_etl failed: "
        "Looker answered HTTP 503 after 4 retries: Service Unavailable"
    )
    assert report.items[1].status == "built"  # one failing item does not stop the others
    assert report.stats.retries == 4


def test_secrets_never_reach_the_output_or_the_report_even_at_debug_level(
    sim: LookerSimulator, config: dict[str, Any], tmp_path: Path
) -> None:
    s3_secret = "s3-SECRET-key-0099"
    destination = {
        "type": "s3",
        "format": "csv",
        "address": "s3://exports/ar/",
        "parameters": {"region": "eu-west-1"},
        "secret_parameters": {"secret_access_key": s3_secret},
    }
    plans = [
        {"name": "AR", "dashboard_id": "1", "crontab": "0 6 * * 1", "destinations": [destination]},
        {"name": "Bad", "dashboard_id": "2", "crontab": "weekly", "destinations": [destination]},
    ]
    settings = {**config, **looker_config(sim, looker_pdts=PDTS, looker_scheduled_plans=plans)}
    run = run_target(
        settings,
        invoice_messages(10, state_every=10),
        workdir=tmp_path,
        env={"TARGET_LOOKER_STAGE_LOGLEVEL": "DEBUG"},
    )

    assert run.returncode == 0, run.stderr[-3000:]
    lines = looker_lines(run)
    assert "looker: plan 'AR' created (id 1)" in lines
    assert any(
        line.startswith("looker: plan 'Bad' failed: Looker rejected the request (HTTP 422)") for line in lines
    )
    [report_file] = (tmp_path / "stage" / "_manifests").glob("*.looker_report.json")
    for secret in (s3_secret, sim.client_secret):
        assert secret not in run.stdout + run.stderr
        assert secret not in report_file.read_text()


def test_a_pdt_build_past_its_timeout_is_stopped_and_reported_and_flags_reach_looker() -> None:
    models: dict[str, dict[str, object]] = {
        "finance": {"datagroups": [], "views": {"slow": PdtView(build_seconds=30.0), "ar": PdtView(0.2)}}
    }
    with LookerSimulator(LookerSimConfig(models=models)) as sim:
        pdts = [
            {"model": "finance", "view": "slow"},
            {"model": "finance", "view": "ar", "force_rebuild": True, "workspace": "dev"},
        ]
        settings = parse_looker_settings(looker_config(sim, looker_datagroups=[], looker_pdts=pdts))
        settings = dataclasses.replace(settings, pdt_timeout_seconds=1)
        started = time.monotonic()

        report = run_refresh(settings, records=1, logger=logging.getLogger("test.looker"))

        assert time.monotonic() - started < 10
        slow, ar = report.items
        assert slow.status == "failed"
        assert slow.line().startswith(
            "looker: pdt finance/slow failed: still 'added' after looker_pdt_timeout_seconds (1s)"
        )
        assert slow.line().endswith("build stopped")
        assert ar.status == "built"
        builds = {b["view"]: b for b in sim.pdt_builds}
        assert builds["slow"]["status"] == "killed"
        assert [c.path.endswith("/stop") for c in sim.calls].count(True) == 1
        assert (builds["ar"]["force_rebuild"], builds["ar"]["workspace"]) == (True, "dev")
        assert (builds["slow"]["force_rebuild"], builds["slow"]["workspace"]) == (False, "production")
