"""Fuzzing the tap's boundaries: any config (as a dict or as JSON text, secrets planted in every secret
setting, well- or ill-typed) and any state document give a correct result or one clean one-line
ConfigError that shows no planted secret; never another exception. The bulk runs in-process; a handful of
bad configs go through the real command line."""

from __future__ import annotations

import datetime
import json
import subprocess
import tempfile
import typing as t
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from singer_sdk.plugin_base import JSONSchemaValidator

from tap_quickbooks_cdc.errors import ConfigError
from tap_quickbooks_cdc.settings import Settings, config_errors, load_config_text, parse_settings
from tap_quickbooks_cdc.stream_base import QboStream, check_state_document, realm_state_problem
from tap_quickbooks_cdc.tap import TapQuickBooksCDC
from tests.tap.harness import TAP_EXECUTABLE

CLIENT_SECRET = "SECRET-client-7f3a9e"
SEED = "SECRET-seed-91bc44"
VERIFIER = "SECRET-verifier-5d7a01"
INBOX = "postgresql://inbox:SECRET-inbox-pw-88e2@127.0.0.1/inbox"
NUMERIC_SECRET = 918273645546372819
SECRETS = (CLIENT_SECRET, SEED, VERIFIER, "SECRET-inbox-pw-88e2", str(NUMERIC_SECRET))
REALMS = ("123", "456")

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.decimals(allow_nan=True, allow_infinity=True, places=3)
    | st.text(max_size=12)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def planted(secret: str) -> st.SearchStrategy[t.Any]:
    """The secret as a secret setting's value: right, wrongly typed, or inside a wrong structure."""
    wrong = [[secret], {"value": secret}, f" {secret}\n", NUMERIC_SECRET, [NUMERIC_SECRET], None, ""]
    return st.just(secret) | st.sampled_from(wrong)


def valid_or(valid: t.Any, *others: st.SearchStrategy[t.Any]) -> st.SearchStrategy[t.Any]:
    return st.one_of(st.just(valid), *others, json_values)


company = st.fixed_dictionaries(
    {"realm_id": valid_or("123", st.sampled_from(REALMS)), "refresh_token": planted(SEED)},
    optional={"extra": json_values},
)
companies = st.one_of(
    st.lists(company, min_size=1, max_size=3),
    st.lists(company | json_values, max_size=3),
    st.builds(lambda items: json.dumps(items, default=str), st.lists(company, min_size=1, max_size=2)),
    st.just(f'[{{"realm_id": "123", "refresh_token": "{SEED}"'),  # a JSON string with a typo
    json_values,
)
times = st.sampled_from(["2024-01-01T00:00:00Z", "2024-01-01", "0001-01-01T00:00:00+01:00", "soon"])
numbers = st.integers(-5, 2000) | st.floats(allow_nan=True) | st.decimals(allow_nan=True, places=2)
#: A valid config, and per setting what a config may hold instead.
VALID_CONFIG: dict[str, t.Any] = {
    "client_id": "app-id",
    "client_secret": CLIENT_SECRET,
    "companies": [{"realm_id": "123", "refresh_token": SEED}],
}
SETTING_VALUES: dict[str, st.SearchStrategy[t.Any]] = {
    "client_id": valid_or("app-id"),
    "client_secret": planted(CLIENT_SECRET),
    "companies": companies,
    "realm_id": valid_or("456"),
    "refresh_token": planted(SEED),
    "environment": valid_or("sandbox", st.just("staging")),
    "api_base_url": valid_or("http://127.0.0.1:9"),
    "token_store": valid_or("/tmp/never-written.json"),  # never opened
    "start_date": times | json_values,
    "requests_per_minute": numbers | json_values,
    "max_concurrent_requests": numbers,
    "cdc_cursor_margin_seconds": numbers,
    "query_only_refresh_hours": numbers,
    "max_retries": numbers,
    "webhook_verifier_token": planted(VERIFIER),
    "webhook_inbox": planted(INBOX),
    "unknown_setting": json_values,
}


@st.composite
def configs(draw: st.DrawFn) -> dict[str, t.Any]:
    """A valid config (or none) with a few settings replaced by any value and a few removed."""
    config = json.loads(json.dumps(VALID_CONFIG)) if draw(st.booleans()) else {}
    for key in draw(st.lists(st.sampled_from(sorted(SETTING_VALUES)), max_size=4, unique=True)):
        config[key] = draw(SETTING_VALUES[key])
    for key in draw(st.lists(st.sampled_from(sorted(VALID_CONFIG)), max_size=1)):
        config.pop(key, None)
    return config


def check(config: dict[str, t.Any]) -> Settings | ConfigError:
    """What the tap does with a config in its constructor: schema validation, then typed parsing."""
    schema = TapQuickBooksCDC.config_jsonschema
    errors = config_errors(JSONSchemaValidator(schema).iter_errors(config), schema)
    if errors:
        return ConfigError("; ".join(errors))
    try:
        return parse_settings(config)
    except ConfigError as exc:
        return exc


def assert_clean(outcome: Settings | ConfigError) -> None:
    if isinstance(outcome, ConfigError):
        message = str(outcome)
        assert message
        assert "\n" not in message
        for secret in SECRETS:
            assert secret not in message
    else:
        assert outcome.companies
        assert outcome.client_secret.strip() == outcome.client_secret


@given(configs())
def test_any_config_gives_settings_or_one_clean_line(config: dict[str, t.Any]) -> None:
    assert_clean(check(config))


