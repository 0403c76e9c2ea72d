"""Fixtures that start real services on 127.0.0.1: PostgreSQL, OpenSSH sshd (SFTP), moto S3 server.

Each service is a plain context manager (``run_postgres_server``, ``run_sshd_server``, ``run_s3_server``) so
benchmarks can start one outside pytest, and a session-scoped fixture of the same name without ``run_``
(``postgres_server``, ``sshd_server``, ``s3_server``). A missing binary fails loudly (``make system-deps``).
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import pytest

HOST = "127.0.0.1"
START_ATTEMPTS = 3


class ServiceUnavailableError(RuntimeError):
    """A real service the tests need is missing or did not start."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until(ready: Callable[[], bool], what: str, timeout: float, alive: Callable[[], bool]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise ServiceUnavailableError(f"{what} exited during startup")
        if ready():
            return
        time.sleep(0.05)
    raise ServiceUnavailableError(f"{what} did not become ready within {timeout:.0f}s")


def _start_on_free_port(
    what: str,
    start: Callable[[int], subprocess.Popen[bytes]],
    ready: Callable[[int], bool],
    timeout: float = 15,
) -> tuple[subprocess.Popen[bytes], int]:
    """Start a server on a free port; try another port when it exits early (someone took the port first)."""
    for attempt in range(1, START_ATTEMPTS + 1):
        port = free_port()
        proc = start(port)
        try:
            _wait_until(partial(ready, port), what, timeout, partial(_running, proc))
            return proc, port
        except ServiceUnavailableError:
            _stop(proc)
            if attempt == START_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _running(proc: subprocess.Popen[bytes]) -> bool:
    return proc.poll() is None


def _ssh_banner(port: int) -> bool:
    """An SSH server answers on ``port`` (not merely: something listens there)."""
    try:
        with socket.create_connection((HOST, port), timeout=0.5) as sock:
            sock.settimeout(1)
            return sock.recv(4).startswith(b"SSH-")
    except OSError:
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def require(path: Path | None, what: str) -> Path:
    if path is None or not path.exists():
        raise ServiceUnavailableError(f"{what} not found; install it with `make system-deps`")
    return path


# --------------------------------------------------------------------------------------------- PostgreSQL


@dataclass(frozen=True)
class PostgresServer:
    uri: str  # postgresql://USER:PASSWORD@127.0.0.1:PORT/DB (a password-authenticated role)
    host: str
    port: int
    user: str
    password: str
    dbname: str
    socket_dir: Path  # superuser ``postgres`` connects here without a password (tests' admin access)
    pg_ctl: tuple[str, ...] = ()  # ``pg_ctl -D data`` (as the postgres user when run as root)
    start_options: str = ""  # the server options it was started with (same port again on restart)
    log: Path | None = None

    @property
    def admin_conninfo(self) -> str:
        return f"host={self.socket_dir} port={self.port} user=postgres dbname={self.dbname}"

    def crash(self) -> None:
        """Stop the server as a crash would (``pg_ctl -m immediate stop``): no shutdown checkpoint, and WAL
        still in shared memory (not yet written by the WAL writer) is lost."""
        subprocess.run([*self.pg_ctl, "-m", "immediate", "stop"], check=True, capture_output=True)

    def start(self) -> None:
        """Start the stopped server again on the same port (crash recovery replays the written WAL)."""
        command = [*self.pg_ctl, "-l", str(self.log), "-o", self.start_options, "-w", "-t", "60", "start"]
        subprocess.run(command, check=True, capture_output=True)


def _postgres_bin_dir() -> Path:
    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(p) for p in path.parent.name.split(".") if p.isdigit())

    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version)
    found = [c for c in candidates if (c / "initdb").exists()]
    return require(found[-1] if found else None, "PostgreSQL server binaries (/usr/lib/postgresql/*/bin)")


#: Fast and not crash-safe: nothing is flushed to disk, commits return before their WAL is written.
FAST_POSTGRES_OPTIONS = "-c fsync=off -c full_page_writes=off -c synchronous_commit=off"
#: Crash-safe storage, but asynchronous commits by default (a session must ask for synchronous ones), and a
#: WAL writer that writes them only every 10 s: a crash soon after an async commit reliably loses it.
DURABLE_POSTGRES_OPTIONS = (
    "-c fsync=on -c full_page_writes=on -c synchronous_commit=off -c wal_writer_delay=10s"
)


