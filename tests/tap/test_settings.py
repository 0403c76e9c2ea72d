"""Settings: exact names, one-company shorthand, and one-line errors that say the fix."""

from __future__ import annotations

import typing as t

import pytest

from tap_quickbooks_cdc.errors import ConfigError
from tap_quickbooks_cdc.settings import INTUIT_TOKEN_URL, PRODUCTION_API, SANDBOX_API, parse_settings
from tap_quickbooks_cdc.tap import TapQuickBooksCDC

BASE: dict[str, t.Any] = {
    "client_id": "app-id",
    "client_secret": "app-secret-value",
    "companies": [{"realm_id": "111", "refresh_token": "seed-111"}],
}


def test_defaults_target_production_within_intuit_limits() -> None:
    settings = parse_settings(BASE)
    assert settings.api_base_url == PRODUCTION_API
    assert settings.token_url == INTUIT_TOKEN_URL
    assert settings.minorversion == 75
    assert settings.requests_per_minute < 500
    assert settings.max_concurrent_requests <= 10
    assert settings.token_store == ".secrets/qbo_tokens.json"


def test_sandbox_and_overrides() -> None:
    assert parse_settings({**BASE, "environment": "sandbox"}).api_base_url == SANDBOX_API
    custom = parse_settings(
        {**BASE, "api_base_url": "http://127.0.0.1:9/", "token_url": "http://127.0.0.1:9/t"}
    )
    assert custom.api_base_url == "http://127.0.0.1:9"
    assert custom.token_url == "http://127.0.0.1:9/t"


def test_single_company_shorthand() -> None:
    config = {"client_id": "a", "client_secret": "b", "realm_id": "222", "refresh_token": "seed-222"}
    assert [c.realm_id for c in parse_settings(config).companies] == ["222"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"client_id": None}, "Missing setting 'client_id'"),
        ({"client_secret": ""}, "Missing setting 'client_secret'"),
        ({"companies": []}, "No company configured"),
        ({"companies": [{"realm_id": "abc", "refresh_token": "x"}]}, "no valid 'realm_id'"),
        ({"companies": [{"realm_id": "111", "refresh_token": 5}]}, "'refresh_token' that is not text"),
        ({"environment": "staging"}, "use 'production' or 'sandbox'"),
        ({"requests_per_minute": 900}, "Intuit allows 500"),
        ({"start_date": "last tuesday"}, "not an ISO date-time"),
        ({"cdc_cursor_margin_seconds": -5}, "a negative margin would move the CDC cursor"),
    ],
)
def test_bad_settings_give_one_line_problem_and_fix(change: dict[str, t.Any], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({**BASE, **change})
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message
    assert "seed-111" not in message
    assert "app-secret-value" not in message


def test_settings_repr_hides_secrets() -> None:
    text = repr(parse_settings(BASE))
    assert "seed-111" not in text
    assert "app-secret-value" not in text


def test_about_documents_every_setting() -> None:
    properties = TapQuickBooksCDC.config_jsonschema["properties"]
    for name in (
        "client_id",
        "client_secret",
        "companies",
        "realm_id",
        "refresh_token",
        "environment",
        "api_base_url",
        "token_url",
        "token_store",
        "start_date",
        "minorversion",
        "requests_per_minute",
        "max_concurrent_requests",
        "webhook_inbox",
    ):
        assert properties[name].get("description"), name
    assert properties["client_secret"].get("secret") is True
    assert properties["refresh_token"].get("secret") is True
    assert properties["companies"]["items"]["properties"]["refresh_token"].get("secret") is True
