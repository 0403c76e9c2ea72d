"""Refresh tokens survive the mistakes people make with them: a realm-ID typo, a copied or moved token
store, a company connected without a seed in config.

Intuit retires a refresh token the moment it rotates it, so each mistake used to cost an OAuth reconnect:
a typo spent the seed and filed the rotated token under the wrong realm; a store copy spent the token
the original then offered (`invalid_grant`). These tests pin that the fix of the mistake is enough.
"""

from __future__ import annotations

import json
import logging
import shutil
import socket
import typing as t
from pathlib import Path

import pytest

from tap_quickbooks_cdc.errors import TokenStoreError
from tap_quickbooks_cdc.token_store import FileTokenStore, S3TokenStore, StoredToken
from tests.tap.harness import RunResult, run_in_process, tap_config
from tests.tap.test_connect import app_config, connect_by_browser

if t.TYPE_CHECKING:
    from tests.fakes.qbo import QboSimulator
    from tests.services import S3Server

STREAMS = ["terms"]
TYPO = "4620816365999999999"


def _sync(config: dict[str, t.Any], caplog: pytest.LogCaptureFixture) -> tuple[RunResult, list[str]]:
    """One in-process run: its result and its realms' ERROR lines (not the run's closing count)."""
    caplog.clear()
    with caplog.at_level(logging.INFO):
        result = run_in_process(config, streams=STREAMS)
    errors = [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.ERROR and r.getMessage().startswith("realm ")
    ]
    return result, errors


def _token_statuses(sim: QboSimulator) -> list[int]:
    return [r.status for r in sim.requests if r.kind == "token"]


def _one_company(
    sim: QboSimulator, tmp_path: Path, realm: str, seed: str | None, **overrides: t.Any
) -> dict[str, t.Any]:
    company = {"realm_id": realm} if seed is None else {"realm_id": realm, "refresh_token": seed}
    return tap_config(sim, tmp_path, companies=[company], **overrides)


# ---------------------------------------------------------------------------------------- realm typo


def test_a_realm_id_typo_then_the_fix_syncs_without_reconnecting(
    qbo_sim_factory: t.Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=50)
    realm = sim.realm_ids[0]
    seed = sim.current_refresh_token(realm)

    for _ in range(2):  # the typo run twice: the second spends the kept token, not the dead seed
        typo, errors = _sync(_one_company(sim, tmp_path, TYPO, seed), caplog)
        assert typo.exit_code == 1
        assert typo.records == []
        assert len(errors) == 1, errors
        assert errors[0].startswith(
            f"realm {TYPO}: the refresh token is not authorised for this company (Fault 3201): check the "
            "realm ID; the rotated token is kept, so fixing 'realm_id' needs no reconnect"
        ), errors[0]
    fixed, errors = _sync(_one_company(sim, tmp_path, realm, seed), caplog)  # the SAME seed in config

    assert fixed.exit_code == 0, errors
    assert {r["realm_id"] for r in fixed.stream("terms")} == {realm}
    assert _token_statuses(sim) == [200, 200, 200], "no invalid_grant: the typo's token was adopted"
    store = FileTokenStore(tmp_path / "secrets" / "qbo_tokens.json")
    stored = store.read(realm)
    assert stored is not None
    assert stored.refresh_token == sim.current_refresh_token(realm)
    assert store.read(TYPO) is None, "the entry moved to the realm it belongs to"
    assert f"realm {realm}: spending the refresh token stored under realm {TYPO}" in caplog.text


def test_a_reconnect_seed_entered_with_a_typo_is_adopted_over_the_realms_older_lineage(
    qbo_sim_factory: t.Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=50)
    realm = sim.realm_ids[0]
    first, _ = _sync(_one_company(sim, tmp_path, realm, sim.current_refresh_token(realm)), caplog)
    assert first.exit_code == 0
    sim.revoke(realm)  # disconnected and connected again: a new seed, typed in under a wrong realm
    seed = sim.authority.enroll(realm)
    typo, _ = _sync(_one_company(sim, tmp_path, TYPO, seed), caplog)
    assert typo.exit_code == 1

    fixed, errors = _sync(_one_company(sim, tmp_path, realm, seed), caplog)

    assert fixed.exit_code == 0, errors
    assert _token_statuses(sim) == [200, 200, 200]


# ------------------------------------------------------------------------------------- store copies


