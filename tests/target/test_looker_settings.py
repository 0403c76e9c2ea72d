"""The looker_* settings parsed once (one-line errors naming the setting), and the SDK configured from code:
string values, no looker.ini, no LOOKERSDK_* variables, no error-documentation fetch, fresh tokens only."""

from __future__ import annotations

import dataclasses
import logging
import threading
from pathlib import Path
from typing import Any

import looker_sdk.error
import pytest

from target_looker_stage.errors import ConfigError
from target_looker_stage.looker import refresh as refresh_module
from target_looker_stage.looker.client import LookerCallError, LookerSession, build_sdk
from target_looker_stage.looker.refresh import PollPolicy, run_refresh
from target_looker_stage.looker.settings import parse_looker_settings
from tests.fakes.looker import LookerSimConfig, LookerSimulator, PdtView
from tests.target.singer_streams import invoice_messages, run_target

BASE = {
    "looker_base_url": "https://acme.cloud.looker.com",
    "looker_client_id": "id",
    "looker_client_secret": "s3cr3t",
}


def test_without_a_base_url_the_refresh_is_off_and_says_why() -> None:
    assert parse_looker_settings({}).off_reason == "looker_base_url is not set"
    assert not parse_looker_settings({**BASE, "looker_refresh": "never"}).enabled


def test_defaults_follow_the_issue() -> None:
    settings = parse_looker_settings({**BASE, "looker_datagroups": ["finance::qbo_etl"]})
    assert settings.enabled
    assert (settings.verify_ssl, settings.timeout_seconds, settings.pdt_timeout_seconds) == (True, 120, 1800)
    assert (settings.failure, settings.refresh_when_idle) == ("warn", False)
    assert [d.label for d in settings.datagroups] == ["finance::qbo_etl"]
    assert "s3cr3t" not in repr(settings)


@pytest.mark.parametrize(
    ("extra", "names"),
    [
        ({"looker_base_url": None, "looker_refresh": "after_load"}, "looker_base_url"),
        ({"looker_base_url": "acme.cloud.looker.com"}, "looker_base_url"),
        ({"looker_base_url": "https://acme.cloud.looker.com/api/4.0"}, "/api/4.0"),
        ({"looker_client_secret": ""}, "looker_client_secret"),
        ({"looker_refresh": "always"}, "looker_refresh"),
        ({"looker_failure": "explode"}, "looker_failure"),
        ({"looker_timeout_seconds": 0}, "looker_timeout_seconds"),
        ({"looker_datagroups": ["qbo_etl"]}, "looker_datagroups[0] must be 'model::datagroup'"),
        ({"looker_pdts": [{"model": "finance"}]}, "looker_pdts[0]: 'view' is required"),
        (
            {"looker_pdts": [{"model": "f", "view": "v", "workspace": "qa"}]},
            "'workspace' must be production or dev",
        ),
        ({"looker_pdts": [{"model": "f", "view": "v", "rebuild": True}]}, "unknown key(s) rebuild"),
        (
            {"looker_scheduled_plans": [{"name": "p", "dashboard_id": "1", "destinations": [{}]}]},
            "give either 'crontab' or 'datagroup'",
        ),
        (
            {"looker_scheduled_plans": [{"name": "p", "crontab": "0 6 * * *", "destinations": [{}]}]},
            "give exactly one of dashboard_id, look_id, lookml_dashboard_id",
        ),
        (
            {
                "looker_scheduled_plans": [
                    {
                        "name": "p",
                        "look_id": "1",
                        "crontab": "0 6 * * *",
                        "destinations": [
                            {
                                "type": "fax",
                                "format": "csv",
                                "address": "x",
                                "secret_parameters": {"k": "hunter22"},
                            }
                        ],
                    }
                ]
            },
            "'type' must be one of email, webhook, s3, sftp",
        ),
    ],
)
def test_a_bad_looker_setting_is_one_line_naming_it(extra: dict[str, Any], names: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_looker_settings({**BASE, **extra})
    message = str(raised.value)
    assert names in message
    assert "\n" not in message
    assert "s3cr3t" not in message
    assert "hunter22" not in message


def test_a_bad_looker_setting_stops_the_target_before_loading_with_one_line(
    config: dict[str, Any], tmp_path: Path
) -> None:
    settings = {**config, **BASE, "looker_datagroups": ["qbo_etl"]}
    run = run_target(settings, invoice_messages(5, state_every=5), workdir=tmp_path)

    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    [line] = [line for line in run.stderr.splitlines() if line.startswith("target-looker-stage: error:")]
    assert "looker_datagroups[0] must be 'model::datagroup'" in line
    assert run.states == []


def test_the_sdk_is_configured_from_code_ignoring_looker_ini_and_lookersdk_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "looker.ini").write_text(
        "[Looker]\nbase_url=https://wrong.example\nclient_secret=ini-secret\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOOKERSDK_BASE_URL", "https://env.example")
    monkeypatch.setenv("LOOKERSDK_TIMEOUT", "999")
    settings = parse_looker_settings({**BASE, "looker_verify_ssl": False, "looker_timeout_seconds": 7})

    sdk = build_sdk(settings)

    api = sdk.auth.settings
    assert (api.base_url, api.verify_ssl, api.timeout) == ("https://acme.cloud.looker.com", False, 7)
    assert api.read_config()["client_secret"] == "s3cr3t"
    assert all(isinstance(v, str) for v in api.read_config().values())


