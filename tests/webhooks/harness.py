"""Start the real receiver process (`tap-quickbooks-cdc-webhooks serve`) for tests and benchmarks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import typing as t
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from tap_quickbooks_cdc.webhooks.inbox import StoredEvent, open_inbox
from tests.services import HOST, free_port

RECEIVER_EXECUTABLE = str(Path(sys.executable).with_name("tap-quickbooks-cdc-webhooks"))
VERIFIER_TOKEN = "vt-Sekr3t-verifier-4f1c"
CLIENT_SECRET = "cs-Sekr3t-client-77aa"
REFRESH_TOKEN = "rt-Sekr3t-refresh-09bd"
REALMS = ("9130350001", "9130350002")
START_ATTEMPTS = 3
SECRETS = (VERIFIER_TOKEN, CLIENT_SECRET, REFRESH_TOKEN)


def receiver_config(inbox: str, **extra: t.Any) -> dict[str, t.Any]:
    """The tap's settings with the webhook ones; the companies are REALMS."""
    return {
        "client_id": "client-id-for-tests",
        "client_secret": CLIENT_SECRET,
        "companies": [{"realm_id": realm, "refresh_token": REFRESH_TOKEN} for realm in REALMS],
        "webhook_verifier_token": VERIFIER_TOKEN,
        "webhook_inbox": inbox,
        **extra,
    }


@dataclass
class Receiver:
    """A running receiver process; its stdout and stderr go to files (read them with `output`)."""

    proc: subprocess.Popen[bytes]
    port: int
    inbox: str
    config_path: Path
    log_dir: Path

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base_url}/webhooks/quickbooks"

    def output(self) -> str:
        return "".join(
            (self.log_dir / name).read_text(errors="replace") for name in ("stdout.log", "stderr.log")
        )

    def log_lines(self) -> list[dict[str, t.Any]]:
        lines = (self.log_dir / "stderr.log").read_text(errors="replace").splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=timeout)


def stored(inbox: str, realms: t.Iterable[str] = REALMS) -> list[StoredEvent]:
    """What the inbox holds for `realms` (opened like the tap will, from another process)."""
    box = open_inbox(inbox)
    try:
        return box.pending(realms)
    finally:
        box.close()


def _ready(receiver: Receiver, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if receiver.proc.poll() is not None:
            return False
        try:
            if requests.get(f"{receiver.base_url}/healthz", timeout=1).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.05)
    return False


def start_receiver(
    config: dict[str, t.Any],
    work: Path,
    *extra_args: str,
    timeout: float = 20,
    from_environment: bool = False,
) -> Receiver:
    """Write `config` (or, `from_environment`, export it as `TAP_QUICKBOOKS_CDC_*` variables and pass
    `--config ENV`, as Meltano does), start the console script on a free port, wait for /healthz."""
    config_path = work / "tap_config.json"
    config_path.write_text(json.dumps(config))
    env = dict(os.environ)
    if from_environment:
        for key, value in config.items():
            env[f"TAP_QUICKBOOKS_CDC_{key.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    source = "ENV" if from_environment else str(config_path)
    for attempt in range(1, START_ATTEMPTS + 1):
        port = free_port()
        log_dir = Path(tempfile.mkdtemp(prefix="receiver-", dir=work))
        command = [RECEIVER_EXECUTABLE, "serve", "--config", source, "--host", HOST, "--port", str(port)]
        with (log_dir / "stdout.log").open("wb") as out, (log_dir / "stderr.log").open("wb") as err:
            proc = subprocess.Popen([*command, *extra_args], stdout=out, stderr=err, env=env)
        receiver = Receiver(proc, port, str(config["webhook_inbox"]), config_path, log_dir)
        if _ready(receiver, timeout):
            return receiver
        receiver.stop(signal.SIGKILL)
        if attempt == START_ATTEMPTS:
            raise RuntimeError(f"the receiver did not start: {receiver.output()[-2000:]}")
    raise AssertionError("unreachable")


@contextmanager
def running_receiver(config: dict[str, t.Any], work: Path, *extra_args: str) -> t.Iterator[Receiver]:
    receiver = start_receiver(config, work, *extra_args)
    try:
        yield receiver
    finally:
        if receiver.proc.poll() is None:
            receiver.stop(signal.SIGKILL)
