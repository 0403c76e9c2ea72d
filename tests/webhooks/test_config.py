"""The receiver's settings: the tap's own checks first, then the three webhook settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tap_quickbooks_cdc.errors import ConfigError
from tap_quickbooks_cdc.webhooks.config import DEFAULT_MAX_BODY_BYTES, load_config, receiver_settings
from tests.webhooks.harness import REALMS, SECRETS, VERIFIER_TOKEN, receiver_config


def test_the_receiver_reads_the_tap_settings_file_with_its_defaults(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(receiver_config("inbox.sqlite")))
    settings = receiver_settings(load_config([str(path)]))
    assert settings.verifier_token == VERIFIER_TOKEN
    assert settings.inbox == "inbox.sqlite"
    assert settings.max_body_bytes == DEFAULT_MAX_BODY_BYTES == 1024 * 1024
    assert settings.realm_ids == frozenset(REALMS)
    assert VERIFIER_TOKEN not in repr(settings)


def test_webhook_settings_from_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in receiver_config("postgresql://u:p@127.0.0.1/db").items():
        if key != "companies":
            monkeypatch.setenv(f"TAP_QUICKBOOKS_CDC_{key.upper()}", str(value))
    monkeypatch.setenv("TAP_QUICKBOOKS_CDC_COMPANIES", '[{"realm_id": "42", "refresh_token": "x"}]')
    monkeypatch.setenv("TAP_QUICKBOOKS_CDC_WEBHOOK_MAX_BODY_BYTES", "2048")
    settings = receiver_settings(load_config(["ENV"]))
    assert (settings.inbox, settings.max_body_bytes, settings.realm_ids) == (
        "postgresql://u:p@127.0.0.1/db",
        2048,
        frozenset({"42"}),
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"webhook_verifier_token": None}, "Missing setting 'webhook_verifier_token'"),
        ({"webhook_inbox": " "}, "Missing setting 'webhook_inbox'"),
        ({"webhook_max_body_bytes": 10}, "Setting 'webhook_max_body_bytes' is 10"),
        ({"webhook_max_body_bytes": "big"}, "config['webhook_max_body_bytes']"),
        ({"webhook_verifier_token": 12345}, "config['webhook_verifier_token'] is not of type"),
        ({"client_secret": None}, "Missing setting 'client_secret'"),
        ({"companies": "[" + SECRETS[2]}, "config['companies'] is not of type"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it_without_a_secret(
    change: dict[str, object], expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        receiver_settings({**receiver_config("inbox.sqlite"), **change})
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message
    for secret in SECRETS:
        assert secret not in message