@contextmanager
def run_postgres_server(
    user: str = "looker",
    password: str = "pg-secret-Pa55",  # noqa: S107 - a throwaway test cluster
    dbname: str = "warehouse",
    *,
    durable: bool = False,
) -> Iterator[PostgresServer]:
    """A throwaway cluster: the local socket trusts ``postgres``; TCP needs the role's password.

    ``durable``: ``DURABLE_POSTGRES_OPTIONS`` instead of ``FAST_POSTGRES_OPTIONS``, for crash tests."""
    import psycopg
    from psycopg import sql

    bin_dir = _postgres_bin_dir()
    tmp = Path(tempfile.mkdtemp(prefix="pgtest-"))
    data, log = tmp / "data", tmp / "postgres.log"
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres", "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    pg_ctl = [*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data)]
    started = False
    try:
        subprocess.run(
            [
                *as_postgres,
                *(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8", "--locale=C"),
                *("--no-sync", "--auth-local=trust", "--auth-host=scram-sha-256"),
            ],
            check=True,
            capture_output=True,
        )
        for attempt in range(1, START_ATTEMPTS + 1):  # another process may take the free port first
            port = free_port()
            durability = DURABLE_POSTGRES_OPTIONS if durable else FAST_POSTGRES_OPTIONS
            options = (
                f"-p {port} -k {tmp} -c listen_addresses={HOST} {durability}"
                " -c max_connections=50 -c shared_buffers=64MB"
            )
            run = subprocess.run(
                [*pg_ctl, "-l", str(log), "-o", options, "-w", "-t", "30", "start"], check=False
            )
            if run.returncode == 0:
                break
            if attempt == START_ATTEMPTS:
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise ServiceUnavailableError(f"PostgreSQL did not start: {tail}")
        started = True
        admin = f"host={tmp} port={port} user=postgres dbname=postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(user), password))
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(dbname), sql.Identifier(user))
            )
        yield PostgresServer(
            uri=f"postgresql://{user}:{password}@{HOST}:{port}/{dbname}",
            host=HOST,
            port=port,
            user=user,
            password=password,
            dbname=dbname,
            socket_dir=tmp,
            pg_ctl=tuple(pg_ctl),
            start_options=options,
            log=log,
        )
    finally:
        if started:
            subprocess.run([*pg_ctl, "-m", "immediate", "stop"], check=False, capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------------------------- sshd (SFTP)


@dataclass(frozen=True)
class SshdServer:
    host: str
    port: int
    user: str  # the current user; key authentication only (password logins are offered but never succeed)
    private_key_path: Path
    known_hosts_path: Path
    root: Path  # an empty folder the tests may use as the SFTP stage root (absolute path on the server)
    host_public_key: str  # "ssh-ed25519 AAAA..."

    def uri(self, path: Path | str | None = None) -> str:
        return f"sftp://{self.user}@{self.host}:{self.port}{path or self.root}"


def _keygen(path: Path) -> None:
    keygen = require(Path(shutil.which("ssh-keygen") or "/usr/bin/ssh-keygen"), "ssh-keygen (openssh-client)")
    subprocess.run([str(keygen), "-q", "-t", "ed25519", "-N", "", "-C", "tests", "-f", str(path)], check=True)


@contextmanager
def run_sshd_server() -> Iterator[SshdServer]:
    sshd = require(Path("/usr/sbin/sshd"), "OpenSSH server /usr/sbin/sshd")
    tmp = Path(tempfile.mkdtemp(prefix="sshdtest-"))
    (tmp / "root").mkdir()
    host_key, client_key = tmp / "host_key", tmp / "client_key"
    _keygen(host_key)
    _keygen(client_key)
    authorized = tmp / "authorized_keys"
    shutil.copy(client_key.with_suffix(".pub"), authorized)
    authorized.chmod(0o600)
    log = (tmp / "sshd.log").open("wb")
    with_privsep = Path("/run/sshd")
    with contextlib.suppress(PermissionError):  # only root needs the privilege-separation directory
        with_privsep.mkdir(parents=True, exist_ok=True)

    def start(port: int) -> subprocess.Popen[bytes]:
        config = tmp / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    f"ListenAddress {HOST}",
                    f"Port {port}",
                    f"HostKey {host_key}",
                    f"AuthorizedKeysFile {authorized}",
                    f"PidFile {tmp / 'sshd.pid'}",
                    "StrictModes no",
                    "UsePAM no",
                    "PasswordAuthentication yes",
                    "PubkeyAuthentication yes",
                    "KbdInteractiveAuthentication no",
                    "PermitRootLogin prohibit-password",
                    "Subsystem sftp internal-sftp",
                    "MaxStartups 100:30:200",
                    "LogLevel ERROR",
                    "",
                ]
            )
        )
        return subprocess.Popen(
            [str(sshd), "-D", "-e", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT
        )

    try:
        proc, port = _start_on_free_port("sshd", start, _ssh_banner)
    except ServiceUnavailableError as exc:
        log.close()
        detail = (tmp / "sshd.log").read_text(errors="replace")[-2000:]
        shutil.rmtree(tmp, ignore_errors=True)
        raise ServiceUnavailableError(f"{exc}: {detail}") from None
    try:
        public = " ".join(host_key.with_suffix(".pub").read_text().split()[:2])
        known_hosts = tmp / "known_hosts"
        known_hosts.write_text(f"{HOST} {public}\n[{HOST}]:{port} {public}\n")
        yield SshdServer(
            host=HOST,
            port=port,
            user=getpass.getuser(),
            private_key_path=client_key,
            known_hosts_path=known_hosts,
            root=tmp / "root",
            host_public_key=public,
        )
    finally:
        _stop(proc)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------------------------- S3 (moto)


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    bucket: str
    access_key_id: str
    secret_access_key: str
    region: str

    def config(self) -> dict[str, Any]:
        """Target settings that point S3Storage at this server."""
        return {
            "s3_endpoint_url": self.endpoint_url,
            "s3_region": self.region,
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
        }

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
        )


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - a fixed http://127.0.0.1 URL
            return True
    except OSError:
        return False


