"""The stage on an SFTP server (paramiko): each file is uploaded under a hidden temporary name in the same
folder, flushed to the server's disk (``fsync@openssh.com``), then renamed over the final name with the
``posix-rename@openssh.com`` extension (atomic replace). Without the fsync a server crash after the rename
could leave an empty or partial file under the final name, while the STATE covering it was already relayed.
Files are created 0600 and folders 0700 (``base.FILE_MODE``/``FOLDER_MODE``; the server's umask can only
narrow them)."""

from __future__ import annotations

import contextlib
import logging
import socket
import stat
import uuid
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import unquote, urlsplit

import paramiko
from paramiko.sftp import CMD_EXTENDED
from typing_extensions import override

from target_looker_stage.errors import ConfigError, StageError
from target_looker_stage.storage.base import FILE_MODE, FOLDER_MODE

if TYPE_CHECKING:
    from target_looker_stage.settings import TargetSettings

LOGGER = logging.getLogger(__name__)
CONNECT_TIMEOUT_S = 10
UPLOAD_CHUNK = 32_768  # paramiko's own transfer size; writes are pipelined
KEEPALIVE_S = 30


class _UnknownHostKeyError(paramiko.SSHException):
    pass


class _RejectUnknownHost(paramiko.MissingHostKeyPolicy):
    @override
    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        raise _UnknownHostKeyError(hostname)


def _one_line(text: str) -> str:
    return " ".join(text.split())


