"""SIGTERM and SIGINT: never between a refresh and its persist, and never an exit code 0 for a partial sync.

The tap runs as a subprocess (Meltano's way) against the simulator; the signal is sent while the token
endpoint is slow to answer, or while data requests are in flight.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
import typing as t
from pathlib import Path

import pytest

from tap_quickbooks_cdc import signals
from tap_quickbooks_cdc.registry import ENTITY_FOR_STREAM
from tap_quickbooks_cdc.token_store import FileTokenStore
from tests.tap.harness import TAP_EXECUTABLE, catalog_selecting, parse_messages, run_subprocess, tap_config

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.fakes.qbo import QboSimulator

STREAMS = ["customers", "invoices", "items", "terms", "vendors"]


class RunningTap:
    """The console script in the background; stdout lines are collected as they come."""

    def __init__(self, config: dict[str, t.Any], tmp_path: Path, catalog: Path) -> None:
        config_path = tmp_path / "config.json"
        config_path.write_text(json.dumps(config))
        self.log_path = tmp_path / "tap.log"
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [TAP_EXECUTABLE, "--config", str(config_path), "--catalog", str(catalog)],
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        self.lines.extend(self.process.stdout)

    def wait_until(self, condition: t.Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + 60
        while not condition():
            assert self.process.poll() is None, f"the tap ended before {what}"
            assert time.monotonic() < deadline, f"the tap never got to {what}"
            time.sleep(0.01)

    def stop(self, signum: int) -> tuple[int, str]:
        """Send `signum`; the exit code and the log once the tap ended."""
        self.process.send_signal(signum)
        code = self.process.wait(60)
        self._reader.join(10)
        return code, self.log_path.read_text()


def _stored_token(config: dict[str, t.Any], realm: str) -> str | None:
    stored = FileTokenStore(config["token_store"]).read(realm)
    return stored.refresh_token if stored else None


def _token_statuses(sim: QboSimulator) -> list[int]:
    return [r.status for r in sim.requests if r.kind == "token"]


def test_sigterm_while_a_refresh_is_in_flight_keeps_the_rotated_token_and_exits_143(
    qbo_sim_factory: t.Any, tmp_path: Path
) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=100)
    realm = sim.realm_ids[0]
    config = tap_config(sim, tmp_path)
    catalog = catalog_selecting(["terms"], tmp_path)
    sim.inject("slow", path_contains="/oauth2/", delay=2.5)  # Intuit takes its time to answer
    tap = RunningTap(config, tmp_path, catalog)
    lock = Path(config["token_store"] + ".lock")
    tap.wait_until(lock.exists, "the refresh")  # the store is locked: the token request goes out
    time.sleep(0.8)  # past the lock and the store's write check: the request is out
    code, log = tap.stop(signal.SIGTERM)
    assert code == 128 + signal.SIGTERM, log[-3000:]
    assert _token_statuses(sim) == [200]
    assert _stored_token(config, realm) == sim.current_refresh_token(realm), "stored before exiting"
    assert "Traceback" not in log
    after = run_subprocess(config, tmp_path, catalog=catalog)
    assert after.exit_code == 0, after.log[-3000:]
    assert _token_statuses(sim) == [200, 200], "no invalid_grant on the next run"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_mid_run_exits_128_plus_signal_with_a_state_that_claims_only_what_was_emitted(
    qbo_sim_factory: t.Any, tmp_path: Path, signum: int
) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=400, latency=0.4)
    realm = sim.realm_ids[0]
    config = tap_config(sim, tmp_path)
    catalog = catalog_selecting(STREAMS, tmp_path)
    tap = RunningTap(config, tmp_path, catalog)
    tap.wait_until(lambda: any('"RECORD"' in line for line in tap.lines), "its first record")
    code, log = tap.stop(signum)
    assert code == 128 + signum, log[-3000:]
    assert "Traceback" not in log
    warnings = [line for line in log.splitlines() if "WARNING" in line and "stopped early" in line]
    assert len(warnings) == 1, log[-3000:]
    assert signal.Signals(signum).name in warnings[0]

    stdout = "".join(tap.lines)
    partial = parse_messages(stdout)  # every line is whole JSON: no message was cut by the signal
    assert json.loads(tap.lines[-1])["type"] == "STATE", "the last message is the state"
    finished = []
    for name, bookmark in partial.state.get("bookmarks", {}).items():
        for partition in bookmark.get("partitions", []):
            if "cdc_cursor" in partition:  # the state says this stream is complete for the realm
                assert len(partial.stream(name)) == sim.count(realm, ENTITY_FOR_STREAM[name]), name
                finished.append(name)
    assert set(finished) < set(STREAMS), "the run was stopped part-way"

    sim.latency = 0.0
    resumed = run_subprocess(config, tmp_path, state=partial.state, catalog=catalog)
    assert resumed.exit_code == 0, resumed.log[-3000:]
    for name in STREAMS:
        ids = {record["Id"] for record in partial.stream(name) + resumed.stream(name)}
        assert len(ids) == sim.count(realm, ENTITY_FOR_STREAM[name]), f"{name}: nothing was lost"


@pytest.fixture
def tap_signal_handlers() -> Iterator[None]:
    """This process routes SIGTERM/SIGINT to the tap's handler for one test, then gets pytest's back."""
    previous = {signum: signal.getsignal(signum) for signum in signals.HANDLED}
    signals.reset()
    signals.install()
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        signals.reset()


def _join_then_idle(worker: threading.Thread) -> None:
    worker.join(10)
    time.sleep(5)


@pytest.mark.usefixtures("tap_signal_handlers")
def test_a_signal_during_a_workers_refresh_takes_effect_when_the_refresh_is_stored() -> None:
    inside, release = threading.Event(), threading.Event()
    stored: list[str] = []

    def refresh_in_a_worker() -> None:
        with signals.critical():
            inside.set()
            release.wait(10)
            stored.append("rotated token")

    worker = threading.Thread(target=refresh_in_a_worker)
    worker.start()
    assert inside.wait(10)
    signal.raise_signal(signal.SIGTERM)  # deferred: the main thread carries on
    release.set()
    with pytest.raises(signals.Terminated) as stop:
        _join_then_idle(worker)  # the worker re-sends the signal to the main thread as it leaves
    assert stored == ["rotated token"]
    assert stop.value.code == 128 + signal.SIGTERM
    with pytest.raises(signals.Terminated):
        signals.check()  # no new request or refresh starts after a signal


@pytest.mark.usefixtures("tap_signal_handlers")
def test_outside_a_shielded_section_a_signal_stops_the_main_thread_at_once() -> None:
    with pytest.raises(signals.Terminated) as stop:
        signal.raise_signal(signal.SIGINT)
    assert stop.value.code == 128 + signal.SIGINT
