"""The target's own settings are parsed once into a frozen ``TargetSettings`` whose defaults are the JSON
schema's; the rest of the target reads that object (no module reads a target setting from the config), its
sinks write only to the ``Destinations`` the target hands them, and its private-SDK overrides are all in
``sdk_seams``."""

from __future__ import annotations

import ast
import copy
import dataclasses
import datetime as dt
import logging
import re
import typing as t
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import singer_sdk

from target_looker_stage import settings as settings_module
from target_looker_stage.destinations import Destinations, TablesInRun
from target_looker_stage.errors import ConfigError
from target_looker_stage.looker.settings import SETTING_NAMES as LOOKER_SETTING_NAMES
from target_looker_stage.reader import LineReader
from target_looker_stage.settings import CONFIG_SCHEMA, TargetSettings, schema_default
from target_looker_stage.sinks import LookerStageSink
from target_looker_stage.table_spec import StreamLoad, TableSpec
from target_looker_stage.target import TargetLookerStage
from tests.target.singer_streams import INVOICE_KEYS, INVOICE_SCHEMA, encode, invoice, record_message

PACKAGE = Path(settings_module.__file__).parent
FIELDS = {f.name for f in dataclasses.fields(TargetSettings)}
#: Fields that are not a property of CONFIG_SCHEMA: derived from the SDK's own settings.
DERIVED_FIELDS = {"fast_path"}


