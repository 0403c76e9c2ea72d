"""S3Storage against a real S3 API (moto server on 127.0.0.1): prefix, pagination, and clear, fast errors."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from target_looker_stage.errors import ConfigError, StageError
from target_looker_stage.settings import TargetSettings
from target_looker_stage.storage.s3 import S3Storage
from tests.services import S3Server, free_port, run_s3_server


@pytest.fixture
def prefix() -> str:
    return f"stage-{uuid.uuid4().hex[:8]}"


def test_objects_live_under_the_uri_prefix(s3_server: S3Server, prefix: str, tmp_path: Path) -> None:
    local = tmp_path / "x.parquet"
    local.write_bytes(b"PAR1")
    stage = S3Storage(
        f"s3://{s3_server.bucket}/{prefix}/nested/", TargetSettings.from_config(s3_server.config())
    )
    stage.put_file(local, "stream=invoices/realm_id=1/x.parquet")
    listed = s3_server.client().list_objects_v2(Bucket=s3_server.bucket, Prefix=f"{prefix}/")
    assert [o["Key"] for o in listed["Contents"]] == [f"{prefix}/nested/stream=invoices/realm_id=1/x.parquet"]


def test_listing_pages_through_every_page(
    s3_server: S3Server, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(S3Storage, "page_size", 2)  # S3 returns at most 1,000 keys per call
    client = s3_server.client()
    keys = [f"stream=a/part-{i:05d}.parquet" for i in range(7)]
    for key in reversed(keys):
        client.put_object(Bucket=s3_server.bucket, Key=f"{prefix}/{key}", Body=b"")
    stage = S3Storage(f"s3://{s3_server.bucket}/{prefix}", TargetSettings.from_config(s3_server.config()))
    calls: list[str] = []
    stage._client.meta.events.register("before-call.s3.ListObjectsV2", lambda **_: calls.append("list"))
    assert stage.list_keys() == keys
    assert len(calls) == 4  # 2 + 2 + 2 + 1 keys
    assert stage.list_keys("stream=a/part-0000") == keys


def test_display_uri_shows_where_without_credentials(s3_server: S3Server) -> None:
    stage = S3Storage(f"s3://{s3_server.bucket}/p", TargetSettings.from_config(s3_server.config()))
    assert stage.display_uri == f"s3://{s3_server.bucket}/p at {s3_server.endpoint_url}"
    assert s3_server.access_key_id not in stage.display_uri


def test_an_unreachable_endpoint_fails_fast_with_a_clear_error(s3_server: S3Server) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    stage = S3Storage(
        f"s3://{s3_server.bucket}/p",
        TargetSettings.from_config(s3_server.config() | {"s3_endpoint_url": endpoint}),
    )
    started = time.monotonic()
    with pytest.raises(StageError) as raised:
        stage.check()
    assert time.monotonic() - started < 15
    message = str(raised.value)
    assert f"cannot reach the S3 endpoint {endpoint}" in message
    assert "s3_endpoint_url" in message
    assert "\n" not in message
    assert s3_server.secret_access_key not in message


def test_a_missing_bucket_says_so(s3_server: S3Server) -> None:
    stage = S3Storage("s3://no-such-bucket-here/p", TargetSettings.from_config(s3_server.config()))
    with pytest.raises(StageError, match="bucket no-such-bucket-here does not exist; create it"):
        stage.check()


def test_an_upload_to_a_missing_bucket_is_a_one_line_stage_error(s3_server: S3Server, tmp_path: Path) -> None:
    local = tmp_path / "x.parquet"
    local.write_bytes(b"PAR1")
    stage = S3Storage("s3://no-such-bucket-here/p", TargetSettings.from_config(s3_server.config()))
    with pytest.raises(StageError, match=r"cannot upload a/x\.parquet: bucket no-such-bucket-here") as raised:
        stage.put_file(local, "a/x.parquet")
    assert "\n" not in str(raised.value)


def test_credentials_come_in_pairs(s3_server: S3Server) -> None:
    with pytest.raises(ConfigError, match="both aws_access_key_id and aws_secret_access_key"):
        S3Storage(f"s3://{s3_server.bucket}", TargetSettings.from_config({"aws_access_key_id": "AKIA0000"}))


def test_credentials_in_the_uri_are_refused_without_echoing_them() -> None:
    with pytest.raises(ConfigError) as raised:
        S3Storage("s3://AKIA:Top-Secret@bucket/p", TargetSettings.from_config({}))
    assert "Top-Secret" not in str(raised.value)


@pytest.fixture(scope="module")
def s3_with_auth() -> Iterator[S3Server]:
    """A second S3 server that checks signatures and IAM permissions (the session one accepts anything)."""
    with run_s3_server(enforce_auth=True) as server:
        yield server


@pytest.mark.parametrize("wrong", ["aws_secret_access_key", "aws_access_key_id"])
def test_wrong_credentials_are_access_denied_without_echoing_them(
    s3_with_auth: S3Server, tmp_path: Path, wrong: str
) -> None:
    S3Storage(
        f"s3://{s3_with_auth.bucket}/p", TargetSettings.from_config(s3_with_auth.config())
    ).check()  # the right ones work
    bad = s3_with_auth.config() | {wrong: "AKIAWRONGWRONGWRONG0"}
    stage = S3Storage(f"s3://{s3_with_auth.bucket}/p", TargetSettings.from_config(bad))
    with pytest.raises(StageError, match=r"cannot check: access denied .*; check aws_access_key_id"):
        stage.check()
    local = tmp_path / "x.parquet"
    local.write_bytes(b"PAR1")
    with pytest.raises(StageError, match=r"cannot upload a/x\.parquet: access denied") as raised:
        stage.put_file(local, "a/x.parquet")
    assert "\n" not in str(raised.value)
    assert "AKIAWRONGWRONGWRONG0" not in str(raised.value)
    assert s3_with_auth.secret_access_key not in str(raised.value)


def test_a_silent_endpoint_fails_the_check_in_under_15_seconds(s3_server: S3Server, silent_port: int) -> None:
    settings = s3_server.config() | {"s3_endpoint_url": f"http://127.0.0.1:{silent_port}"}
    stage = S3Storage(f"s3://{s3_server.bucket}/p", TargetSettings.from_config(settings))
    started = time.monotonic()
    with pytest.raises(
        StageError, match=rf"cannot reach the S3 endpoint http://127.0.0.1:{silent_port} \(timed out\)"
    ):
        stage.check()
    assert time.monotonic() - started < 15


def test_without_any_credentials_the_error_says_which_settings_to_set(
    s3_server: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    stage = S3Storage(
        f"s3://{s3_server.bucket}/p", TargetSettings.from_config({"s3_endpoint_url": s3_server.endpoint_url})
    )
    with pytest.raises(
        StageError, match="no AWS credentials found; set aws_access_key_id and aws_secret_access_key"
    ):
        stage.check()


def test_a_missing_local_file_is_a_stage_error(s3_server: S3Server, tmp_path: Path) -> None:
    stage = S3Storage(f"s3://{s3_server.bucket}/p", TargetSettings.from_config(s3_server.config()))
    with pytest.raises(StageError, match=r"cannot upload a/x\.parquet: .*No such file"):
        stage.put_file(tmp_path / "gone.parquet", "a/x.parquet")