@contextmanager
def run_s3_server(bucket: str = "stage-bucket", *, enforce_auth: bool = False) -> Iterator[S3Server]:
    """moto's S3 API with one bucket. ``enforce_auth``: requests are signed and checked against moto's IAM
    (the server's credentials belong to an IAM user allowed ``s3:*``), so denials can be tested."""
    moto = require(Path(sys.executable).parent / "moto_server", "moto_server (pip install 'moto[server]')")
    # With auth enforced, only the setup requests below (user, policy, key, bucket) go unchecked.
    env = {k: v for k, v in os.environ.items() if k != "INITIAL_NO_AUTH_ACTION_COUNT"}
    if enforce_auth:
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = "4"
    with tempfile.TemporaryFile() as log:

        def start(port: int) -> subprocess.Popen[bytes]:
            command = [str(moto), "-H", HOST, "-p", str(port)]
            return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)

        proc, port = _start_on_free_port(
            "moto_server", start, lambda port: _http_ok(f"http://{HOST}:{port}/moto-api/"), timeout=30
        )
        try:
            server = S3Server(
                endpoint_url=f"http://{HOST}:{port}",
                bucket=bucket,
                access_key_id="AKIATESTSTAGEKEY0001",
                secret_access_key="s3-secret-DoNotLog/abc123",
                region="us-east-1",
            )
            if enforce_auth:
                server = _with_iam_user(server)
            server.client().create_bucket(Bucket=bucket)
            yield server
        finally:
            _stop(proc)


def _with_iam_user(server: S3Server) -> S3Server:
    import boto3

    iam = boto3.client(
        "iam",
        endpoint_url=server.endpoint_url,
        region_name=server.region,
        aws_access_key_id=server.access_key_id,
        aws_secret_access_key=server.secret_access_key,
    )
    iam.create_user(UserName="stage-writer")
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    iam.put_user_policy(UserName="stage-writer", PolicyName="stage", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="stage-writer")["AccessKey"]
    return replace(server, access_key_id=key["AccessKeyId"], secret_access_key=key["SecretAccessKey"])


# --------------------------------------------------------------------------------------------- silent peer


@contextmanager
def run_silent_server() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts TCP connections (kernel backlog) but never answers: the worst case
    for timeouts, unlike a closed port which fails at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        sock.listen(64)
        yield int(sock.getsockname()[1])


# --------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    with run_postgres_server() as server:
        yield server


@pytest.fixture(scope="session")
def durable_postgres_server() -> Iterator[PostgresServer]:
    """A second cluster that survives crashes (``DURABLE_POSTGRES_OPTIONS``), started only by the tests that
    use it; they may ``crash()`` and ``start()`` it."""
    with run_postgres_server(durable=True) as server:
        yield server


@pytest.fixture(scope="session")
def sshd_server() -> Iterator[SshdServer]:
    with run_sshd_server() as server:
        yield server


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    with run_s3_server() as server:
        yield server


@pytest.fixture
def silent_port() -> Iterator[int]:
    with run_silent_server() as port:
        yield port