def _synced_once(
    qbo_sim_factory: t.Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> tuple[QboSimulator, str, dict[str, t.Any]]:
    """One company synced once into tmp_path's token store: (simulator, realm, config)."""
    sim = qbo_sim_factory(companies=1, records_per_company=50)
    config = tap_config(sim, tmp_path)
    assert _sync(config, caplog)[0].exit_code == 0
    return sim, sim.realm_ids[0], config


def _place(config: dict[str, t.Any], folder: Path, how: t.Callable[[str, Path], object]) -> Path:
    """Copy or move the config's token store into `folder` (created); its new path."""
    folder.mkdir()
    target = folder / "qbo_tokens.json"
    how(config["token_store"], target)
    return target


def test_a_token_store_copied_elsewhere_is_refused_before_spending_and_names_both_places(
    qbo_sim_factory: t.Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sim, realm, config = _synced_once(qbo_sim_factory, tmp_path, caplog)
    original = config["token_store"]
    copy = _place(config, tmp_path / "staging", shutil.copy)

    copied, errors = _sync({**config, "token_store": str(copy)}, caplog)

    assert copied.exit_code == 1
    assert len(errors) == 1, errors
    assert f"realm {realm}: token store {copy} is a copy or a move of {original}" in errors[0], errors[0]
    assert "one company needs one token store" in errors[0]
    assert "token_store_adopt" in errors[0]
    assert sim.current_refresh_token(realm) not in caplog.text
    assert _token_statuses(sim) == [200], "nothing was spent from the copy"
    assert _sync(config, caplog)[0].exit_code == 0, "the original still works"


def test_a_token_store_moved_on_purpose_is_adopted_once_with_token_store_adopt(
    qbo_sim_factory: t.Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sim, _, config = _synced_once(qbo_sim_factory, tmp_path, caplog)
    moved = _place(config, tmp_path / "moved", shutil.move)

    adopted, errors = _sync({**config, "token_store": str(moved), "token_store_adopt": True}, caplog)
    assert adopted.exit_code == 0, errors
    assert f"token store {moved} was created at {config['token_store']}" in caplog.text
    later, errors = _sync({**config, "token_store": str(moved)}, caplog)  # the setting is gone again

    assert later.exit_code == 0, errors
    assert _token_statuses(sim) == [200, 200, 200]


def test_invalid_grant_for_a_stored_token_names_its_last_refresh_and_host(
    qbo_sim_factory: t.Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _, realm, config = _synced_once(qbo_sim_factory, tmp_path, caplog)
    rotated_at = json.loads(Path(config["token_store"]).read_text())["realms"][realm]["updated_at"]
    # A copy of the store spends the token first (another environment, adopted against the advice).
    copy = _place(config, tmp_path / "other", shutil.copy)
    assert _sync({**config, "token_store": str(copy), "token_store_adopt": True}, caplog)[0].exit_code == 0

    stale, errors = _sync(config, caplog)

    assert stale.exit_code == 1
    assert len(errors) == 1, errors
    assert "invalid_grant" in errors[0]
    assert f"last rotated at {rotated_at} on host {socket.gethostname()}" in errors[0], errors[0]
    assert "another copy of this token store" in errors[0]
    assert "tap-quickbooks-cdc-connect" in errors[0]


def test_an_s3_token_store_copied_to_another_key_is_refused(
    s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_access_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", s3_server.region)
    original = f"s3://{s3_server.bucket}/mistakes/prod.json"
    store = S3TokenStore(original, s3_server.endpoint_url)
    with store.transaction("111") as slot:
        slot.put(StoredToken("rt-1", "fp"))
    s3_server.client().copy_object(
        Bucket=s3_server.bucket,
        Key="mistakes/staging.json",
        CopySource={"Bucket": s3_server.bucket, "Key": "mistakes/prod.json"},
    )
    copy = f"s3://{s3_server.bucket}/mistakes/staging.json"

    with (
        pytest.raises(TokenStoreError) as refused,
        S3TokenStore(copy, s3_server.endpoint_url).transaction("111"),
    ):
        pass

    assert f"Token store {copy} is a copy or a move of {original}" in str(refused.value)
    with S3TokenStore(copy, s3_server.endpoint_url, adopt=True).transaction("111") as slot:
        assert slot.get() == StoredToken("rt-1", "fp")
    with S3TokenStore(copy, s3_server.endpoint_url).transaction("111") as slot:
        assert slot.get() == StoredToken("rt-1", "fp"), "adopted: its own location now"


# ---------------------------------------------------------------------------------- seedless companies


def test_a_company_without_a_seed_spends_the_stored_token(
    qbo_sim_factory: t.Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=50)
    realm = sim.realm_ids[0]
    assert (
        _sync(_one_company(sim, tmp_path, realm, sim.current_refresh_token(realm)), caplog)[0].exit_code == 0
    )

    for seed in (None, ""):  # the seed dropped from config, or left empty
        result, errors = _sync(_one_company(sim, tmp_path, realm, seed), caplog)
        assert result.exit_code == 0, errors
        assert f"realm {realm}: access token refreshed from token store" in caplog.text
    assert _token_statuses(sim) == [200, 200, 200]


def test_a_company_without_a_seed_or_a_stored_token_is_one_line_naming_connect(
    qbo_sim_factory: t.Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=50)
    realm = sim.realm_ids[0]

    result, errors = _sync(_one_company(sim, tmp_path, realm, None), caplog)

    assert result.exit_code == 1
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"realm {realm}: no refresh token"), errors[0]
    assert "`tap-quickbooks-cdc-connect`" in errors[0]
    assert "`meltano invoke tap-quickbooks-cdc:connect`" in errors[0]
    assert _token_statuses(sim) == []
    assert sim.data_requests() == 0


def test_connect_refuses_a_copied_token_store_and_adopts_a_moved_one_with_token_store_adopt(
    qbo_sim: QboSimulator, tmp_path: Path
) -> None:
    first, second = qbo_sim.realm_ids
    config = app_config(qbo_sim, tmp_path)
    assert connect_by_browser(qbo_sim, config, tmp_path, first)[0].exit_code == 0
    moved = {**config, "token_store": str(_place(config, tmp_path / "moved", shutil.move))}

    refused, _ = connect_by_browser(qbo_sim, moved, tmp_path, second)
    adopted, _ = connect_by_browser(qbo_sim, {**moved, "token_store_adopt": True}, tmp_path, second)

    assert refused.exit_code == 1
    assert f"is a copy or a move of {config['token_store']}" in refused.errors()[0], refused.stderr
    assert "The code is spent" not in refused.stderr
    assert len(_token_statuses(qbo_sim)) == 2, "the refused run checked the store before spending its code"
    assert adopted.exit_code == 0, adopted.stderr
    store = FileTokenStore(moved["token_store"])
    assert store.read(first) is not None
    assert store.read(second) is not None