class SftpStorage:
    """``sftp://user@host:port/absolute/path`` (``sftp://user@host/~/dir`` for a folder under the login home).

    Settings: ``sftp_private_key_path`` or ``sftp_password`` (a password in the URI also works and is never
    shown); ``sftp_known_hosts_path`` (unknown host keys are rejected) and the
    explicit opt-out ``sftp_skip_host_key_check``.
    """

    def __init__(self, uri: str, settings: TargetSettings) -> None:
        parts = urlsplit(uri)
        try:
            port = parts.port or 22
        except ValueError:
            port = -1
        if parts.scheme != "sftp" or not parts.hostname or not parts.username or port < 1:
            raise ConfigError("stage_uri must look like sftp://user@host:port/path; fix stage_uri")
        self.host, self.port, self.user = parts.hostname, port, unquote(parts.username)
        path = unquote(parts.path) or "/"
        if path.startswith("/~/") or path == "/~":
            self.root = path[len("/~/") :].rstrip("/") or "."  # relative to the login folder
        else:
            self.root = path.rstrip("/") or "/"
        self._password = settings.sftp_password or unquote(parts.password or "") or None
        key_path = settings.sftp_private_key_path
        self._key_path = str(Path(key_path).expanduser()) if key_path else None
        if self._password is None and self._key_path is None:
            raise ConfigError("SFTP stage needs sftp_private_key_path or sftp_password; set one of them")
        self._skip_host_key_check = settings.sftp_skip_host_key_check
        self._known_hosts = Path(settings.sftp_known_hosts_path).expanduser()
        shown_port = f":{self.port}" if self.port != 22 else ""
        self.display_uri = f"sftp://{self.user}@{self.host}{shown_port}{path}"
        self._ssh: paramiko.SSHClient | None = None
        self._sftp: paramiko.SFTPClient | None = None
        self._made_dirs: set[str] = set()
        self._fsync_supported = True

    # ----------------------------------------------------------------------------------------- connection

    def _fail(self, action: str, reason: str, fix: str) -> NoReturn:
        message = f"SFTP stage {self.display_uri}: cannot {action}: {reason}; {fix}"
        if self._password and len(self._password) >= 4:  # defence in depth; messages never include it
            message = message.replace(self._password, "***")
        raise StageError(_one_line(message)) from None

    def _connect(self) -> paramiko.SFTPClient:
        transport = self._ssh.get_transport() if self._ssh else None
        if self._sftp is not None and transport is not None and transport.is_active():
            return self._sftp
        self.close()
        client = paramiko.SSHClient()
        if self._skip_host_key_check:
            client.set_missing_host_key_policy(paramiko.AutoAddPolicy())  # noqa: S507 - explicit opt-out
        else:
            if self._known_hosts.is_file():
                client.load_host_keys(str(self._known_hosts))
            client.set_missing_host_key_policy(_RejectUnknownHost())
        host_entry = self.host if self.port == 22 else f"[{self.host}]:{self.port}"
        try:
            client.connect(
                self.host,
                port=self.port,
                username=self.user,
                password=self._password,
                key_filename=self._key_path,
                timeout=CONNECT_TIMEOUT_S,
                banner_timeout=CONNECT_TIMEOUT_S,
                auth_timeout=CONNECT_TIMEOUT_S,
                allow_agent=False,
                look_for_keys=False,
            )
            sftp = client.open_sftp()
        except _UnknownHostKeyError:
            client.close()
            self._fail(
                "connect",
                f"the host key of {host_entry} is not in {self._known_hosts}",
                f"add it (ssh-keyscan -p {self.port} {self.host} >> {self._known_hosts}, after checking "
                "the fingerprint), point sftp_known_hosts_path at a file that has it, or set "
                "sftp_skip_host_key_check",
            )
        except paramiko.BadHostKeyException:
            client.close()
            self._fail(
                "connect",
                f"the host key of {host_entry} differs from {self._known_hosts} (possible man-in-the-middle)",
                "verify the server's key and update the known_hosts entry",
            )
        except paramiko.AuthenticationException:
            client.close()
            self._fail(
                "log in",
                f"authentication failed for user {self.user}",
                "check the user, sftp_private_key_path (is its public key authorized?) or sftp_password",
            )
        except (OSError, paramiko.SSHException) as exc:
            client.close()
            reason = "timed out" if isinstance(exc, socket.timeout) else str(exc) or type(exc).__name__
            self._fail(
                "connect",
                f"{host_entry} is unreachable ({reason})",
                "check the host and port in stage_uri, that the SSH server runs and the firewall allows it",
            )
        transport = client.get_transport()
        if transport is not None:
            transport.set_keepalive(KEEPALIVE_S)  # idle NAT/firewall timeouts between batches
        self._ssh, self._sftp = client, sftp
        return sftp

    def _remote(self, key: str) -> str:
        parts = [p for p in key.split("/") if p]
        if not parts or any(p in (".", "..") for p in parts) or parts[-1].startswith("."):
            raise StageError(f"invalid stage key {key!r}; keys are relative paths like stream=x/file.parquet")
        return str(PurePosixPath(self.root, *parts))

    def _makedirs(self, sftp: paramiko.SFTPClient, directory: str) -> None:
        if directory in self._made_dirs or directory in {"/", "."}:
            return
        try:
            if stat.S_ISDIR(sftp.stat(directory).st_mode or 0):
                self._made_dirs.add(directory)
                return
        except FileNotFoundError:
            pass
        self._makedirs(sftp, str(PurePosixPath(directory).parent))
        try:
            sftp.mkdir(directory, mode=FOLDER_MODE)
        except OSError:
            if not stat.S_ISDIR(sftp.stat(directory).st_mode or 0):  # created concurrently is fine
                raise
        self._made_dirs.add(directory)

    # ----------------------------------------------------------------------------------------- protocol

    def check(self) -> None:
        sftp = self._connect()
        probe = f"{self.root}/.probe-{uuid.uuid4().hex}"
        try:
            self._makedirs(sftp, self.root)
            with sftp.open(probe, "wb") as handle:
                handle.write(b"")
            sftp.remove(probe)
        except OSError as exc:
            self._fail("write", exc.strerror or str(exc), "check that the user may write to that folder")

    def put_file(self, local_path: Path, key: str) -> None:
        final = self._remote(key)
        folder, name = str(PurePosixPath(final).parent), PurePosixPath(final).name
        for attempt in (1, 2):
            temporary = f"{folder}/.{name}.{uuid.uuid4().hex}.tmp"
            sftp = self._connect()
            try:
                self._makedirs(sftp, folder)
                self._upload(sftp, local_path, temporary)
                sftp.posix_rename(temporary, final)
                return
            except (OSError, paramiko.SSHException) as exc:
                with contextlib.suppress(OSError, paramiko.SSHException):  # never created, or connection gone
                    sftp.remove(temporary)
                if attempt == 1 and folder in self._made_dirs:
                    self._made_dirs.clear()  # someone removed folders meanwhile: create them again, once
                    continue
                self._fail(
                    f"upload {key}", str(exc) or type(exc).__name__, "check free space and write permission"
                )

    def _upload(self, sftp: paramiko.SFTPClient, local_path: Path, remote: str) -> None:
        """Like ``SFTPClient.put(confirm=True)``, but the file is private from its creation and on the
        server's disk (fsync) before it is closed."""
        with local_path.open("rb") as source, sftp.open(remote, "wb") as target:
            target.chmod(FILE_MODE)
            target.set_pipelined(True)
            size = 0
            while chunk := source.read(UPLOAD_CHUNK):
                target.write(chunk)
                size += len(chunk)
            target.flush()
            if self._fsync_supported:
                try:
                    fsync(target)
                except OSError as exc:
                    if exc.errno is not None or "unsupported" not in str(exc).lower():
                        raise
                    self._fsync_supported = False
                    LOGGER.warning(
                        "SFTP server %s does not support fsync@openssh.com: uploads are renamed into place "
                        "without being flushed to its disk first",
                        self.host,
                    )
        uploaded = sftp.stat(remote).st_size
        if uploaded != size:
            raise OSError(f"size mismatch after upload ({uploaded} != {size} bytes)")

    def get_bytes(self, key: str) -> bytes:
        sftp = self._connect()
        try:
            with sftp.open(self._remote(key), "rb") as handle:
                handle.prefetch()  # pipelined reads instead of one round trip per 32 KiB
                return handle.read()
        except OSError as exc:
            self._fail(f"read {key}", exc.strerror or str(exc), "check that the file exists")

    def list_keys(self, prefix: str = "") -> list[str]:
        sftp = self._connect()
        start = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        keys: list[str] = []
        pending = [start]
        while pending:
            relative = pending.pop()
            try:
                entries = sftp.listdir_attr(f"{self.root}/{relative}" if relative else self.root)
            except FileNotFoundError:
                continue
            except OSError as exc:
                self._fail("list the stage", exc.strerror or str(exc), "check read permission on the folder")
            for entry in entries:
                if entry.filename.startswith("."):  # temporary uploads and probes
                    continue
                key = f"{relative}/{entry.filename}" if relative else entry.filename
                if stat.S_ISDIR(entry.st_mode or 0):
                    pending.append(key)
                elif key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)

    def delete(self, key: str) -> None:
        sftp = self._connect()
        try:
            sftp.remove(self._remote(key))
        except FileNotFoundError:
            pass  # already gone: that is what was asked
        except OSError as exc:
            self._fail(f"delete {key}", exc.strerror or str(exc), "check write permission")

    def close(self) -> None:
        if self._sftp is not None:
            self._sftp.close()
        if self._ssh is not None:
            self._ssh.close()
        self._sftp = self._ssh = None


def fsync(handle: paramiko.SFTPFile) -> None:
    """Ask the server to fsync an open file (OpenSSH's ``fsync@openssh.com`` extension, which paramiko
    has no method for). The server answers after the pipelined writes before it, which it handles in order."""
    handle.sftp._request(CMD_EXTENDED, "fsync@openssh.com", handle.handle)  # type: ignore[attr-defined]
