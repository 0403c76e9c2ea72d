"""`tap-quickbooks-cdc-connect` end to end against the simulator: consent, callback (listened or
pasted), code exchange, the token in the store, and the next sync spending it."""

from __future__ import annotations

import json
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import typing as t
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tap_quickbooks_cdc.connect import read_callback
from tap_quickbooks_cdc.token_store import open_token_store
from tests.fakes.qbo import QboSimulator
from tests.services import S3Server
from tests.tap.harness import catalog_selecting, run_subprocess, tap_config

CONNECT_EXECUTABLE = str(Path(sys.executable).with_name("tap-quickbooks-cdc-connect"))
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def app_config(sim: QboSimulator, tmp_path: Path, **overrides: t.Any) -> dict[str, t.Any]:
    """The tap's settings before any company is connected: the app and the token store only."""
    config = tap_config(sim, tmp_path, **overrides)
    if "companies" not in overrides:
        del config["companies"]
    return config


@dataclass
class Finished:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def errors(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("Error:")]


class ConnectRun:
    """One `tap-quickbooks-cdc-connect` process; its stderr is read on a thread so the URL can be awaited."""

    def __init__(
        self, command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> None:
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=cwd,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: list[str] = []
        self._stdout: list[str] = []
        self._readers = [
            threading.Thread(target=self._pump_stderr, daemon=True),
            threading.Thread(target=self._pump_stdout, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _pump_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._stderr.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def _pump_stdout(self) -> None:
        assert self.process.stdout is not None
        self._stdout.extend(self.process.stdout)

    def authorize_url(self, timeout: float = 60) -> str:
        while True:
            line = self._lines.get(timeout=timeout)
            if line is None:
                raise AssertionError(f"connect ended before printing the address: {''.join(self._stderr)}")
            if found := re.search(r"https?://\S+/connect/oauth2\?\S+", line):  # Meltano prefixes log lines
                return found.group(0)

    def finish(self, pasted: str | None = None, timeout: float = 60) -> Finished:
        assert self.process.stdin is not None
        try:
            if pasted is not None:
                self.process.stdin.write(pasted)
            self.process.stdin.close()
        except BrokenPipeError:  # it ended without reading stdin
            pass
        exit_code = self.process.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=10)
        return Finished(exit_code, "".join(self._stdout), "".join(self._stderr))


def start(sim: QboSimulator, config_path: Path, *args: str) -> ConnectRun:
    """connect against the simulator's consent screen, browser not opened."""
    authorize = f"{sim.base_url}/connect/oauth2"
    command = [CONNECT_EXECUTABLE, "--config", str(config_path), "--authorize-url", authorize, "--no-browser"]
    return ConnectRun([*command, "--timeout", "30", *args])


def write_config(config: dict[str, t.Any], tmp_path: Path) -> Path:
    path = tmp_path / "connect-config.json"
    path.write_text(json.dumps(config))
    return path


def click_connect(url: str, realm: str, follow: bool) -> requests.Response:
    """The user picks `realm` on the simulator's consent screen and clicks Connect."""
    return requests.get(f"{url}&sim_realm={realm}", allow_redirects=follow, timeout=30)


def code_of(location: str) -> str:
    return parse_qs(urlsplit(location).query)["code"][0]


def connect_by_browser(
    sim: QboSimulator, config: dict[str, t.Any], tmp_path: Path, realm: str
) -> tuple[Finished, str]:
    """Listen mode: the browser follows Intuit's redirect to the loopback callback. Returns the code too."""
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    run = start(sim, write_config(config, tmp_path), "--redirect-uri", redirect)
    landed = click_connect(run.authorize_url(), realm, follow=True)
    assert landed.status_code == 200, landed.text
    return run.finish(), code_of(landed.history[0].headers["Location"])


def stored_token(config: dict[str, t.Any], realm: str) -> str | None:
    entry = open_token_store(config["token_store"]).read(realm)
    return entry.refresh_token if entry else None


def test_the_authorize_url_asks_intuit_for_a_code_with_the_accounting_scope_and_a_random_state(
    qbo_sim: QboSimulator, tmp_path: Path
) -> None:
    config_path = write_config(app_config(qbo_sim, tmp_path), tmp_path)
    states = []
    for _ in range(2):
        run = ConnectRun([CONNECT_EXECUTABLE, "--config", str(config_path), "--paste"])
        url = run.authorize_url()
        run.finish(pasted="\n")
        query = parse_qs(urlsplit(url).query)
        assert url.startswith("https://appcenter.intuit.com/connect/oauth2?")
        assert query["client_id"] == [qbo_sim.client_id]
        assert query["response_type"] == ["code"]
        assert query["scope"] == ["com.intuit.quickbooks.accounting"]
        assert query["redirect_uri"] == ["http://localhost:8040/callback"]
        states.append(query["state"][0])
    assert states[0] != states[1]
    assert len(states[0]) >= 32


def test_connecting_by_browser_stores_the_first_refresh_token_and_prints_the_companies_line(
    qbo_sim: QboSimulator, tmp_path: Path
) -> None:
    realm = qbo_sim.realm_ids[1]
    config = app_config(qbo_sim, tmp_path)

    done, _ = connect_by_browser(qbo_sim, config, tmp_path, realm)

    assert done.exit_code == 0, done.stderr
    assert stored_token(config, realm) == qbo_sim.current_refresh_token(realm)
    assert stored_token(config, qbo_sim.realm_ids[0]) is None
    name = qbo_sim.stores[realm].company.name
    assert json.loads(done.stdout) == {"realm_id": realm, "name": name}
    assert f"Connected realm {realm} ({name})" in done.stderr


def test_the_next_sync_needs_no_refresh_token_in_config(qbo_sim: QboSimulator, tmp_path: Path) -> None:
    realm = qbo_sim.realm_ids[0]
    config = app_config(qbo_sim, tmp_path)
    done, _ = connect_by_browser(qbo_sim, config, tmp_path, realm)
    assert done.exit_code == 0, done.stderr

    synced = run_subprocess(
        {**config, "companies": [json.loads(done.stdout)]},
        tmp_path,
        catalog=catalog_selecting(["terms"], tmp_path),
    )

    assert synced.exit_code == 0, synced.log[-2000:]
    assert synced.stream("terms")


def test_a_company_listed_with_its_old_seed_syncs_from_the_stored_token_after_connect(
    qbo_sim: QboSimulator, tmp_path: Path
) -> None:
    realm = qbo_sim.realm_ids[0]
    config = tap_config(qbo_sim, tmp_path)  # both companies listed with their (old) seeds
    old_seed = qbo_sim.current_refresh_token(realm)
    done, _ = connect_by_browser(qbo_sim, config, tmp_path, realm)
    assert done.exit_code == 0, done.stderr
    assert "stale now" in done.stderr

    synced = run_subprocess(config, tmp_path, catalog=catalog_selecting(["terms"], tmp_path))

    assert synced.exit_code == 0, synced.log[-2000:]
    assert {record["realm_id"] for record in synced.stream("terms")} == set(qbo_sim.realm_ids)
    assert f"realm {realm}: access token refreshed from token store" in synced.log
    assert stored_token(config, realm) == qbo_sim.current_refresh_token(realm) != old_seed


def test_a_wrong_state_is_refused_with_one_line_and_nothing_is_stored(
    qbo_sim: QboSimulator, tmp_path: Path
) -> None:
    realm = qbo_sim.realm_ids[0]
    config = app_config(qbo_sim, tmp_path)
    port = free_port()
    run = start(
        qbo_sim, write_config(config, tmp_path), "--redirect-uri", f"http://127.0.0.1:{port}/callback"
    )
    location = click_connect(run.authorize_url(), realm, follow=False).headers["Location"]
    forged = location.replace("state=", "state=forged")

    assert requests.get(forged, timeout=30).status_code == 200
    done = run.finish()

    assert done.exit_code == 1
    assert done.errors() == [
        "Error: The callback's state does not match this run (an old or forged link): nothing was stored; "
        "run connect again and use the address it prints."
    ]
    assert not Path(config["token_store"]).exists()
    assert "Traceback" not in done.stderr


def test_neither_the_refresh_token_nor_the_code_nor_the_client_secret_is_printed(
    qbo_sim: QboSimulator, tmp_path: Path
) -> None:
    realm = qbo_sim.realm_ids[0]
    config = app_config(qbo_sim, tmp_path)

    done, code = connect_by_browser(qbo_sim, config, tmp_path, realm)

    assert done.exit_code == 0, done.stderr
    token = stored_token(config, realm)
    assert token
    for secret in (token, code, qbo_sim.client_secret):
        assert secret not in done.output


@pytest.mark.parametrize("flags", [["--paste"], []], ids=["paste", "https-redirect-implies-paste"])
def test_paste_mode_takes_the_address_the_browser_landed_on(
    qbo_sim: QboSimulator, tmp_path: Path, flags: list[str]
) -> None:
    realm = qbo_sim.realm_ids[1]
    config = app_config(qbo_sim, tmp_path)
    redirect = (
        "https://connect.example.com/qbo/callback"  # nothing listens there: the user copies the address
    )
    run = start(qbo_sim, write_config(config, tmp_path), *flags, "--redirect-uri", redirect)
    location = click_connect(run.authorize_url(), realm, follow=False).headers["Location"]
    assert location.startswith(redirect + "?")

    done = run.finish(pasted=location + "\n")

    assert done.exit_code == 0, done.stderr
    assert json.loads(done.stdout)["realm_id"] == realm
    token = stored_token(config, realm)
    assert token == qbo_sim.current_refresh_token(realm)
    assert code_of(location) not in done.output
    assert token not in done.output


def test_a_reused_code_is_refused_with_one_line_and_nothing_is_stored(
    qbo_sim: QboSimulator, tmp_path: Path
) -> None:
    realm = qbo_sim.realm_ids[0]
    config = app_config(qbo_sim, tmp_path)
    redirect = "http://localhost:8040/callback"
    run = start(qbo_sim, write_config(config, tmp_path), "--paste", "--redirect-uri", redirect)
    location = click_connect(run.authorize_url(), realm, follow=False).headers["Location"]
    spent = requests.post(
        qbo_sim.token_url,
        auth=(qbo_sim.client_id, qbo_sim.client_secret),
        data={"grant_type": "authorization_code", "code": code_of(location), "redirect_uri": redirect},
        timeout=30,
    )
    assert spent.status_code == 200

    done = run.finish(pasted=location + "\n")

    assert done.exit_code == 1
    assert done.errors() == [
        "Error: Intuit refused the authorization code (invalid_grant: already used, older than 10 minutes, "
        "or issued for another redirect URI): nothing was stored; run connect again."
    ]
    assert not Path(config["token_store"]).exists()


def test_the_token_goes_straight_into_an_s3_token_store(
    qbo_sim: QboSimulator, s3_server: S3Server, tmp_path: Path
) -> None:
    realm = qbo_sim.realm_ids[0]
    location = f"s3://{s3_server.bucket}/connect/qbo_tokens.json"
    config = app_config(
        qbo_sim, tmp_path, token_store=location, token_store_s3_endpoint_url=s3_server.endpoint_url
    )
    aws = {
        "AWS_ACCESS_KEY_ID": s3_server.access_key_id,
        "AWS_SECRET_ACCESS_KEY": s3_server.secret_access_key,
        "AWS_DEFAULT_REGION": s3_server.region,
    }
    authorize = f"{qbo_sim.base_url}/connect/oauth2"
    command = [
        CONNECT_EXECUTABLE,
        "--config",
        str(write_config(config, tmp_path)),
        "--authorize-url",
        authorize,
    ]
    run = ConnectRun([*command, "--paste"], env={**os.environ, **aws})
    pasted = click_connect(run.authorize_url(), realm, follow=False).headers["Location"]

    done = run.finish(pasted=pasted + "\n")

    assert done.exit_code == 0, done.stderr
    stored = s3_server.client().get_object(Bucket=s3_server.bucket, Key="connect/qbo_tokens.json")
    entry = json.loads(stored["Body"].read())["realms"][realm]
    assert entry["refresh_token"] == qbo_sim.current_refresh_token(realm)


def test_a_busy_callback_port_is_one_line_before_any_address_is_shown(
    qbo_sim: QboSimulator, tmp_path: Path
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = start(
            qbo_sim,
            write_config(app_config(qbo_sim, tmp_path), tmp_path),
            "--redirect-uri",
            f"http://localhost:{port}/callback",
        )
        done = run.finish()

    assert done.exit_code == 1
    assert len(done.errors()) == 1
    assert f"Cannot listen on 127.0.0.1:{port}" in done.errors()[0]
    assert "/connect/oauth2?" not in done.stderr


def test_cancel_on_the_consent_screen_is_one_line(qbo_sim: QboSimulator, tmp_path: Path) -> None:
    run = start(qbo_sim, write_config(app_config(qbo_sim, tmp_path), tmp_path), "--paste")
    denied = requests.get(f"{run.authorize_url()}&sim_decision=deny", allow_redirects=False, timeout=30)

    done = run.finish(pasted=denied.headers["Location"] + "\n")

    assert done.exit_code == 1
    assert len(done.errors()) == 1
    assert "Intuit answered 'access_denied' instead of a code" in done.errors()[0]


def test_missing_app_credentials_are_one_line_before_any_address_is_shown(tmp_path: Path) -> None:
    config_path = write_config({"client_secret": "s3cr3t-value"}, tmp_path)

    done = ConnectRun([CONNECT_EXECUTABLE, "--config", str(config_path)]).finish()

    assert done.exit_code == 1
    assert done.errors() == ["Error: Missing setting 'client_id': set it to your Intuit app's client ID."]
    assert "s3cr3t-value" not in done.output


@pytest.mark.parametrize(
    "address",
    [
        "http://localhost:8040/callback?code=c&state=%C3%A9t%C3%A9&realmId=1",  # non-ASCII state
        "http://localhost:8040/callback?code=c&realmId=1",  # no state at all
        "code=c&state=other&realmId=1",  # a bare query string
    ],
)
def test_any_state_but_this_run_s_is_refused(address: str) -> None:
    with pytest.raises(Exception, match="state does not match this run"):
        read_callback(address, "expected-state")


def test_meltano_invoke_connect_runs_the_command_with_meltano_s_settings(
    qbo_sim: QboSimulator, tmp_path: Path
) -> None:
    plugin_bin = ROOT / ".meltano" / "extractors" / "tap-quickbooks-cdc" / "venv" / "bin"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TAP_", "TARGET_", "MELTANO_"))},
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "TAP_QUICKBOOKS_CDC_CLIENT_ID": qbo_sim.client_id,
        "TAP_QUICKBOOKS_CDC_CLIENT_SECRET": qbo_sim.client_secret,
        "TAP_QUICKBOOKS_CDC_API_BASE_URL": qbo_sim.base_url,
        "TAP_QUICKBOOKS_CDC_TOKEN_URL": qbo_sim.token_url,
        "TAP_QUICKBOOKS_CDC_TOKEN_STORE": str(tmp_path / "meltano_tokens.json"),
    }
    if not (plugin_bin / "tap-quickbooks-cdc-connect").exists():  # a venv from before the script existed
        installed = subprocess.run(
            [str(BIN / "meltano"), "install", "--plugin-type", "extractor", "tap-quickbooks-cdc"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert installed.returncode == 0, installed.stderr[-2000:]
    realm = qbo_sim.realm_ids[0]
    command = [str(BIN / "meltano"), "invoke", "tap-quickbooks-cdc:connect", "--paste", "--no-browser"]
    run = ConnectRun([*command, "--authorize-url", f"{qbo_sim.base_url}/connect/oauth2"], env=env, cwd=ROOT)
    location = click_connect(run.authorize_url(), realm, follow=False).headers["Location"]

    done = run.finish(pasted=location + "\n", timeout=120)

    assert done.exit_code == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1])["realm_id"] == realm
    assert open_token_store(env["TAP_QUICKBOOKS_CDC_TOKEN_STORE"]).read(realm) is not None
    assert qbo_sim.client_secret not in done.output
