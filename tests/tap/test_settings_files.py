"""Settings that read well: a misspelt setting is named with the closest real one, and `companies` can come
from a JSON or YAML `companies_file` (no tokens needed once connected) with one-line errors that never show
the file's content."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest

from tap_quickbooks_cdc.errors import ConfigError
from tap_quickbooks_cdc.settings import parse_settings
from tap_quickbooks_cdc.tap import TapQuickBooksCDC
from tests.tap.harness import run_in_process, run_subprocess, tap_config

BASE: dict[str, t.Any] = {"client_id": "app-id", "client_secret": "app-secret-value"}
SEED = "RT1-seed-token-that-must-not-show"


def test_a_misspelt_setting_is_named_with_the_closest_real_one() -> None:
    config = {**BASE, "companys": [{"realm_id": "111"}], "companies": [{"realm_id": "111"}]}
    with pytest.raises(ConfigError) as caught:
        TapQuickBooksCDC(config=config)
    message = str(caught.value)
    assert "unknown setting 'companys'; did you mean 'companies'?" in message
    assert "\n" not in message


def test_an_unknown_setting_with_no_close_name_says_to_remove_it() -> None:
    with pytest.raises(ConfigError, match="unknown setting 'colour'; remove it"):
        TapQuickBooksCDC(config={**BASE, "companies": [{"realm_id": "111"}], "colour": "blue"})


def test_sdk_settings_are_known_settings() -> None:
    config = {
        **BASE,
        "companies": [{"realm_id": "111"}],
        "flattening_enabled": True,
        "flattening_max_depth": 1,
        "stream_maps": {},
    }
    assert TapQuickBooksCDC(config=config).settings.companies[0].realm_id == "111"


def test_a_misspelt_setting_in_a_config_file_ends_the_cli_with_one_line(tmp_path: Path) -> None:
    config = {**BASE, "companies": [{"realm_id": "111"}], "client_secrett": "x"}
    result = run_subprocess(config, tmp_path)
    assert result.exit_code == 1
    errors = [line for line in result.log.splitlines() if "ERROR" in line]
    assert len(errors) == 1
    assert "unknown setting 'client_secrett'; did you mean 'client_secret'?" in errors[0]
    assert "Traceback" not in result.log


def test_companies_from_a_yaml_file_need_no_tokens_and_add_to_companies(tmp_path: Path) -> None:
    listing = tmp_path / "companies.yaml"
    listing.write_text(
        "companies:\n  - realm_id: 9341453000000001  # unquoted\n    name: Acme\n  - realm_id: '222'\n"
    )
    settings = parse_settings({**BASE, "companies": [{"realm_id": "111"}], "companies_file": str(listing)})
    assert [c.realm_id for c in settings.companies] == ["111", "9341453000000001", "222"]
    assert {c.seed_refresh_token for c in settings.companies} == {""}


def test_companies_from_a_json_file_may_carry_a_seed(tmp_path: Path) -> None:
    listing = tmp_path / "companies.json"
    listing.write_text(json.dumps([{"realm_id": "333", "refresh_token": SEED}]))
    settings = parse_settings({**BASE, "companies_file": str(listing)})
    assert [(c.realm_id, c.seed_refresh_token) for c in settings.companies] == [("333", SEED)]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "companies.json",
            '[{"realm_id": "1", "refresh_token": "' + SEED + '",}]',
            "is not valid JSON at line 1",
        ),
        (
            "companies.yaml",
            f"- realm_id: '1'\n  refresh_token: {SEED}\n - bad: [",
            "is not valid YAML at line",
        ),
        ("companies.yml", f"realm_id: '1'\nrefresh_token: {SEED}\n", "holds no list of companies"),
        ("companies.json", json.dumps({"realms": [SEED]}), "holds no list of companies"),
        ("companies.json", json.dumps([{"realm": "1", "refresh_token": SEED}]), "has no valid 'realm_id'"),
    ],
)
def test_a_malformed_companies_file_is_one_line_naming_it_without_its_content(
    tmp_path: Path, name: str, content: str, expected: str
) -> None:
    listing = tmp_path / name
    listing.write_text(content)
    with pytest.raises(ConfigError) as caught:
        parse_settings({**BASE, "companies_file": str(listing)})
    message = str(caught.value)
    assert expected in message
    assert str(listing) in message or "Company #1" in message
    assert SEED not in message
    assert "\n" not in message


def test_a_missing_companies_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    with pytest.raises(ConfigError, match=r"companies_file .*nowhere\.yaml cannot be read .*check the path"):
        parse_settings({**BASE, "companies_file": str(missing)})


def test_a_sync_reads_its_companies_from_the_file_and_needs_no_token_once_connected(
    qbo_sim_factory: t.Any, tmp_path: Path
) -> None:
    sim = qbo_sim_factory(companies=2, records_per_company=100)
    listing = tmp_path / "companies.yaml"
    seeded = "".join(
        f"- realm_id: '{r}'\n  refresh_token: {sim.current_refresh_token(r)}\n" for r in sim.realm_ids
    )
    listing.write_text(seeded)
    config = tap_config(sim, tmp_path, companies_file=str(listing))
    del config["companies"]
    first = run_in_process(config, streams=["terms"])
    assert first.exit_code == 0
    assert {m["record"]["realm_id"] for m in first.records} == set(sim.realm_ids)

    listing.write_text("".join(f"- realm_id: '{r}'\n" for r in sim.realm_ids))  # connected: no tokens
    second = run_in_process(config, streams=["terms"])
    assert second.exit_code == 0
    assert {m["record"]["realm_id"] for m in second.records} == set(sim.realm_ids)


def test_number_settings_given_as_text_are_read_as_exact_numbers() -> None:
    # meltano.yml declares them kind string: Meltano passes an environment variable's value as text
    config = {**BASE, "companies": [{"realm_id": "111"}], "throttle_wait_seconds": "0.5"}
    config |= {"progress_interval_seconds": " 2.5 ", "retry_backoff_seconds": 0.25}
    settings = TapQuickBooksCDC(config=config).settings
    assert (settings.throttle_wait_seconds, settings.progress_interval_seconds) == (0.5, 2.5)
    with pytest.raises(
        ConfigError, match=r"is not of type 'number', 'null' in config\['request_timeout_seconds'\]"
    ):
        TapQuickBooksCDC(config={**config, "request_timeout_seconds": "soon"})
    with pytest.raises(ConfigError, match="'progress_interval_seconds' is -1: use seconds >= 0"):
        _ = TapQuickBooksCDC(config={**config, "progress_interval_seconds": -1}).settings
