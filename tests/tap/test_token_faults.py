"""A token store that fails around a refresh never loses the rotated refresh token, and says so in one line.

Intuit retires the spent token the moment it answers a refresh, so these tests break the store right
after the token endpoint answered (a disk that fills, EIO, S3 refusing PutObject) and check that the
next run syncs without `invalid_grant`; and that stores which are unusable from the start (full or
read-only disk, malformed S3 object) end the run with one clean line before any token is spent.
"""

from __future__ import annotations

import errno
import json
import multiprocessing
import os
import re
import stat
import subprocess
import tempfile
import time
import typing as t
from pathlib import Path

import pytest

from tap_quickbooks_cdc.auth import RealmAuth
from tap_quickbooks_cdc.errors import TokenStoreError
from tap_quickbooks_cdc.token_store import FileTokenStore, S3TokenStore, StoredToken
from tests.services import run_s3_server
from tests.tap.harness import TAP_EXECUTABLE, catalog_selecting, run_in_process, run_subprocess, tap_config

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.fakes.qbo import QboSimulator
    from tests.services import S3Server

STREAMS = ["terms"]


@pytest.fixture(autouse=True)
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The fallback rescue folder ($XDG_STATE_HOME), here and in tap subprocesses."""
    home = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(home))
    return home


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs (tests run as root); skipped where mounting is not permitted."""
    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True, check=False)


def _fill(disk: Path) -> Path:
    """Write a file until the disk is full; delete it to free the space again."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as handle:
        for chunk in (b"\0" * 65536, b"\0" * 512):
            with pytest.raises(OSError, match="No space left on device"):  # noqa: PT012 - write until full
                while True:
                    handle.write(chunk)
    return filler


class FailingDisk:
    """`os.fsync` raising EIO for files under `folder` while armed (at most `times` times)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, folder: Path, times: int | None = None) -> None:
        self.folder = str(folder.resolve())
        self.times = times
        self.armed = False
        self.failures = 0
        real_fsync = os.fsync

        def fsync(fd: int) -> None:
            due = self.armed and (self.times is None or self.failures < self.times)
            if due and os.readlink(f"/proc/self/fd/{fd}").startswith(self.folder):
                self.failures += 1
                raise OSError(errno.EIO, os.strerror(errno.EIO))
            real_fsync(fd)

        monkeypatch.setattr(os, "fsync", fsync)


def _after_the_token_endpoint_answered(monkeypatch: pytest.MonkeyPatch, action: t.Callable[[], None]) -> None:
    """Run `action` when Intuit (the simulator) first rotated a token, before the tap stores it."""
    real = RealmAuth._request_tokens
    done: list[bool] = []

    def request_tokens(self: RealmAuth, refresh_token: str, source: str) -> dict[str, t.Any]:
        body = real(self, refresh_token, source)
        if not done:
            done.append(True)
            action()
        return body

    monkeypatch.setattr(RealmAuth, "_request_tokens", request_tokens)


def _error_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if "ERROR" in line]


def _assert_one_clean_line(log: str, *needles: str, secrets: t.Iterable[str] = ()) -> str:
    """Exactly one ERROR line has every needle (besides the run's "1 of 1 realm failed" closing line)."""
    assert "Traceback" not in log, log[-3000:]
    errors = [line for line in _error_lines(log) if not re.search(r" of \d+ realms? failed", line)]
    assert len(errors) == 1, "\n".join(_error_lines(log)) or log[-3000:]
    for needle in needles:
        assert needle in errors[0], errors[0]
    for secret in secrets:
        assert secret not in log
    return errors[0]


def _token_statuses(sim: QboSimulator) -> list[int]:
    return [r.status for r in sim.requests if r.kind == "token"]


# ------------------------------------------------------------------------------------------ file store


def test_a_write_that_fails_once_after_a_refresh_is_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, state_home: Path
) -> None:
    store = FileTokenStore(tmp_path / "secrets" / "tokens.json")
    disk = FailingDisk(monkeypatch, tmp_path / "secrets", times=1)
    with store.transaction("111") as slot:
        disk.armed = True  # the token was spent; the first write hits EIO
        slot.put(StoredToken("rt-new", "fp"))
    assert disk.failures == 1
    assert store.read("111") == StoredToken("rt-new", "fp")
    assert not list(tmp_path.rglob("*.rescue")), "no rescue needed"
    assert not state_home.exists()
    assert not list((tmp_path / "secrets").glob(".tokens.json.*")), "no temp file left behind"