def changed(value: Any) -> Any:
    """Another valid value of the same kind as a default."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 7
    if isinstance(value, list):
        return [*value, "weather.*"]
    if value == "upsert":
        return "append"
    return f"{value}-changed"


def parsed(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def with_defaults() -> list[str]:
    return sorted(n for n in FIELDS - DERIVED_FIELDS if "default" in CONFIG_SCHEMA["properties"][n])


def test_an_empty_config_gives_the_schema_defaults() -> None:
    settings = TargetSettings.from_config({})
    assert with_defaults()  # stage_uri, warehouse_uri, duckdb_memory_limit, ...
    for name in with_defaults():
        assert getattr(settings, name) == parsed(schema_default(name)), name
    assert settings.batch_size_rows == CONFIG_SCHEMA["properties"]["batch_size_rows"]["default"]
    assert settings.fast_path


@pytest.mark.parametrize("name", with_defaults())
def test_a_default_changed_in_the_schema_is_the_parsed_value(name: str) -> None:
    schema = copy.deepcopy(CONFIG_SCHEMA)
    schema["properties"][name]["default"] = changed(schema_default(name))
    settings = TargetSettings.from_config({}, schema)
    expected = "append" if name == "load_method" else parsed(schema["properties"][name]["default"])
    assert getattr(settings, name) == expected
    assert getattr(settings, name) != getattr(TargetSettings.from_config({}), name)


def test_no_module_repeats_a_text_default_of_the_schema() -> None:
    """A default is written once, in CONFIG_SCHEMA: no other module holds it as a string literal."""
    defaults = {str(schema_default(n)) for n in with_defaults() if isinstance(schema_default(n), str)} - {
        "upsert"
    }  # upsert is also a load method's name (TableSpec, the warehouses)
    found = [
        f"{path.relative_to(PACKAGE)}: {node.value!r}"
        for path in modules_outside_settings()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and node.value in defaults
    ]
    assert found == []


@pytest.mark.parametrize(
    ("written", "runs"), [("append-only", "append"), ("append", "append"), ("upsert", "upsert")]
)
def test_load_method_append_only_is_append(written: str, runs: str) -> None:
    assert TargetSettings.from_config({"load_method": written}).load_method == runs


def test_the_settings_are_frozen() -> None:
    settings = TargetSettings.from_config({})
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.stage_uri = "elsewhere"  # type: ignore[misc]


def test_every_schema_property_is_a_settings_field_or_lookers() -> None:
    TargetLookerStage(config={"stage_uri": "", "warehouse_uri": ""})  # the SDK adds its settings to its copy
    properties = set(CONFIG_SCHEMA["properties"])
    assert sorted(properties - FIELDS - set(LOOKER_SETTING_NAMES)) == []
    assert sorted(FIELDS - DERIVED_FIELDS - properties) == []
    assert not FIELDS & set(LOOKER_SETTING_NAMES)


def test_values_are_parsed_once_and_normalised() -> None:
    settings = TargetSettings.from_config(
        {
            "stage_uri": None,
            "s3_region": "",
            "duckdb_memory_limit": "",
            "double_columns": ["weather", "sensors.*"],
            "sftp_skip_host_key_check": "yes",
            "postgres_connect_timeout": "3",
        }
    )
    assert settings.stage_uri == ""  # null: staging skipped, as an empty string
    assert settings.warehouse_uri == schema_default("warehouse_uri")  # missing: the default
    assert settings.s3_region is None
    assert settings.duckdb_memory_limit == schema_default("duckdb_memory_limit")
    assert settings.double_columns == ("weather", "sensors.*")
    assert settings.sftp_skip_host_key_check is True
    assert settings.postgres_connect_timeout == 3


@pytest.mark.parametrize(
    "setting",
    [{"stream_maps": {"invoices": {"realm_id": "realm_id"}}}, {"flattening_enabled": True}],
)
def test_the_fast_path_is_off_with_stream_maps_or_flattening(setting: dict[str, Any]) -> None:
    assert not TargetSettings.from_config(setting).fast_path


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"load_method": "merge"}, "load_method"),
        ({"postgres_connect_timeout": "ten"}, "postgres_connect_timeout"),
        ({"postgres_connect_timeout": 0}, "postgres_connect_timeout"),
        ({"batch_size_rows": -5}, "batch_size_rows"),
        ({"hard_delete": "maybe"}, "hard_delete"),
        ({"double_columns": "weather"}, "double_columns"),
        ({"double_columns": [3]}, "double_columns"),
        ({"stage_uri": 5}, "stage_uri"),
        ({"sftp_password": 123456}, "sftp_password"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_setting_and_the_fix(config: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigError) as raised:
        TargetSettings.from_config(config)
    message = str(raised.value)
    assert "\n" not in message
    assert message.endswith(f"fix {named}")
    assert "123456" not in message


def test_a_bad_value_stops_the_target_before_any_input_is_read() -> None:
    with pytest.raises(ConfigError, match="fix load_method"):
        TargetLookerStage(config={"load_method": "merge"}, validate_config=False)


def test_secrets_are_not_in_the_repr() -> None:
    settings = TargetSettings.from_config(
        {
            "aws_secret_access_key": "Aws-Secret-1",
            "sftp_password": "Sftp-Secret-2",
            "warehouse_uri": "postgresql://u:Pg-Secret-3@h/db",
        }
    )
    shown = repr(settings)
    assert "Secret" not in shown
    assert "duckdb_memory_limit" in shown


# ------------------------------------------------------------------ no module reads a target setting itself


def modules_outside_settings() -> list[Path]:
    return [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "settings.py" or path.parent != PACKAGE
        if "looker" not in path.relative_to(PACKAGE).parts[:-1]
    ]


SDK_SETTINGS_READ = {"batch_size_rows", "stream_maps", "flattening_enabled"}
CONFIG_READ = re.compile(r"config\s*(?:\.get\(|\[)\s*[\"'](\w+)[\"']")


def test_no_module_but_settings_reads_a_target_setting_from_the_config() -> None:
    assert len(modules_outside_settings()) > 20
    reads = [
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in modules_outside_settings()
        for name in CONFIG_READ.findall(path.read_text())
        if name in FIELDS | SDK_SETTINGS_READ
    ]
    assert reads == []


def test_the_config_read_pattern_finds_what_the_code_used_to_do() -> None:
    old = 'str(self.config.get("stage_uri", "output/stage") or "")\nconfig["version_column"]'
    assert CONFIG_READ.findall(old) == ["stage_uri", "version_column"]


# ------------------------------------------------------------ private SDK parts only in sdk_seams.py


def sdk_private_names() -> set[str]:
    root = Path(singer_sdk.__file__).parent
    sources = ["target_base.py", "plugin_base.py", "sinks/core.py", "sinks/batch.py"]
    names: set[str] = set()
    for source in sources:
        for node in ast.walk(ast.parse((root / source).read_text())):
            if isinstance(node, ast.Attribute):
                names.add(node.attr)
            if isinstance(node, ast.FunctionDef):
                names.add(node.name)
    return {name for name in names if name.startswith("_") and not name.startswith("__")}


@pytest.mark.parametrize("module", ["target.py", "sinks.py"])
def test_target_and_sinks_touch_no_private_part_of_the_sdk(module: str) -> None:
    private = sdk_private_names()
    assert {"_sinks_active", "_pending_batch", "_validate_and_parse", "_write_state_message"} <= private
    tree = ast.parse((PACKAGE / module).read_text())
    used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    defined = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    assert sorted((used | defined) & private) == []


# ------------------------------------------------------------ a sink writes to its Destinations only


class RecordingWarehouse:
    display_uri = "recording://"

    def __init__(self) -> None:
        self.tables: list[str] = []
        self.merged: list[int] = []

    def check(self) -> None:
        pass

    def ensure_table(self, spec: TableSpec) -> None:
        self.tables.append(spec.name)

    def merge(self, spec: TableSpec, rows: pa.Table) -> int:
        count: int = rows.num_rows
        self.merged.append(count)
        return count

    def record_loads(self, schema_name: str, loads: Sequence[StreamLoad], loaded_at: dt.datetime) -> None:
        raise AssertionError("a sink never records loads")

    def close(self) -> None:
        pass


@dataclasses.dataclass
class BareTarget:
    """What the SDK's Sink.__init__ reads of a target, and the destinations: nothing else of the target."""

    sink_destinations: Destinations
    config: dict[str, Any]
    logger: logging.Logger = dataclasses.field(default_factory=lambda: logging.getLogger("test.bare"))
    initialized_at: int = 0