def test_an_error_never_makes_the_sdk_fetch_its_documentation_page(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("ErrorDocHelper would GET the CDN with no timeout")

    monkeypatch.setattr(looker_sdk.error.ErrorDocHelper, "parse_and_lookup", no_network)
    with LookerSimulator(LookerSimConfig()) as sim:
        settings = parse_looker_settings(
            {
                "looker_base_url": sim.base_url,
                "looker_client_id": sim.client_id,
                "looker_client_secret": sim.client_secret,
            }
        )
        session = LookerSession(settings)
        with pytest.raises(LookerCallError) as raised:
            session.sdk.start_pdt_build("finance", "no_such_view")
        assert (raised.value.kind, raised.value.status) == ("not_found", 404)
        session.logout()


def test_a_pdt_poll_loop_longer_than_a_token_logs_in_again_and_never_uses_an_expired_token() -> None:
    models: dict[str, dict[str, object]] = {
        "finance": {"datagroups": ["qbo_etl"], "views": {"slow": PdtView(build_seconds=4.0)}}
    }
    with LookerSimulator(LookerSimConfig(token_lifetime_seconds=2, models=models)) as sim:
        settings = parse_looker_settings(
            {
                "looker_base_url": sim.base_url,
                "looker_client_id": sim.client_id,
                "looker_client_secret": sim.client_secret,
                "looker_pdts": [{"model": "finance", "view": "slow"}],
            }
        )
        report = run_refresh(
            settings, records=1, logger=logging.getLogger("test.looker"), poll=PollPolicy(first_delay=0.3)
        )

        assert not report.failed, report.lines()
        polls = [c for c in sim.calls if c.path.endswith("/status")]
        assert polls[-1].at - polls[0].at > 2  # the loop outlived a token
        assert all(c.token_live for c in sim.calls if not c.path.endswith("/login"))
        assert sim.logins() >= 2
        assert (sim.calls[-1].method, sim.calls[-1].path) == ("DELETE", "/api/logout")


def _datagroup_settings(sim: LookerSimulator) -> Any:
    return parse_looker_settings(
        {
            "looker_base_url": sim.base_url,
            "looker_client_id": sim.client_id,
            "looker_client_secret": sim.client_secret,
            "looker_datagroups": ["finance::qbo_etl"],
        }
    )


def test_a_token_looker_ends_before_its_time_is_replaced_by_one_fresh_login() -> None:
    with LookerSimulator(LookerSimConfig()) as sim:
        sim.inject(method="PATCH", path_prefix="/api/4.0/datagroups", status=401, times=1)
        report = run_refresh(_datagroup_settings(sim), records=1, logger=logging.getLogger("test.looker"))

        assert not report.failed, report.lines()
        assert [c.status for c in sim.calls if c.method == "PATCH"] == [401, 200]
        assert sim.logins() == 2


def test_a_fractional_retry_after_is_honoured() -> None:
    with LookerSimulator(LookerSimConfig()) as sim:
        sim.inject(method="GET", path_prefix="/api/4.0/datagroups", status=429, times=1, retry_after=0.4)
        report = run_refresh(_datagroup_settings(sim), records=1, logger=logging.getLogger("test.looker"))

        assert not report.failed, report.lines()
        first, second = [c for c in sim.calls if c.path == "/api/4.0/datagroups"]
        assert (first.status, second.status) == (429, 200)
        assert second.at - first.at >= 0.35


def test_a_pdt_status_check_failing_for_a_while_is_asked_again_and_the_build_still_reports_built() -> None:
    models: dict[str, dict[str, object]] = {
        "finance": {"datagroups": [], "views": {"ar": PdtView(build_seconds=1.0)}}
    }
    with LookerSimulator(LookerSimConfig(models=models)) as sim:
        settings = parse_looker_settings(
            {
                "looker_base_url": sim.base_url,
                "looker_client_id": sim.client_id,
                "looker_client_secret": sim.client_secret,
                "looker_pdts": [{"model": "finance", "view": "ar"}],
            }
        )
        outage = threading.Timer(
            0.25, lambda: sim.inject(method="GET", path_prefix="/api/4.0/derived_table/", status=503, times=4)
        )
        outage.start()
        report = run_refresh(settings, records=1, logger=logging.getLogger("test.looker"))
        outage.join()

        assert [(i.name, i.status) for i in report.items] == [("finance/ar", "built")], report.lines()
        statuses = [c.status for c in sim.calls if c.path.endswith("/status")]
        assert statuses.count(503) == 4
        assert statuses[-1] == 200


def test_an_unexpected_error_in_the_refresh_is_one_line_and_follows_looker_failure(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise TypeError("an SDK surprise")

    monkeypatch.setattr(refresh_module, "run_refresh", broken)
    settings = parse_looker_settings({**BASE, "looker_failure": "fail"})

    failure = refresh_module.refresh_after_load(
        settings, records=1, logger=logging.getLogger("test.looker"), stage_writer=None
    )

    assert failure == (
        "looker refresh failed (unexpected TypeError in the Looker refresh); the loaded data is committed "
        "(looker_failure: fail)"
    )
    assert "looker: refresh stopped: unexpected TypeError in the Looker refresh" in caplog.text
    warn = dataclasses.replace(settings, failure="warn")
    assert (
        refresh_module.refresh_after_load(warn, records=1, logger=logging.getLogger("t"), stage_writer=None)
        is None
    )