def test_a_write_that_keeps_failing_puts_the_token_where_the_next_read_finds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, state_home: Path
) -> None:
    store = FileTokenStore(tmp_path / "secrets" / "tokens.json")
    with store.transaction("222") as slot:
        slot.put(StoredToken("rt-other", "fp"))
    disk = FailingDisk(monkeypatch, tmp_path / "secrets")
    with store.transaction("111") as slot:
        disk.armed = True  # the store's folder fails every fsync (the rescue next to it too)
        with pytest.raises(TokenStoreError) as failure:
            slot.put(StoredToken("rt-rotated-secret", "fp"))
    message = str(failure.value)
    assert "rt-rotated-secret" not in message
    [rescue] = list(state_home.rglob("rescued-tokens-*.json"))
    assert f"saved to {rescue} (mode 0600)" in message
    assert "Input/output error" in message
    assert stat.S_IMODE(rescue.stat().st_mode) == 0o600

    disk.armed = False
    assert store.read("111") == StoredToken("rt-rotated-secret", "fp"), "reads merge the rescue in"
    assert store.read("222") == StoredToken("rt-other", "fp")
    with store.transaction("111") as slot:
        assert slot.get() == StoredToken("rt-rotated-secret", "fp")
        assert slot.rescued_from == str(rescue)
        slot.put(StoredToken("rt-next", "fp"))
    assert store.read("111") == StoredToken("rt-next", "fp")
    assert not rescue.exists(), "the store holds the newest token again: the rescue is dropped"


def test_the_next_write_puts_every_rescued_entry_back_into_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, state_home: Path
) -> None:
    store = FileTokenStore(tmp_path / "secrets" / "tokens.json")
    disk = FailingDisk(monkeypatch, tmp_path / "secrets")
    with store.transaction("111") as slot:
        disk.armed = True
        with pytest.raises(TokenStoreError, match="saved to"):
            slot.put(StoredToken("rt-111", "fp"))
    disk.armed = False
    with store.transaction("222") as slot:  # another realm's refresh writes the store ...
        slot.put(StoredToken("rt-222", "fp"))
    assert not list(state_home.rglob("rescued-tokens-*.json")), "... with realm 111's rescued entry in it"
    assert json.loads(store.path.read_text())["realms"]["111"]["refresh_token"] == "rt-111"
    assert store.read("222") == StoredToken("rt-222", "fp")


def test_an_io_error_after_the_token_endpoint_answered_does_not_strand_the_company(
    qbo_sim_factory: t.Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, state_home: Path
) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=100)
    realm = sim.realm_ids[0]
    config = tap_config(sim, tmp_path)
    disk = FailingDisk(monkeypatch, Path(config["token_store"]).parent)
    _after_the_token_endpoint_answered(monkeypatch, lambda: setattr(disk, "armed", True))
    first = run_in_process(config, streams=STREAMS)
    assert first.exit_code == 1, "the realm fails: its token is only in the rescue file"
    [rescue] = list(state_home.rglob("rescued-tokens-*.json"))
    assert sim.current_refresh_token(realm) in rescue.read_text()

    monkeypatch.undo()  # the disk works again
    monkeypatch.setenv("XDG_STATE_HOME", str(state_home))
    second = run_in_process(config, streams=STREAMS)
    assert second.exit_code == 0
    assert _token_statuses(sim) == [200, 200], "no invalid_grant: the rescued token was spent"
    stored = FileTokenStore(config["token_store"]).read(realm)
    assert stored is not None
    assert stored.refresh_token == sim.current_refresh_token(realm)
    assert not rescue.exists()