@given(configs(), st.integers(0, 400), st.sampled_from(["", "}", ",", '"', "\\", "{"]))
def test_any_config_text_gives_settings_or_one_clean_line(
    config: dict[str, t.Any], cut: int, inserted: str
) -> None:
    text = json.dumps(config, default=str)
    text = text[:cut] + inserted + text[cut:]
    try:
        parsed = load_config_text(text, "--config file config.json")
    except ConfigError as exc:
        assert_clean(exc)
        return
    assert_clean(check(parsed))


@settings(max_examples=10)
@given(configs())
def test_the_tap_constructor_fails_bad_configs_with_one_clean_line(config: dict[str, t.Any]) -> None:
    assume(isinstance(check(dict(config)), ConfigError))  # good ones would build every stream (slow)
    with pytest.raises(ConfigError) as caught:
        _ = TapQuickBooksCDC(config=config).settings
    assert_clean(caught.value)


GOOD_CONFIG = {
    "client_id": "app-id",
    "client_secret": CLIENT_SECRET,
    "companies": [{"realm_id": realm, "refresh_token": SEED} for realm in REALMS],
    "start_date": "2024-01-01T00:00:00Z",
}
STREAM_NAMES = ["invoices", "customers", "tax_codes", "not_a_stream", "two\nlines"]
bookmark_values = st.one_of(
    st.sampled_from(
        [
            "2026-11-25T10:58:00+00:00",  # CDC
            "2026-11-25T02:58:00-08:00",
            "2026-10-01T00:00:00Z",  # older than CDC's window: query
            "2026-11-25T10:58:00",  # naive: UTC
            "2026-11-25",
            "2099-01-01T00:00:00Z",  # future
            "0001-01-01T00:00:00+01:00",  # parses, but has no UTC form
        ]
    ),
    json_values,
)
contexts = st.sampled_from([{"realm_id": realm} for realm in REALMS])
partition = st.fixed_dictionaries(
    {"context": contexts},
    optional={
        "cdc_cursor": bookmark_values,
        "replication_key": st.just("last_updated_at") | json_values,
        "replication_key_value": bookmark_values,
        "queried_at": bookmark_values,
        "progress_markers": st.just({"Note": "Progress is not resumable if interrupted."}),
    },
)
odd_partition = st.fixed_dictionaries(
    {}, optional={"context": json_values, "cdc_cursor": bookmark_values, "progress_markers": json_values}
)
well_shaped_stream = st.fixed_dictionaries(
    {"partitions": st.lists(partition, min_size=1, max_size=2, unique_by=lambda p: str(p["context"]))},
    optional={"replication_key_value": bookmark_values},
)
stream_state = st.one_of(
    well_shaped_stream,
    well_shaped_stream,
    st.fixed_dictionaries(
        {}, optional={"partitions": st.lists(partition | odd_partition, max_size=2) | json_values}
    ),
)
well_shaped = st.fixed_dictionaries(
    {"bookmarks": st.dictionaries(st.sampled_from(STREAM_NAMES), stream_state, max_size=4)}
)
states = st.one_of(
    well_shaped,
    well_shaped,
    well_shaped,
    st.fixed_dictionaries({}, optional={"bookmarks": json_values}),
    json_values,
)


@pytest.fixture(scope="module")
def tap() -> TapQuickBooksCDC:
    return TapQuickBooksCDC(config=dict(GOOD_CONFIG))


@settings(max_examples=300)
@given(state=states)
def test_any_state_is_read_or_refused_with_one_clean_line(tap: TapQuickBooksCDC, state: t.Any) -> None:
    try:
        check_state_document(state)
    except ConfigError as exc:
        assert_clean(exc)
        return
    tap.state.clear()  # type: ignore[attr-defined]  # a plain dict at run time
    tap.load_state(state)
    tap._reset_state_progress_markers()
    now = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)
    for realm in REALMS:
        problem = realm_state_problem(tap.state, realm)
        if problem is not None:
            assert "\n" not in problem
            continue
        for stream in tap.streams.values():
            assert isinstance(stream, QboStream)
            _mode, since = stream.plan(realm, now)
            assert since is None or since.endswith("+00:00")
            stream.future_bound(realm, now)
            stream._refresh_due(realm, now)


@settings(max_examples=1)
@given(st.data())
def test_the_command_line_ends_bad_configs_with_one_line_and_exit_1(data: st.DataObject) -> None:
    def bad(config: dict[str, t.Any]) -> bool:
        as_read = json.loads(json.dumps(config, default=str), parse_float=Decimal)
        return isinstance(check(as_read), ConfigError)

    bad_configs = [data.draw(configs().filter(bad)) for _ in range(3)]
    with tempfile.TemporaryDirectory() as folder:
        runs = []
        for number, config in enumerate(bad_configs):  # in parallel: about one start-up's time in all
            path = Path(folder) / f"config-{number}.json"
            path.write_text(json.dumps(config, default=str))
            runs.append(
                subprocess.Popen(
                    [TAP_EXECUTABLE, "--config", str(path)],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        outcomes = [(run.communicate(timeout=60), run.returncode) for run in runs]
    for (stdout, stderr), code in outcomes:
        assert code == 1, stderr[-500:]
        assert "Traceback" not in stderr
        assert len([line for line in stderr.splitlines() if "ERROR" in line]) == 1, stderr[-500:]
        for secret in SECRETS:
            assert secret not in stdout + stderr
