"""The real-service fixtures start what they promise, on 127.0.0.1 only."""

from __future__ import annotations

from pathlib import Path

import paramiko
import psycopg
import pytest

from tests import services
from tests.services import (
    PostgresServer,
    S3Server,
    ServiceUnavailableError,
    SshdServer,
    require,
    run_silent_server,
)


def test_postgres_accepts_the_role_password_over_tcp(postgres_server: PostgresServer) -> None:
    assert postgres_server.uri.startswith(f"postgresql://looker:{postgres_server.password}@127.0.0.1:")
    with psycopg.connect(postgres_server.uri, connect_timeout=5) as conn:
        row = conn.execute("SELECT current_user, current_database(), inet_server_addr()::text").fetchone()
    assert row == ("looker", "warehouse", "127.0.0.1/32")


def test_postgres_rejects_a_wrong_password(postgres_server: PostgresServer) -> None:
    wrong = postgres_server.uri.replace(postgres_server.password, "not-the-password")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong, connect_timeout=5)


def test_sshd_serves_sftp_with_key_auth_and_a_pinned_host_key(sshd_server: SshdServer) -> None:
    client = paramiko.SSHClient()
    client.load_host_keys(str(sshd_server.known_hosts_path))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(
        sshd_server.host,
        port=sshd_server.port,
        username=sshd_server.user,
        key_filename=str(sshd_server.private_key_path),
        allow_agent=False,
        look_for_keys=False,
        timeout=5,
    )
    try:
        sftp = client.open_sftp()
        with sftp.open(f"{sshd_server.root}/hello.txt", "wb") as remote:
            remote.write(b"hi")
        assert (sshd_server.root / "hello.txt").read_bytes() == b"hi"
        sftp.remove(f"{sshd_server.root}/hello.txt")
    finally:
        client.close()


def test_s3_server_has_the_bucket(s3_server: S3Server) -> None:
    client = s3_server.client()
    assert s3_server.endpoint_url.startswith("http://127.0.0.1:")
    client.put_object(Bucket=s3_server.bucket, Key="probe/x", Body=b"1")
    listed = client.list_objects_v2(Bucket=s3_server.bucket, Prefix="probe/")
    assert [o["Key"] for o in listed["Contents"]] == ["probe/x"]
    client.delete_object(Bucket=s3_server.bucket, Key="probe/x")


def test_a_missing_binary_says_how_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(ServiceUnavailableError, match=r"thing not found; install it with `make system-deps`"):
        require(tmp_path / "no-such-binary", "thing")


def test_a_service_moves_to_another_port_when_its_port_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    with run_silent_server() as taken:
        ports = iter([taken])
        real_free_port = services.free_port
        monkeypatch.setattr(services, "free_port", lambda: next(ports, None) or real_free_port())
        with services.run_sshd_server() as sshd:
            assert sshd.port != taken
            assert sshd.known_hosts_path.read_text().count(f"[127.0.0.1]:{sshd.port} ") == 1
