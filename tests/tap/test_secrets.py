"""Secrets (client secret, refresh and access tokens) never reach logs, errors or output."""

from __future__ import annotations

import typing as t
from pathlib import Path

from tests.tap.harness import catalog_selecting, run_subprocess, tap_config


def test_no_secret_in_the_output_of_a_good_or_a_failing_run(qbo_sim_factory: t.Any, tmp_path: Path) -> None:
    sim = qbo_sim_factory(companies=2, records_per_company=100, access_token_ttl=60)
    revoked = sim.realm_ids[1]
    config = tap_config(sim, tmp_path)
    catalog = catalog_selecting(["customers", "terms"], tmp_path)
    seeds = [company["refresh_token"] for company in config["companies"]]
    sim.inject("http500", times=1)
    good = run_subprocess(config, tmp_path, catalog=catalog)
    assert good.exit_code == 0
    rotated = [sim.current_refresh_token(realm) for realm in sim.realm_ids]
    sim.revoke(revoked)
    bad = run_subprocess(config, tmp_path, state=good.state, catalog=catalog)
    assert bad.exit_code == 1
    wrong_secret = run_subprocess({**config, "client_secret": "wrong-" + config["client_secret"]}, tmp_path)
    assert wrong_secret.exit_code == 1
    assert "check 'client_id' and 'client_secret'" in wrong_secret.log

    secrets = [config["client_secret"], *seeds, *rotated]
    for run in (good, bad, wrong_secret):
        captured = run.stdout + run.log
        for secret in secrets:
            assert secret not in captured
        assert "eyJsim." not in captured, "an access token leaked"
