"""The tap's boundaries end a run with one line naming the problem and the fix (exit code 1), never a
traceback and never a secret: a malformed --config file, an environment variable that does not parse, a
--state or --catalog file that is not one, and JSON-schema validation of secret settings."""

from __future__ import annotations

import json
import os
import subprocess
import typing as t
from pathlib import Path

import pytest
from singer_sdk.plugin_base import JSONSchemaValidator

from tap_quickbooks_cdc.errors import ConfigError
from tap_quickbooks_cdc.settings import CONFIG_SCHEMA, config_errors
from tap_quickbooks_cdc.tap import TapQuickBooksCDC
from tests.tap.harness import TAP_EXECUTABLE

SEED = "seed-token-4f1e2d"
CLIENT_SECRET = 73519846201  # a client secret pasted as a number
GOOD = {"client_id": "app-id", "client_secret": "app-secret-7c2b", "realm_id": "123", "refresh_token": SEED}


def _run(tmp_path: Path, config_text: str, *args: str, env: dict[str, str] | None = None) -> t.Any:
    path = tmp_path / "config.json"
    path.write_text(config_text)
    done = subprocess.run(
        [TAP_EXECUTABLE, "--config", str(path), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
    )
    errors = [line for line in done.stderr.splitlines() if "ERROR" in line]
    assert done.returncode == 1, done.stderr[-1000:]
    assert "Traceback" not in done.stderr
    assert len(errors) == 1, done.stderr[-1000:]
    for secret in (SEED, str(CLIENT_SECRET), "app-secret-7c2b"):
        assert secret not in done.stderr + done.stdout
    return errors[0]


def test_a_malformed_config_file_is_one_line_naming_the_file_and_the_position(tmp_path: Path) -> None:
    text = json.dumps(GOOD)[:-1] + ",}"
    error = _run(tmp_path, text)
    assert "--config file" in error
    assert "config.json is not valid JSON" in error
    assert f"trailing comma before end of object at line 1 column {len(text) - 1}" in error


@pytest.mark.parametrize("mode", [[], ["--discover"]])
def test_companies_from_an_environment_variable_with_a_typo_names_the_variable(
    tmp_path: Path, mode: list[str]
) -> None:
    companies = f'[{{"realm_id": "123", "refresh_token": "{SEED}"}}'  # the closing ] is missing
    error = _run(
        tmp_path,
        json.dumps({"client_id": "app-id", "client_secret": "s"}),
        "--config",
        "ENV",
        *mode,
        env={"TAP_QUICKBOOKS_CDC_COMPANIES": companies},
    )
    variable = "Environment variable TAP_QUICKBOOKS_CDC_COMPANIES (setting 'companies')"
    assert f"{variable} does not parse: write JSON" in error


def test_a_connection_test_with_bad_settings_is_one_line_too(tmp_path: Path) -> None:
    error = _run(tmp_path, json.dumps({**GOOD, "client_secret": CLIENT_SECRET}), "--test")
    assert "config['client_secret'] is not of type 'string', 'null' (value not shown" in error


@pytest.mark.parametrize(
    ("state_text", "expected"),
    [
        ('{"bookmarks": {"invoices": ', "The --state file is not valid JSON"),
        ("[1, 2]", "The state is a JSON array, not an object"),
        ('{"bookmarks": {"invoices": {"partitions": [{"context": 7}]}}}', "partition without an object"),
    ],
)
def test_a_state_file_that_is_not_a_state_is_one_line(tmp_path: Path, state_text: str, expected: str) -> None:
    state = tmp_path / "state.json"
    state.write_text(state_text)
    error = _run(tmp_path, json.dumps(GOOD), "--state", str(state))
    assert expected in error
    assert "or no state, for a full backfill" in error


@pytest.mark.parametrize("catalog_text", ['{"streams": [{"stream": "invoices"}]}', "[]", "{"])
def test_a_catalog_file_that_is_not_a_catalog_is_one_line(tmp_path: Path, catalog_text: str) -> None:
    catalog = tmp_path / "catalog.json"
    catalog.write_text(catalog_text)
    error = _run(tmp_path, json.dumps(GOOD), "--catalog", str(catalog))
    assert "The --catalog file is not" in error
    assert "tap-quickbooks-cdc --discover" in error


def test_validation_of_secret_settings_never_prints_their_values(tmp_path: Path) -> None:
    config = {
        "client_id": "app-id",
        "client_secret": CLIENT_SECRET,
        "companies": json.dumps([{"realm_id": "123", "refresh_token": SEED}]),  # a string, not a list
    }
    error = _run(tmp_path, json.dumps(config))
    assert "config['client_secret'] is not of type 'string', 'null' (value not shown" in error
    assert "config['companies'] is not of type 'array', 'null' (value not shown" in error


def test_in_process_validation_hides_secrets_too_and_still_shows_other_values() -> None:
    config = {
        **GOOD,
        "companies": [{"realm_id": "456", "refresh_token": [SEED]}],
        "refresh_token": {"token": SEED},
        "environment": 5,
    }
    with pytest.raises(ConfigError) as caught:
        TapQuickBooksCDC(config=config)
    message = str(caught.value)
    assert SEED not in message
    assert "\n" not in message
    assert "config['companies'][0]['refresh_token'] is not of type 'string'" in message
    assert "5 is not of type 'string', 'null' in config['environment']" in message, "not a secret: shown"


def test_the_settings_whose_values_are_hidden_come_from_the_schema() -> None:
    schema = json.loads(json.dumps(CONFIG_SCHEMA))
    schema["properties"]["token_store_s3_endpoint_url"]["secret"] = True  # imagine it held a key
    config = {**GOOD, "token_store_s3_endpoint_url": 4242424242, "token_store": 5151515151}
    errors = " ".join(config_errors(JSONSchemaValidator(schema).iter_errors(config), schema))
    assert "4242424242" not in errors
    assert "config['token_store_s3_endpoint_url'] is not of type 'string', 'null' (value not shown" in errors
    assert "5151515151 is not of type" in errors


def test_every_secret_setting_of_the_schema_is_hidden_when_wrongly_typed() -> None:
    secret_names = [name for name, prop in CONFIG_SCHEMA["properties"].items() if prop.get("secret")]
    assert {"client_secret", "refresh_token"} <= set(secret_names)
    config = {**GOOD, **{name: 6060606060 + n for n, name in enumerate(secret_names)}}
    errors = config_errors(JSONSchemaValidator(CONFIG_SCHEMA).iter_errors(config), CONFIG_SCHEMA)
    assert len(errors) == len(secret_names)
    assert "6060606" not in " ".join(errors)