@pytest.mark.parametrize("fast_path", [True, False])
def test_a_sink_writes_to_the_destinations_it_was_handed(fast_path: bool) -> None:
    maps: dict[str, Any] | None = None if fast_path else {"invoices": {}}
    config: dict[str, Any] = {"default_target_schema": "books", "stream_maps": maps}
    settings = TargetSettings.from_config(config)
    warehouse = RecordingWarehouse()
    committed: list[tuple[str, int, int]] = []
    tables = TablesInRun()
    reader = LineReader()
    destinations = Destinations(
        settings=settings,
        stage=None,
        warehouse=warehouse,
        submit_commit=lambda task: task(),
        committed=lambda spec, table, files: committed.append((spec.stream_name, table.num_rows, files)),
        claim_table=tables.claim,
        decode_line=reader.decode_line,
    )
    target = BareTarget(destinations, config=dict(config))
    sink = LookerStageSink(t.cast(TargetLookerStage, target), "invoices", dict(INVOICE_SCHEMA), INVOICE_KEYS)
    assert sink.spec.schema_name == "books"
    assert warehouse.tables == ["invoices"]
    assert tables.by_stream == {"invoices": sink.spec}
    assert (sink.fast is not None) is fast_path
    for number in range(3):
        line = encode(record_message("invoices", invoice(number))).encode()
        if fast_path:
            sink.add_raw_records([line], number + 1)
        else:
            context = sink.batch_to_fill()
            sink.process_record(sink.record_from_line(line, number + 1), context)
            sink.tally_record_read()
    sink.process_batch(sink.start_drain())
    assert warehouse.merged == [3]
    assert committed == [("invoices", 3, 0)]
