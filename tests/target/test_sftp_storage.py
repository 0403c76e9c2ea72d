"""SftpStorage against a real OpenSSH sshd: host-key pinning, temporary names, and secret-free errors."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from target_looker_stage.errors import ConfigError, StageError
from target_looker_stage.settings import TargetSettings
from target_looker_stage.storage.sftp import SftpStorage
from tests.services import SshdServer, free_port


@pytest.fixture
def folder(sshd_server: SshdServer) -> Path:
    return sshd_server.root / f"stage-{uuid.uuid4().hex[:8]}"


def settings(sshd: SshdServer, **extra: Any) -> dict[str, Any]:
    return {
        "sftp_private_key_path": str(sshd.private_key_path),
        "sftp_known_hosts_path": str(sshd.known_hosts_path),
        **extra,
    }


def assert_one_line_without(message: str, *secrets: str) -> None:
    assert "\n" not in message
    for secret in secrets:
        assert secret not in message


def test_files_land_in_hive_folders_on_the_server(
    sshd_server: SshdServer, folder: Path, tmp_path: Path
) -> None:
    local = tmp_path / "x.parquet"
    local.write_bytes(b"PAR1")
    stage = SftpStorage(sshd_server.uri(folder), TargetSettings.from_config(settings(sshd_server)))
    stage.put_file(local, "stream=invoices/realm_id=9/x.parquet")
    stage.close()
    assert (folder / "stream=invoices" / "realm_id=9" / "x.parquet").read_bytes() == b"PAR1"
    assert [p.name for p in (folder / "stream=invoices" / "realm_id=9").iterdir()] == [
        "x.parquet"
    ]  # no leftovers


def test_listing_never_shows_temporary_uploads(sshd_server: SshdServer, folder: Path, tmp_path: Path) -> None:
    partial = folder / "stream=a" / ".x.parquet.0123abcd.tmp"
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"half a file")
    (folder / "stream=a" / "y.parquet").write_bytes(b"whole")
    stage = SftpStorage(sshd_server.uri(folder), TargetSettings.from_config(settings(sshd_server)))
    assert stage.list_keys() == ["stream=a/y.parquet"]


def test_a_failed_upload_leaves_no_temporary_file(
    sshd_server: SshdServer, folder: Path, tmp_path: Path
) -> None:
    (folder / "stream=a" / "x.parquet").mkdir(parents=True)  # the rename onto a directory fails
    local = tmp_path / "x.parquet"
    local.write_bytes(b"PAR1")
    stage = SftpStorage(sshd_server.uri(folder), TargetSettings.from_config(settings(sshd_server)))
    with pytest.raises(StageError, match=r"cannot upload stream=a/x\.parquet") as raised:
        stage.put_file(local, "stream=a/x.parquet")
    assert_one_line_without(str(raised.value))
    assert sorted(p.name for p in (folder / "stream=a").iterdir()) == ["x.parquet"]


def test_an_unknown_host_key_is_rejected_with_the_fix(
    sshd_server: SshdServer, folder: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    stage = SftpStorage(
        sshd_server.uri(folder),
        TargetSettings.from_config(settings(sshd_server, sftp_known_hosts_path=str(empty))),
    )
    with pytest.raises(StageError) as raised:
        stage.check()
    message = str(raised.value)
    assert_one_line_without(message)
    assert f"host key of [127.0.0.1]:{sshd_server.port} is not in {empty}" in message
    assert f"ssh-keyscan -p {sshd_server.port} 127.0.0.1" in message
    assert "sftp_skip_host_key_check" in message
    assert not folder.exists()


def test_the_default_known_hosts_is_the_users_own(
    sshd_server: SshdServer, folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.ssh/known_hosts there
    stage = SftpStorage(
        sshd_server.uri(folder),
        TargetSettings.from_config({"sftp_private_key_path": str(sshd_server.private_key_path)}),
    )
    with pytest.raises(StageError, match=r"is not in .*/\.ssh/known_hosts"):
        stage.check()
    (tmp_path / ".ssh").mkdir()
    (tmp_path / ".ssh" / "known_hosts").write_text(sshd_server.known_hosts_path.read_text())
    stage.check()


def test_the_explicit_opt_out_accepts_an_unknown_host_key(
    sshd_server: SshdServer, folder: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    opted_out = settings(sshd_server, sftp_known_hosts_path=str(empty), sftp_skip_host_key_check=True)
    stage = SftpStorage(sshd_server.uri(folder), TargetSettings.from_config(opted_out))
    stage.check()
    assert folder.is_dir()


def test_a_changed_host_key_is_rejected(sshd_server: SshdServer, folder: Path, tmp_path: Path) -> None:
    other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
    forged = tmp_path / "known_hosts"
    forged.write_text(f"[127.0.0.1]:{sshd_server.port} {other}\n")
    stage = SftpStorage(
        sshd_server.uri(folder),
        TargetSettings.from_config(settings(sshd_server, sftp_known_hosts_path=str(forged))),
    )
    with pytest.raises(StageError, match=r"differs from .*man-in-the-middle"):
        stage.check()


@pytest.mark.parametrize("where", ["uri", "setting"])
def test_a_wrong_password_fails_in_one_line_without_echoing_it(
    sshd_server: SshdServer, folder: Path, where: str
) -> None:
    password = "Sftp-S3cret-Pw"
    user = sshd_server.user
    if where == "uri":
        uri = f"sftp://{user}:{password}@127.0.0.1:{sshd_server.port}{folder}"
        config = {"sftp_known_hosts_path": str(sshd_server.known_hosts_path)}
    else:
        uri = sshd_server.uri(folder)
        config = {"sftp_known_hosts_path": str(sshd_server.known_hosts_path), "sftp_password": password}
    stage = SftpStorage(uri, TargetSettings.from_config(config))
    assert password not in stage.display_uri
    with pytest.raises(StageError, match=f"authentication failed for user {user}") as raised:
        stage.check()
    assert_one_line_without(str(raised.value), password)


def test_an_unreachable_server_fails_fast_in_one_line(sshd_server: SshdServer, folder: Path) -> None:
    closed = free_port()
    stage = SftpStorage(f"sftp://u:Pw-123@127.0.0.1:{closed}/stage", TargetSettings.from_config({}))
    started = time.monotonic()
    with pytest.raises(StageError, match=rf"\[127\.0\.0\.1\]:{closed} is unreachable") as raised:
        stage.check()
    assert time.monotonic() - started < 15
    assert_one_line_without(str(raised.value), "Pw-123")
    assert stage.display_uri == f"sftp://u@127.0.0.1:{closed}/stage"


def test_a_uri_without_user_or_credentials_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="sftp://user@host"):
        SftpStorage("sftp://127.0.0.1/stage", TargetSettings.from_config({"sftp_password": "x"}))
    with pytest.raises(ConfigError, match="sftp_private_key_path or sftp_password"):
        SftpStorage("sftp://u@127.0.0.1/stage", TargetSettings.from_config({}))


@pytest.mark.parametrize("value", [False, "false", "0", "", None])
def test_only_an_explicit_true_skips_the_host_key_check(
    sshd_server: SshdServer, folder: Path, tmp_path: Path, value: object
) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    config = settings(sshd_server, sftp_known_hosts_path=str(empty), sftp_skip_host_key_check=value)
    with pytest.raises(StageError, match="is not in"):
        SftpStorage(sshd_server.uri(folder), TargetSettings.from_config(config)).check()


def test_after_close_the_next_call_reconnects(sshd_server: SshdServer, folder: Path, tmp_path: Path) -> None:
    local = tmp_path / "x.parquet"
    local.write_bytes(b"PAR1")
    stage = SftpStorage(sshd_server.uri(folder), TargetSettings.from_config(settings(sshd_server)))
    stage.put_file(local, "a/x.parquet")
    stage.close()
    stage.put_file(local, "a/y.parquet")
    assert stage.list_keys() == ["a/x.parquet", "a/y.parquet"]
    stage.close()


def test_folders_removed_between_uploads_are_created_again(
    sshd_server: SshdServer, folder: Path, tmp_path: Path
) -> None:
    local = tmp_path / "x.parquet"
    local.write_bytes(b"PAR1")
    stage = SftpStorage(sshd_server.uri(folder), TargetSettings.from_config(settings(sshd_server)))
    stage.put_file(local, "stream=a/realm_id=1/x.parquet")
    shutil.rmtree(folder)  # e.g. an operator cleaned the stage while the target was running
    stage.put_file(local, "stream=a/realm_id=1/y.parquet")
    assert stage.list_keys() == ["stream=a/realm_id=1/y.parquet"]
    stage.close()


def test_a_silent_server_fails_in_under_15_seconds(sshd_server: SshdServer, silent_port: int) -> None:
    stage = SftpStorage(
        f"sftp://u@127.0.0.1:{silent_port}/stage", TargetSettings.from_config(settings(sshd_server))
    )
    started = time.monotonic()
    with pytest.raises(StageError, match=rf"\[127\.0\.0\.1\]:{silent_port} is unreachable") as raised:
        stage.check()
    assert time.monotonic() - started < 15
    assert "\n" not in str(raised.value)


def test_a_hashed_known_hosts_file_is_understood(
    sshd_server: SshdServer, folder: Path, tmp_path: Path
) -> None:
    hashed = tmp_path / "known_hosts"
    hashed.write_text(sshd_server.known_hosts_path.read_text())
    subprocess.run(["ssh-keygen", "-H", "-f", str(hashed)], check=True, capture_output=True)
    assert "127.0.0.1" not in hashed.read_text()  # as with HashKnownHosts yes (Debian's default)
    SftpStorage(
        sshd_server.uri(folder),
        TargetSettings.from_config(settings(sshd_server, sftp_known_hosts_path=str(hashed))),
    ).check()
