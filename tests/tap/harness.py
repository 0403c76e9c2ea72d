"""Running the tap against the simulator, in-process or as a subprocess the way Meltano does."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import typing as t
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from tap_quickbooks_cdc.errors import QboTapError
from tap_quickbooks_cdc.tap import TapQuickBooksCDC

if t.TYPE_CHECKING:
    from tests.fakes.qbo import QboSimulator

TAP_EXECUTABLE = str(Path(sys.executable).with_name("tap-quickbooks-cdc"))


def tap_config(sim: QboSimulator, tmp_path: Path, **overrides: t.Any) -> dict[str, t.Any]:
    """Config pointing at the simulator, seeds taken from it, fast test-sized waits."""
    config: dict[str, t.Any] = {
        "client_id": sim.client_id,
        "client_secret": sim.client_secret,
        "companies": [
            {"realm_id": realm, "refresh_token": sim.current_refresh_token(realm)} for realm in sim.realm_ids
        ],
        "api_base_url": sim.base_url,
        "token_url": sim.token_url,
        "token_store": str(tmp_path / "secrets" / "qbo_tokens.json"),
        "throttle_wait_seconds": 0.2,
        "retry_backoff_seconds": 0.05,
        "request_timeout_seconds": 10,
    }
    config.update(overrides)
    return config


@dataclass
class RunResult:
    """What one run wrote: records per stream, the last state, the exit status and its log."""

    records: list[dict[str, t.Any]] = field(default_factory=list)
    states: list[dict[str, t.Any]] = field(default_factory=list)
    exit_code: int = 0
    log: str = ""
    stdout: str = ""

    @property
    def state(self) -> dict[str, t.Any]:
        return self.states[-1] if self.states else {}

    def stream(self, name: str) -> list[dict[str, t.Any]]:
        return [m["record"] for m in self.records if m["stream"] == name]

    def ids(self, name: str | None = None) -> list[tuple[str, str, str]]:
        """(stream, realm_id, Id) of every record, in emission order."""
        return [
            (m["stream"], m["record"]["realm_id"], m["record"]["Id"])
            for m in self.records
            if name is None or m["stream"] == name
        ]


def parse_messages(stdout: str) -> RunResult:
    result = RunResult(stdout=stdout)
    for line in stdout.splitlines():
        if not line.strip():
            continue
        message = json.loads(line, parse_float=Decimal)
        if message["type"] == "RECORD":
            result.records.append(message)
        elif message["type"] == "STATE":
            result.states.append(message["value"])
    return result


def select_only(tap: TapQuickBooksCDC, streams: t.Collection[str] | None) -> None:
    if streams is None:
        return
    for name, stream in tap.streams.items():
        stream.selected = name in streams


def run_in_process(
    config: dict[str, t.Any],
    state: dict[str, t.Any] | None = None,
    streams: t.Collection[str] | None = None,
) -> RunResult:
    """One sync in this process; realm failures end as exit_code 1 like the CLI."""
    buffer = io.StringIO()
    exit_code = 0
    with contextlib.redirect_stdout(buffer):
        tap = TapQuickBooksCDC(config=config, state=state or {})
        select_only(tap, streams)
        try:
            tap.sync_all()
            tap.finish_run()
        except QboTapError:
            exit_code = 1
    result = parse_messages(buffer.getvalue())
    result.exit_code = exit_code
    return result


def catalog_selecting(streams: t.Collection[str], tmp_path: Path) -> Path:
    """A catalog file (from --discover) with only `streams` selected."""
    tap = TapQuickBooksCDC(config={})
    select_only(tap, streams)
    catalog = tap.catalog_dict
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalog))
    return path


def run_subprocess(
    config: dict[str, t.Any],
    tmp_path: Path,
    state: dict[str, t.Any] | None = None,
    catalog: Path | None = None,
    timeout: float = 120,
) -> RunResult:
    """One run of the console script, config and state as files (Meltano's way)."""
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    command = [TAP_EXECUTABLE, "--config", str(config_path)]
    if state is not None:
        state_path = tmp_path / "state.json"
        state_path.write_text(json.dumps(state))
        command += ["--state", str(state_path)]
    if catalog is not None:
        command += ["--catalog", str(catalog)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    result = parse_messages(done.stdout)
    result.exit_code = done.returncode
    result.log = done.stderr
    return result
