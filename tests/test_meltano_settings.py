"""meltano.yml declares exactly the settings each plugin accepts (`--about --format json`), with the same
kind, default, options and sensitivity, so `meltano config` shows the truth; the `looker` utility's settings
are the target's own (same kind and sensitivity, exported under the target's variable names)."""

from __future__ import annotations

import json
import subprocess
import sys
import typing as t
from decimal import Decimal
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML (a Meltano dependency) ships no stubs

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def meltano_plugins() -> dict[str, dict[str, t.Any]]:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    return {plugin["name"]: plugin for kind in project["plugins"].values() for plugin in kind}


def about_settings(executable: str) -> dict[str, dict[str, t.Any]]:
    done = subprocess.run(
        [str(BIN / executable), "--about", "--format", "json"], capture_output=True, text=True, check=True
    )
    properties: dict[str, dict[str, t.Any]] = json.loads(done.stdout)["settings"]["properties"]
    return properties


def holds_secret(prop: object) -> bool:
    """Marked secret, or holding a secret deeper down (`companies` holds refresh tokens)."""
    if not isinstance(prop, dict):
        return False
    nested = [*prop.get("properties", {}).values(), prop.get("items")]
    return prop.get("secret") is True or any(holds_secret(child) for child in nested)


def meltano_kind(prop: dict[str, t.Any]) -> str:
    """The Meltano setting kind for a JSON-schema property."""
    if "enum" in prop:
        return "options"
    kinds = [k for k in ([prop["type"]] if isinstance(prop["type"], str) else prop["type"]) if k != "null"]
    if kinds == ["string"] and prop.get("format") == "date-time":
        return "date_iso8601"
    # A number is `kind: string` in meltano.yml (Meltano 4.4's decimal kind cannot write a value from an
    # environment variable into the config file); the tap reads the text as an exact number.
    return {"number": "string"}.get(kinds[0], kinds[0])


def comparable(value: object) -> object:
    """Numbers compare by value (60 == 60.0 == Decimal(60)); booleans stay booleans."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Decimal(str(value))
    return value


def described(setting: dict[str, t.Any]) -> dict[str, t.Any]:
    """What meltano.yml says of a setting, in the form `expected` uses."""
    options = setting.get("options")
    return {
        "kind": setting.get("kind", "string"),
        "default": comparable(setting.get("value")),
        "sensitive": setting.get("sensitive", False) is True,
        "options": sorted(o["value"] for o in options) if options else None,
    }


def expected(prop: dict[str, t.Any]) -> dict[str, t.Any]:
    return {
        "kind": meltano_kind(prop),
        "default": comparable(prop.get("default")),
        "sensitive": holds_secret(prop),
        "options": sorted(prop["enum"]) if "enum" in prop else None,
    }


@pytest.mark.parametrize("plugin", ["tap-quickbooks-cdc", "target-looker-stage"])
def test_meltano_yml_declares_every_setting_of_the_plugin_as_its_about_describes_it(plugin: str) -> None:
    definition = meltano_plugins()[plugin]
    declared = {setting["name"]: described(setting) for setting in definition["settings"]}
    accepted = {name: expected(prop) for name, prop in about_settings(definition["executable"]).items()}
    assert sorted(set(accepted) - set(declared)) == [], "accepted by the plugin, missing in meltano.yml"
    assert sorted(set(declared) - set(accepted)) == [], "in meltano.yml, unknown to the plugin"
    wrong = {name: (declared[name], accepted[name]) for name in accepted if declared[name] != accepted[name]}
    assert wrong == {}, "meltano.yml vs --about"


def test_the_looker_utility_declares_a_subset_of_the_target_settings_under_the_target_variables() -> None:
    plugins = meltano_plugins()
    target = {setting["name"]: described(setting) for setting in plugins["target-looker-stage"]["settings"]}
    utility = plugins["looker"]["settings"]
    assert utility
    for setting in utility:
        name = setting["name"]
        assert name in target, name
        assert setting.get("env") == "TARGET_LOOKER_STAGE_" + name.upper(), name
        mine, theirs = described(setting), target[name]
        assert (mine["kind"], mine["sensitive"], mine["options"]) == (
            theirs["kind"],
            theirs["sensitive"],
            theirs["options"],
        ), name
