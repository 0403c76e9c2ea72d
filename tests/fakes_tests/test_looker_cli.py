"""The Looker simulator's standalone command line server."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import requests


def test_cli_prints_credentials_that_log_in_and_stops_on_sigint(tmp_path: Path) -> None:
    credentials_file = tmp_path / "looker.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.looker",
            "--port",
            "0",
            "--token-lifetime",
            "120",
            "--credentials-file",
            str(credentials_file),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        printed = json.loads(process.stdout.readline())
        assert json.loads(credentials_file.read_text()) == printed
        login = requests.post(
            f"{printed['base_url']}/api/4.0/login",
            data={"client_id": printed["client_id"], "client_secret": printed["client_secret"]},
            timeout=10,
        ).json()
        groups = requests.get(
            f"{printed['base_url']}/api/4.0/datagroups",
            headers={"Authorization": f"Bearer {login['access_token']}"},
            timeout=10,
        )
        assert login["expires_in"] == 120
        assert [g["name"] for g in groups.json()] == ["qbo_etl"]
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
    assert process.returncode == 0
