"""Secrets (passwords, keys, URIs with credentials) never reach stdout or stderr, even at DEBUG level."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.services import free_port
from tests.target.singer_streams import invoice_messages, run_target

SECRETS = {
    "aws_access_key_id": "AKIA-SECRET-KEY-ID-0001",
    "aws_secret_access_key": "aws-SECRET-access-key-0002",
    "sftp_password": "sftp-SECRET-password-0003",
}
DEBUG = {"TARGET_LOOKER_STAGE_LOGLEVEL": "DEBUG"}


def assert_no_secret(text: str, *secrets: str) -> None:
    for secret in (*SECRETS.values(), *secrets):
        assert secret not in text


def test_successful_run_at_debug_level(config: dict[str, Any], tmp_path: Path) -> None:
    run = run_target({**config, **SECRETS}, invoice_messages(50, state_every=10), workdir=tmp_path, env=DEBUG)
    assert run.returncode == 0, run.stderr[-2000:]
    assert_no_secret(run.stdout + run.stderr)


@pytest.mark.parametrize(
    ("setting", "uri", "secret"),
    [
        ("warehouse_uri", "postgresql://loader:pg-SECRET-0004@127.0.0.1:{port}/warehouse", "pg-SECRET-0004"),
        ("stage_uri", "sftp://loader:sftp-SECRET-0005@127.0.0.1:{port}/stage", "sftp-SECRET-0005"),
    ],
)
def test_unreachable_destination_errors_hide_credentials(
    config: dict[str, Any], tmp_path: Path, setting: str, uri: str, secret: str
) -> None:
    settings = {**config, **SECRETS, setting: uri.format(port=free_port()), "sftp_skip_host_key_check": True}
    run = run_target(settings, invoice_messages(5, state_every=5), workdir=tmp_path, env=DEBUG)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert [line for line in run.stderr.splitlines() if line.startswith("target-looker-stage: error:")]
    assert_no_secret(run.stdout + run.stderr, secret)
