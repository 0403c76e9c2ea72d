"""The target CLI against unreachable or misconfigured PostgreSQL, S3 and SFTP: exit 1 with one line on
stderr naming the problem and the fix, never a secret, never a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.services import PostgresServer, S3Server, SshdServer, free_port
from tests.target.singer_streams import invoice_messages, run_target

SECRET = "Cli-S3cret-Value"


def fails_cleanly(config: dict[str, Any], workdir: Path, *secrets: str) -> str:
    run = run_target(config, invoice_messages(3, state_every=3), workdir=workdir, timeout=60)
    assert run.returncode == 1
    assert run.states == []  # nothing claimed as done
    assert "Traceback" not in run.stderr
    for secret in secrets:
        assert secret not in run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("target-looker-stage: error: ")]
    assert len(errors) == 1, run.stderr[-2000:]
    return errors[0]


def test_a_wrong_postgres_password(postgres_server: PostgresServer, tmp_path: Path) -> None:
    uri = postgres_server.uri.replace(postgres_server.password, SECRET)
    error = fails_cleanly({"stage_uri": "", "warehouse_uri": uri}, tmp_path, SECRET)
    assert f"postgresql://looker:***@127.0.0.1:{postgres_server.port}/warehouse" in error
    assert "password authentication failed" in error


def test_an_unreachable_postgres(tmp_path: Path) -> None:
    uri = f"postgresql://looker:{SECRET}@127.0.0.1:{free_port()}/warehouse"
    error = fails_cleanly({"stage_uri": "", "warehouse_uri": uri}, tmp_path, SECRET)
    assert "cannot connect to PostgreSQL" in error
    assert "check the host, port" in error


def test_an_unreachable_s3_endpoint(s3_server: S3Server, tmp_path: Path) -> None:
    settings = s3_server.config() | {"s3_endpoint_url": f"http://127.0.0.1:{free_port()}"}
    config = {"stage_uri": f"s3://{s3_server.bucket}/x", "warehouse_uri": "", **settings}
    error = fails_cleanly(config, tmp_path, s3_server.secret_access_key)
    assert "cannot reach the S3 endpoint" in error


def test_an_unknown_sftp_host_key(sshd_server: SshdServer, tmp_path: Path) -> None:
    (tmp_path / "empty_known_hosts").write_text("")
    config = {
        "stage_uri": sshd_server.uri(sshd_server.root / "cli"),
        "warehouse_uri": "",
        "sftp_private_key_path": str(sshd_server.private_key_path),
        "sftp_known_hosts_path": str(tmp_path / "empty_known_hosts"),
    }
    error = fails_cleanly(config, tmp_path)
    assert "is not in" in error
    assert "sftp_skip_host_key_check" in error


@pytest.mark.parametrize("where", ["uri", "setting"])
def test_a_wrong_sftp_password(sshd_server: SshdServer, tmp_path: Path, where: str) -> None:
    folder = sshd_server.root / "cli"
    config: dict[str, Any] = {"warehouse_uri": "", "sftp_known_hosts_path": str(sshd_server.known_hosts_path)}
    if where == "uri":
        config["stage_uri"] = f"sftp://{sshd_server.user}:{SECRET}@127.0.0.1:{sshd_server.port}{folder}"
    else:
        config |= {"stage_uri": sshd_server.uri(folder), "sftp_password": SECRET}
    error = fails_cleanly(config, tmp_path, SECRET)
    assert "authentication failed" in error
