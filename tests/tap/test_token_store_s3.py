"""An s3:// token store (moto server on 127.0.0.1): same semantics, conditional writes on the ETag."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest

from tap_quickbooks_cdc.token_store import S3TokenStore, StoredToken
from tests.tap.harness import run_in_process, tap_config

if t.TYPE_CHECKING:
    from tests.services import S3Server


@pytest.fixture
def s3_env(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_access_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", s3_server.region)
    return s3_server


def test_tokens_round_trip_through_s3(s3_env: S3Server) -> None:
    store = S3TokenStore(f"s3://{s3_env.bucket}/tap/round-trip.json", s3_env.endpoint_url)
    with store.transaction("111") as slot:
        assert slot.get() is None
        slot.put(StoredToken("rt-1", "fp"))
    with store.transaction("111") as slot:
        assert slot.get() == StoredToken("rt-1", "fp")
        slot.put(StoredToken("rt-2", "fp"))
    assert store.read("111") == StoredToken("rt-2", "fp")


def test_a_store_changed_by_another_host_meanwhile_is_not_overwritten(s3_env: S3Server) -> None:
    key = "tap/contended.json"
    store = S3TokenStore(f"s3://{s3_env.bucket}/{key}", s3_env.endpoint_url)
    with store.transaction("111") as slot:
        slot.put(StoredToken("rt-1", "fp"))
    other_host = b'{"version":1,"realms":{"222":{"refresh_token":"rt-222","seed_fingerprint":"fp"}}}'
    with store.transaction("111") as slot:  # reads the object and its ETag
        s3_env.client().put_object(Bucket=s3_env.bucket, Key=key, Body=other_host)
        slot.put(StoredToken("rt-2", "fp"))  # conflict: read again, apply only realm 111's entry
    assert store.read("111") == StoredToken("rt-2", "fp")
    assert store.read("222") == StoredToken("rt-222", "fp"), "the other host's token was kept"


def test_the_tap_keeps_rotated_tokens_in_s3(qbo_sim_factory: t.Any, s3_env: S3Server, tmp_path: Path) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=100)
    realm = sim.realm_ids[0]
    location = f"s3://{s3_env.bucket}/tap/qbo_tokens.json"
    config = tap_config(sim, tmp_path, token_store=location, token_store_s3_endpoint_url=s3_env.endpoint_url)
    for _ in range(2):
        assert run_in_process(config, streams=["terms"]).exit_code == 0
        stored = S3TokenStore(location, s3_env.endpoint_url).read(realm)
        assert stored is not None
        assert stored.refresh_token == sim.current_refresh_token(realm)
