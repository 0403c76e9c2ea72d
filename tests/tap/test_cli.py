"""The command line: --about, --discover, --test, and one-line errors for bad settings."""

from __future__ import annotations

import json
import subprocess
import typing as t
from pathlib import Path

from tap_quickbooks_cdc.registry import ENTITY_FOR_STREAM
from tests.tap.harness import TAP_EXECUTABLE, tap_config


def _run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TAP_EXECUTABLE, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def test_about_lists_the_settings_with_descriptions() -> None:
    done = _run("--about", "--format=json")
    assert done.returncode == 0
    about = json.loads(done.stdout)
    settings = about["settings"]["properties"]
    assert settings["webhook_inbox"]["description"].startswith("Where the webhook receiver stores")
    assert settings["webhook_verifier_token"]["secret"] is True
    assert settings["client_secret"]["secret"] is True


def test_discover_needs_no_credentials_and_describes_every_stream(tmp_path: Path) -> None:
    config = tmp_path / "empty.json"
    config.write_text("{}")
    done = _run("--config", str(config), "--discover")
    assert done.returncode == 0, done.stderr[-1000:]
    streams = {entry["stream"]: entry for entry in json.loads(done.stdout)["streams"]}
    assert sorted(streams) == sorted(ENTITY_FOR_STREAM)
    for entry in streams.values():
        assert entry["key_properties"] == ["realm_id", "Id"]
        assert entry["replication_key"] == "last_updated_at"


def test_connection_test_passes_against_the_simulator(qbo_sim_factory: t.Any, tmp_path: Path) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=100)
    config = tmp_path / "config.json"
    config.write_text(json.dumps(tap_config(sim, tmp_path)))
    done = _run("--config", str(config), "--test")
    assert done.returncode == 0, done.stderr[-1000:]


def test_a_missing_setting_is_one_clear_line_and_exit_1(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps({"client_secret": "s", "realm_id": "123", "refresh_token": "seed-token-value"})
    )
    done = _run("--config", str(config))
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1
    assert "Missing setting 'client_id': set it to your Intuit app's client ID." in errors[0]
    assert "Traceback" not in done.stderr
    assert "seed-token-value" not in done.stderr
