"""Refresh-token rotation survives Meltano-style runs, short-lived access tokens and a SIGKILL."""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import os
import signal
import subprocess
import time
import typing as t
from pathlib import Path

from tap_quickbooks_cdc.tap import TapQuickBooksCDC
from tap_quickbooks_cdc.token_store import FileTokenStore
from tests.tap.harness import (
    TAP_EXECUTABLE,
    catalog_selecting,
    parse_messages,
    run_in_process,
    run_subprocess,
    tap_config,
)

STREAMS = ["customers", "invoices", "terms"]


def _store(config: dict[str, t.Any]) -> FileTokenStore:
    return FileTokenStore(config["token_store"])


def _stored_token(config: dict[str, t.Any], realm: str) -> str:
    stored = _store(config).read(realm)
    assert stored is not None, f"no token stored for realm {realm}"
    return stored.refresh_token


def test_five_runs_in_a_row_each_leave_the_newest_token_in_the_store(
    qbo_sim_factory: t.Any, tmp_path: Path
) -> None:
    sim = qbo_sim_factory(companies=2, records_per_company=100, access_token_ttl=60)
    config = tap_config(sim, tmp_path)  # the seeds stay in config, as Meltano would pass them
    catalog = catalog_selecting(STREAMS, tmp_path)
    state: dict[str, t.Any] | None = None
    seen_tokens: set[str] = set()
    for run in range(5):
        result = run_subprocess(config, tmp_path, state=state, catalog=catalog)
        assert result.exit_code == 0, f"run {run + 1}: {result.log[-1500:]}"
        state = result.state
        for realm in sim.realm_ids:
            stored = _store(config).read(realm)
            assert stored is not None
            assert stored.refresh_token == sim.current_refresh_token(realm)
            seen_tokens.add(stored.refresh_token)
    assert len(seen_tokens) == 10, "every run rotated each realm's token once"


def test_access_tokens_are_refreshed_before_they_expire(qbo_sim_factory: t.Any, tmp_path: Path) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=100, access_token_ttl=4, latency=0.25)
    result = run_in_process(tap_config(sim, tmp_path))  # 24 streams x 250 ms outlive a 4 s token
    assert result.exit_code == 0
    token_requests = [r for r in sim.requests if r.kind == "token"]
    assert len(token_requests) >= 2, "the run outlived one access token"
    assert not [r for r in sim.requests if r.status == 401], "no request was sent with an expired token"


def test_a_run_killed_right_after_a_refresh_does_not_strand_the_company(
    qbo_sim_factory: t.Any, tmp_path: Path
) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=100, access_token_ttl=60)
    realm = sim.realm_ids[0]
    config = tap_config(sim, tmp_path)
    catalog = catalog_selecting(STREAMS, tmp_path)
    assert run_subprocess(config, tmp_path, catalog=catalog).exit_code == 0

    sim.latency = 2.0  # the victim is still on its first data request when it dies
    before = _stored_token(config, realm)
    config_path = tmp_path / "victim.json"
    config_path.write_text(json.dumps(config))
    victim = subprocess.Popen(
        [TAP_EXECUTABLE, "--config", str(config_path), "--catalog", str(catalog)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while _stored_token(config, realm) == before:  # kill the moment the rotated token is stored
        assert time.monotonic() < deadline, "the victim never refreshed"
        assert victim.poll() is None, "the victim ended before refreshing"
        time.sleep(0.005)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(10)
    assert victim.returncode == -signal.SIGKILL

    sim.latency = 0.0
    stored = _store(config).read(realm)
    assert stored is not None
    assert stored.refresh_token == sim.current_refresh_token(realm), "persisted before it was used"
    after = run_subprocess(config, tmp_path, catalog=catalog)
    assert after.exit_code == 0, after.log[-1500:]
    assert _stored_token(config, realm) == sim.current_refresh_token(realm)


def test_a_new_seed_in_config_wins_over_the_stored_lineage(qbo_sim_factory: t.Any, tmp_path: Path) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=100)
    realm = sim.realm_ids[0]
    config = tap_config(sim, tmp_path)
    assert run_in_process(config, streams=["terms"]).exit_code == 0
    sim.revoke(realm)  # the customer disconnected ...
    reconnected = sim.authority.enroll(realm)  # ... and connected again: a fresh seed
    config["companies"] = [{"realm_id": realm, "refresh_token": reconnected}]
    assert run_in_process(config, streams=["terms"]).exit_code == 0
    assert _stored_token(config, realm) == sim.current_refresh_token(realm)


def test_an_access_token_rejected_mid_run_is_refreshed_once_and_the_run_goes_on(
    qbo_sim_factory: t.Any, tmp_path: Path
) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=150, access_token_ttl=3600)
    realm = sim.realm_ids[0]
    with contextlib.redirect_stdout(io.StringIO()) as out:
        tap = TapQuickBooksCDC(config=tap_config(sim, tmp_path))
        tap.streams["terms"].sync()
        sim.clock_offset = datetime.timedelta(hours=2)  # the server now deems our access token expired
        tap.streams["customers"].sync()
        tap.finish_run()
    customers = parse_messages(out.getvalue()).stream("customers")
    assert len(customers) == sim.count(realm, "Customer")
    kinds = [(r.kind, r.status) for r in sim.requests]
    assert kinds.count(("token", 200)) == 2
    assert [status for _, status in kinds].count(401) == 1


def test_two_runs_at_once_for_the_same_company_both_succeed(qbo_sim_factory: t.Any, tmp_path: Path) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=100)
    realm = sim.realm_ids[0]
    config = tap_config(sim, tmp_path)
    catalog = catalog_selecting(STREAMS, tmp_path)
    runs = []
    for name in ("a", "b"):
        config_path = tmp_path / f"{name}.json"
        config_path.write_text(json.dumps(config))
        runs.append(
            subprocess.Popen(
                [TAP_EXECUTABLE, "--config", str(config_path), "--catalog", str(catalog)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    for run in runs:
        _, log = run.communicate(timeout=120)
        assert run.returncode == 0, log[-1500:]
    assert _stored_token(config, realm) == sim.current_refresh_token(realm)
    assert [r.status for r in sim.requests if r.kind == "token"] == [200, 200], "each run spent a fresh token"
