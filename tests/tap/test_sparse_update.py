"""SyncToken-safe sparse updates against the simulator's write endpoint (stale SyncToken: Fault 5010)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest

from tap_quickbooks_cdc.errors import ApiError
from tap_quickbooks_cdc.realm import RealmRegistry
from tap_quickbooks_cdc.settings import parse_settings
from tap_quickbooks_cdc.sparse_update import UpdateConflictError, read_record, sparse_update
from tests.tap.harness import tap_config

if t.TYPE_CHECKING:
    from tap_quickbooks_cdc.api import QboClient
    from tests.fakes.qbo import QboSimulator

UPDATE_EXECUTABLE = str(Path(sys.executable).with_name("tap-quickbooks-cdc-update"))


def client_for(sim: QboSimulator, tmp_path: Path) -> QboClient:
    settings = parse_settings(tap_config(sim, tmp_path))
    registry = RealmRegistry(settings, logging.getLogger("test"), lambda _realm: {})
    return registry.session(sim.realm_ids[0]).client


def writes(sim: QboSimulator) -> int:
    return sum(1 for r in sim.requests if r.kind == "write")


def test_the_update_succeeds_with_the_fresh_synctoken_after_another_writer_changed_another_field(
    qbo_sim: QboSimulator, tmp_path: Path
) -> None:
    realm, client = qbo_sim.realm_ids[0], client_for(qbo_sim, tmp_path)
    read = read_record(client, "Invoice", "3")
    qbo_sim.update(realm, "Invoice", "3", {"DocNumber": "OTHER-7"})  # makes the read SyncToken stale
    outcome = sparse_update(client, "Invoice", "3", {"PrivateNote": "ours"}, read=read)
    assert outcome.attempts == 2
    assert outcome.read_sync_token == read["SyncToken"]
    now = qbo_sim.get(realm, "Invoice", "3")
    assert now is not None
    assert (now["PrivateNote"], now["DocNumber"]) == ("ours", "OTHER-7")  # neither write is lost
    assert int(now["SyncToken"]) == int(read["SyncToken"]) + 2


def test_the_update_refuses_when_the_other_writer_changed_the_same_field(
    qbo_sim: QboSimulator, tmp_path: Path
) -> None:
    realm, client = qbo_sim.realm_ids[0], client_for(qbo_sim, tmp_path)
    read = read_record(client, "Invoice", "4")
    qbo_sim.update(realm, "Invoice", "4", {"PrivateNote": "theirs"})
    qbo_sim.reset_requests()
    with pytest.raises(
        UpdateConflictError, match=r"another writer changed PrivateNote after it was read"
    ) as err:
        sparse_update(client, "Invoice", "4", {"PrivateNote": "ours"}, read=read)
    assert "theirs" not in str(err.value)
    assert "ours" not in str(err.value)
    now = qbo_sim.get(realm, "Invoice", "4")
    assert now is not None
    assert now["PrivateNote"] == "theirs"
    assert writes(qbo_sim) == 1  # the stale attempt only


def test_the_retries_are_bounded_when_every_write_is_stale(qbo_sim: QboSimulator, tmp_path: Path) -> None:
    realm, client = qbo_sim.realm_ids[0], client_for(qbo_sim, tmp_path)
    post = client.post
    racing = iter(range(100))

    def post_after_a_rival(path: str, document: dict[str, t.Any]) -> dict[str, t.Any]:
        qbo_sim.update(realm, "Invoice", "5", {"DocNumber": f"RIVAL-{next(racing)}"})
        return post(path, document)

    client.post = post_after_a_rival  # type: ignore[method-assign]
    qbo_sim.reset_requests()
    with pytest.raises(ApiError, match="before each of 3 writes"):
        sparse_update(client, "Invoice", "5", {"PrivateNote": "ours"})
    assert writes(qbo_sim) == 3


def test_the_operator_command_prints_one_line_without_the_values(
    qbo_sim: QboSimulator, tmp_path: Path
) -> None:
    realm = qbo_sim.realm_ids[0]
    config = tmp_path / "config.json"
    config.write_text(json.dumps(tap_config(qbo_sim, tmp_path)))
    base = [UPDATE_EXECUTABLE, "--config", str(config), "--realm", realm, "--entity", "invoice", "--id", "6"]
    done = subprocess.run(
        [*base, "--set", "PrivateNote=Sekr3t note", "--set-json", 'DocNumber="D-6"'],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Invoice 6 in realm {realm}: set DocNumber, PrivateNote (SyncToken ")
    assert "Sekr3t" not in done.stdout + done.stderr
    now = qbo_sim.get(realm, "Invoice", "6")
    assert now is not None
    assert (now["PrivateNote"], now["DocNumber"]) == ("Sekr3t note", "D-6")

    bad = subprocess.run(
        [*base, "--set", "PrivateNote"], capture_output=True, text=True, timeout=60, check=False
    )
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == ["Error: --set PrivateNote: write it as FIELD=VALUE."]