def _start_tap(config: dict[str, t.Any], tmp_path: Path, catalog: Path) -> subprocess.Popen[str]:
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    return subprocess.Popen(
        [TAP_EXECUTABLE, "--config", str(config_path), "--catalog", str(catalog)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(path: Path, tap: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert tap.poll() is None, "the tap ended before locking the token store"
        assert time.monotonic() < deadline, "the tap never locked the token store"
        time.sleep(0.01)


def _on_disk(
    qbo_sim_factory: t.Any, tmp_path: Path, disk: Path
) -> tuple[QboSimulator, str, Path, dict[str, t.Any], Path]:
    """A one-company simulator and a tap config whose token store is on `disk`: (sim, realm, store, config,
    catalog)."""
    sim = qbo_sim_factory(companies=1, records_per_company=100)
    store_path = disk / "qbo_tokens.json"
    config = tap_config(sim, tmp_path, token_store=str(store_path))
    return sim, sim.realm_ids[0], store_path, config, catalog_selecting(STREAMS, tmp_path)


def test_a_disk_that_fills_while_the_token_endpoint_answers_keeps_the_rotated_token(
    qbo_sim_factory: t.Any, tmp_path: Path, small_disk: Path
) -> None:
    sim, realm, store_path, config, catalog = _on_disk(qbo_sim_factory, tmp_path, small_disk)
    sim.inject("slow", path_contains="/oauth2/", delay=2.5)
    tap = _start_tap(config, tmp_path, catalog)
    _wait_for(Path(f"{store_path}.lock"), tap)  # the refresh has begun: the token request is in flight
    time.sleep(0.8)  # past the lock and the store's write check: the request is out
    filler = _fill(small_disk)  # ... and the disk fills before Intuit's answer arrives
    _, log = tap.communicate(timeout=60)
    assert tap.returncode == 0, log[-3000:]
    assert "Traceback" not in log
    stored = FileTokenStore(store_path).read(realm)
    assert stored is not None
    assert stored.refresh_token == sim.current_refresh_token(realm), "written into the reserved space"

    filler.unlink()
    after = run_subprocess(config, tmp_path, catalog=catalog)
    assert after.exit_code == 0, after.log[-3000:]
    assert _token_statuses(sim) == [200, 200], "no invalid_grant on the next run"


def test_a_token_store_on_a_full_disk_is_one_line_and_spends_nothing(
    qbo_sim_factory: t.Any, tmp_path: Path, small_disk: Path
) -> None:
    sim, realm, store_path, config, catalog = _on_disk(qbo_sim_factory, tmp_path, small_disk)
    seed = sim.current_refresh_token(realm)
    filler = _fill(small_disk)
    full = run_subprocess(config, tmp_path, catalog=catalog)
    assert full.exit_code == 1
    _assert_one_clean_line(
        full.log, f"realm {realm}", str(store_path), "No space left on device", "free space", secrets=[seed]
    )
    assert _token_statuses(sim) == [], "the token was not spent"

    filler.unlink()
    assert run_subprocess(config, tmp_path, catalog=catalog).exit_code == 0


def test_a_token_store_on_a_read_only_disk_is_one_line(
    qbo_sim_factory: t.Any, tmp_path: Path, small_disk: Path
) -> None:
    sim, realm, store_path, config, catalog = _on_disk(qbo_sim_factory, tmp_path, small_disk)
    assert run_subprocess(config, tmp_path, catalog=catalog).exit_code == 0
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    stuck = run_subprocess(config, tmp_path, catalog=catalog)
    assert stuck.exit_code == 1
    _assert_one_clean_line(
        stuck.log,
        f"realm {realm}",
        str(store_path),
        "Read-only file system",
        "writable path",
        secrets=[sim.current_refresh_token(realm)],
    )
    assert _token_statuses(sim) == [200], "the token was not spent"


# ------------------------------------------------------------------------------------------- S3 store


@pytest.fixture(scope="module")
def s3_with_auth() -> Iterator[S3Server]:
    """A moto server that enforces IAM and bucket policies, so PutObject can be denied."""
    with run_s3_server(enforce_auth=True) as server:
        yield server


def _aws_env(monkeypatch: pytest.MonkeyPatch, server: S3Server) -> S3Server:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", server.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", server.secret_access_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", server.region)
    return server


@pytest.fixture
def s3_env(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    """The suite's moto server, its credentials in the environment (this process and the tap's)."""
    return _aws_env(monkeypatch, s3_server)


@pytest.fixture
def s3_auth_env(s3_with_auth: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    return _aws_env(monkeypatch, s3_with_auth)


def _deny_put_object(server: S3Server, prefix: str) -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{server.bucket}/{prefix}*",
            }
        ],
    }
    server.client().put_bucket_policy(Bucket=server.bucket, Policy=json.dumps(policy))


def test_an_s3_store_refusing_the_write_after_a_refresh_does_not_strand_the_company(
    qbo_sim_factory: t.Any,
    s3_auth_env: S3Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    s3_with_auth, state_home = s3_auth_env, tmp_path / "state"
    sim = qbo_sim_factory(companies=1, records_per_company=100)
    realm = sim.realm_ids[0]
    location = f"s3://{s3_with_auth.bucket}/denied/qbo_tokens.json"
    config = tap_config(
        sim, tmp_path, token_store=location, token_store_s3_endpoint_url=s3_with_auth.endpoint_url
    )
    _after_the_token_endpoint_answered(monkeypatch, lambda: _deny_put_object(s3_with_auth, "denied/"))
    try:
        first = run_in_process(config, streams=STREAMS)
    finally:
        s3_with_auth.client().delete_bucket_policy(Bucket=s3_with_auth.bucket)
    assert first.exit_code == 1
    [rescue] = list(state_home.rglob("rescued-tokens-*.json"))
    said = [
        r.getMessage() for r in caplog.records if r.levelname == "ERROR" and str(rescue) in r.getMessage()
    ]
    assert len(said) == 1, "one ERROR line says where the token went"
    assert sim.current_refresh_token(realm) not in caplog.text

    second = run_in_process(config, streams=STREAMS)
    assert second.exit_code == 0
    assert _token_statuses(sim) == [200, 200], "no invalid_grant: the rescued token was spent"
    stored = S3TokenStore(location, s3_with_auth.endpoint_url).read(realm)
    assert stored is not None
    assert stored.refresh_token == sim.current_refresh_token(realm)
    assert not rescue.exists()


def _rotate_many(
    url: str, endpoint: str, env: dict[str, str], realm: str, *, rounds: int, lock_dir: str
) -> None:
    """One 'host' (its own lock folder) rotating one company's token `rounds` times."""
    os.environ.update(env)
    tempfile.tempdir = lock_dir
    store = S3TokenStore(url, endpoint)
    for number in range(1, rounds + 1):
        with store.transaction(realm) as slot:
            current = slot.get()
            expected = f"{realm}-rt-{number - 1}" if number > 1 else None
            assert (current.refresh_token if current else None) == expected, "a rotated token was dropped"
            slot.put(StoredToken(f"{realm}-rt-{number}", "fp"))


def test_two_hosts_rotating_different_companies_in_one_s3_store_keep_every_token(
    s3_server: S3Server, tmp_path: Path
) -> None:
    url = f"s3://{s3_server.bucket}/tap/two-hosts.json"
    env = {
        "AWS_ACCESS_KEY_ID": s3_server.access_key_id,
        "AWS_SECRET_ACCESS_KEY": s3_server.secret_access_key,
        "AWS_DEFAULT_REGION": s3_server.region,
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    context = multiprocessing.get_context("fork")
    hosts = []
    for realm in ("111", "222"):
        lock_dir = tmp_path / f"host-{realm}"
        lock_dir.mkdir()
        args = (url, s3_server.endpoint_url, env, realm)
        options = {"rounds": 12, "lock_dir": str(lock_dir)}
        hosts.append(context.Process(target=_rotate_many, args=args, kwargs=options))
    for host in hosts:
        host.start()
    for host in hosts:
        host.join(120)
        assert host.exitcode == 0
    store = S3TokenStore(url, s3_server.endpoint_url)
    os.environ.update(env)
    assert store.read("111") == StoredToken("111-rt-12", "fp")
    assert store.read("222") == StoredToken("222-rt-12", "fp")


@pytest.mark.parametrize(
    ("body", "problem"), [(b"not json at all", "is not valid JSON"), (b"[1, 2]", "unknown layout")]
)
def test_a_malformed_s3_token_store_is_one_line(
    qbo_sim_factory: t.Any, s3_env: S3Server, tmp_path: Path, body: bytes, problem: str
) -> None:
    s3_server = s3_env
    sim = qbo_sim_factory(companies=1, records_per_company=100)
    realm = sim.realm_ids[0]
    key = f"malformed/{tmp_path.name}.json"
    s3_server.client().put_object(Bucket=s3_server.bucket, Key=key, Body=body)
    location = f"s3://{s3_server.bucket}/{key}"
    config = tap_config(
        sim, tmp_path, token_store=location, token_store_s3_endpoint_url=s3_server.endpoint_url
    )
    done = run_subprocess(config, tmp_path, catalog=catalog_selecting(STREAMS, tmp_path))
    assert done.exit_code == 1
    _assert_one_clean_line(
        done.log,
        f"realm {realm}",
        location,
        problem,
        "restore it",
        secrets=[sim.current_refresh_token(realm)],
    )
    assert _token_statuses(sim) == []


def test_an_s3_token_store_whose_realms_are_not_an_object_is_a_clear_error(s3_env: S3Server) -> None:
    key = "malformed/realms-list.json"
    s3_env.client().put_object(Bucket=s3_env.bucket, Key=key, Body=b'{"version": 1, "realms": []}')
    with pytest.raises(TokenStoreError, match="unknown layout"):
        S3TokenStore(f"s3://{s3_env.bucket}/{key}", s3_env.endpoint_url).read("111")
