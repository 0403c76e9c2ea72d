"""The StageStorage contract, the same for S3 (moto server) and SFTP (OpenSSH sshd): keys, atomic replace,
listing that never shows partial uploads, and one-line errors."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from target_looker_stage.errors import StageError
from target_looker_stage.settings import TargetSettings
from target_looker_stage.storage.base import StageStorage
from target_looker_stage.storage.s3 import S3Storage
from target_looker_stage.storage.sftp import SftpStorage
from tests.services import S3Server, SshdServer

OpenStage = Callable[[], StageStorage]


@dataclass
class Backend:
    """One fresh, empty stage location: ``open()`` makes independent connections to it, ``peek(key)`` reads
    what the server itself holds at that key right now (S3 GET / the sshd machine's disk), fast."""

    open: OpenStage
    peek: Callable[[str], bytes]


@pytest.fixture(params=["s3", "sftp"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    folder = f"stage-{uuid.uuid4().hex[:8]}"
    opened: list[StageStorage] = []
    if request.param == "s3":
        s3: S3Server = request.getfixturevalue("s3_server")
        client = s3.client()

        def open_s3() -> StageStorage:
            return S3Storage(f"s3://{s3.bucket}/{folder}", TargetSettings.from_config(s3.config()))

        def peek_s3(key: str) -> bytes:
            body: bytes = client.get_object(Bucket=s3.bucket, Key=f"{folder}/{key}")["Body"].read()
            return body

        chosen = Backend(open_s3, peek_s3)
    else:
        sshd: SshdServer = request.getfixturevalue("sshd_server")
        settings = {
            "sftp_private_key_path": str(sshd.private_key_path),
            "sftp_known_hosts_path": str(sshd.known_hosts_path),
        }
        chosen = Backend(
            lambda: SftpStorage(sshd.uri(sshd.root / folder), TargetSettings.from_config(settings)),
            lambda key: (sshd.root / folder / key).read_bytes(),
        )

    def open_tracked() -> StageStorage:
        stage = chosen.open()
        opened.append(stage)
        return stage

    yield Backend(open_tracked, chosen.peek)
    for stage in opened:
        stage.close()


@pytest.fixture
def open_stage(backend: Backend) -> OpenStage:
    return backend.open


def write(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / f"{uuid.uuid4().hex}.parquet"
    path.write_bytes(content)
    return path


def test_check_passes_on_a_reachable_writable_stage(open_stage: OpenStage) -> None:
    open_stage().check()


def test_files_are_listed_by_key_under_hive_folders(open_stage: OpenStage, tmp_path: Path) -> None:
    stage = open_stage()
    keys = [
        "stream=invoices/realm_id=1/batch-2.parquet",
        "stream=invoices/realm_id=1/batch-1.parquet",
        "stream=invoices/realm_id=2/batch-1.parquet",
        "stream=customers/realm_id=1/batch-1.parquet",
        "manifest.json",
    ]
    for key in keys:
        stage.put_file(write(tmp_path, key.encode()), key)
    assert stage.list_keys() == sorted(keys)
    assert stage.list_keys("stream=invoices/") == sorted(k for k in keys if k.startswith("stream=invoices/"))
    assert stage.list_keys("stream=invoices/realm_id=1/batch-1") == [
        "stream=invoices/realm_id=1/batch-1.parquet"
    ]
    assert stage.list_keys("stream=bills/") == []
    assert (
        stage.get_bytes("stream=customers/realm_id=1/batch-1.parquet")
        == b"stream=customers/realm_id=1/batch-1.parquet"
    )


def test_putting_the_same_key_again_replaces_the_file(open_stage: OpenStage, tmp_path: Path) -> None:
    stage = open_stage()
    stage.put_file(write(tmp_path, b"first run"), "stream=a/x.parquet")
    stage.put_file(write(tmp_path, b"re-run"), "stream=a/x.parquet")
    assert stage.list_keys() == ["stream=a/x.parquet"]
    assert stage.get_bytes("stream=a/x.parquet") == b"re-run"


def test_delete_removes_one_file_and_a_missing_file_is_not_an_error(
    open_stage: OpenStage, tmp_path: Path
) -> None:
    stage = open_stage()
    stage.put_file(write(tmp_path, b"1"), "a/one.parquet")
    stage.put_file(write(tmp_path, b"2"), "a/two.parquet")
    stage.delete("a/one.parquet")
    stage.delete("a/never-existed.parquet")
    assert stage.list_keys() == ["a/two.parquet"]


def test_readers_see_the_old_or_the_whole_new_file_never_a_part(backend: Backend, tmp_path: Path) -> None:
    writer = backend.open()
    old, new = b"A" * 3_000_000, b"B" * 3_000_001
    old_path, new_path = write(tmp_path, old), write(tmp_path, new)
    writer.put_file(old_path, "stream=big/file.parquet")
    done = threading.Event()
    errors: list[BaseException] = []

    def replace_repeatedly() -> None:
        try:
            for path in (new_path, old_path) * 2:
                writer.put_file(path, "stream=big/file.parquet")
        except BaseException as exc:  # surfaced in the main thread
            errors.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=replace_repeatedly)
    thread.start()
    seen: set[int] = set()
    while not done.is_set():
        content = backend.peek("stream=big/file.parquet")
        assert content in (old, new), f"read {len(content)} bytes: a partial file"
        seen.add(len(content))
    thread.join()
    assert not errors
    assert seen == {len(old), len(new)}  # the reads really overlapped the replacements
    assert backend.open().list_keys() == ["stream=big/file.parquet"]
    assert backend.open().get_bytes("stream=big/file.parquet") == old


def test_reading_a_missing_key_is_a_one_line_stage_error(open_stage: OpenStage) -> None:
    with pytest.raises(StageError) as raised:
        open_stage().get_bytes("stream=a/missing.parquet")
    assert "stream=a/missing.parquet" in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("key", ["../escape.parquet", "a/../../b.parquet", "", "/"])
def test_keys_cannot_leave_the_stage(open_stage: OpenStage, tmp_path: Path, key: str) -> None:
    with pytest.raises(StageError, match="invalid stage key"):
        open_stage().put_file(write(tmp_path, b"x"), key)
