"""OAuth token refreshes are metered like data calls: an `http_request_duration` point per attempt at the
token endpoint (its path, `grant_type`, the realm, the HTTP status), and no token, client secret or
Authorization header in the log."""

from __future__ import annotations

import base64
import typing as t
from collections import Counter
from pathlib import Path

from tests.tap.harness import RunResult, catalog_selecting, run_subprocess, tap_config
from tests.tap.test_progress_metrics import metric_points

TOKEN_ENDPOINT = "/oauth2/v1/tokens/bearer"


def token_points(run: RunResult) -> list[dict[str, t.Any]]:
    points = metric_points(run.log, "http_request_duration")
    return [p for p in points if p["tags"]["endpoint"] == TOKEN_ENDPOINT]


def statuses(run: RunResult) -> Counter[tuple[str, int | None, str]]:
    return Counter(
        (p["tags"]["context"]["realm_id"], p["tags"].get("http_status_code"), p["tags"]["status"])
        for p in token_points(run)
    )


def test_each_companys_refresh_is_one_token_call_point_with_status_200(
    qbo_sim_factory: t.Any, tmp_path: Path
) -> None:
    sim = qbo_sim_factory(companies=2, records_per_company=20)
    run = run_subprocess(tap_config(sim, tmp_path), tmp_path, catalog=catalog_selecting(["terms"], tmp_path))
    assert run.exit_code == 0, run.log[-2000:]
    assert statuses(run) == {(realm, 200, "succeeded"): 1 for realm in sim.realm_ids}
    assert len(token_points(run)) == len([r for r in sim.requests if r.kind == "token"])
    for point in token_points(run):
        assert point["type"] == "timer"
        assert point["value"] >= 0
        assert point["tags"]["grant_type"] == "refresh_token"


def test_a_retried_refresh_logs_each_attempt_with_its_status(qbo_sim_factory: t.Any, tmp_path: Path) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=20)
    sim.inject("http503", times=1, path_contains="/oauth2/")
    run = run_subprocess(tap_config(sim, tmp_path), tmp_path, catalog=catalog_selecting(["terms"], tmp_path))
    assert run.exit_code == 0, run.log[-2000:]
    (realm,) = sim.realm_ids
    assert statuses(run) == {(realm, 503, "failed"): 1, (realm, 200, "succeeded"): 1}


def test_a_revoked_companys_refused_refresh_is_logged_with_its_status_and_no_secret_is(
    qbo_sim_factory: t.Any, tmp_path: Path
) -> None:
    sim = qbo_sim_factory(companies=2, records_per_company=20)
    healthy, revoked = sim.realm_ids
    config = tap_config(sim, tmp_path)
    catalog = catalog_selecting(["terms"], tmp_path)
    seeds = [company["refresh_token"] for company in config["companies"]]
    good = run_subprocess(config, tmp_path, catalog=catalog)
    assert good.exit_code == 0, good.log[-2000:]
    rotated = [sim.current_refresh_token(realm) for realm in sim.realm_ids]
    sim.revoke(revoked)
    bad = run_subprocess(config, tmp_path, state=good.state, catalog=catalog)
    assert bad.exit_code == 1
    assert statuses(bad) == {(healthy, 200, "succeeded"): 1, (revoked, 400, "failed"): 1}

    basic = base64.b64encode(f"{config['client_id']}:{config['client_secret']}".encode()).decode()
    for run in (good, bad):
        captured = run.stdout + run.log
        for secret in (config["client_secret"], basic, *seeds, *rotated, sim.current_refresh_token(healthy)):
            assert secret not in captured
        assert "eyJsim." not in captured, "an access token leaked"
        assert "RT1-" not in captured, "a refresh token leaked"
