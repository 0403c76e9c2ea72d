"""The token store: newest token per realm, atomic 0600 writes, and a lock that serialises runs."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

import pytest

from tap_quickbooks_cdc.errors import TokenStoreError
from tap_quickbooks_cdc.token_store import FileTokenStore, StoredToken, open_token_store


def test_a_written_token_is_read_back_and_the_file_is_private(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "secrets" / "tokens.json")
    with store.transaction("111") as slot:
        assert slot.get() is None
        slot.put(StoredToken("rt-new", "fp-1"))
    assert store.read("111") == StoredToken("rt-new", "fp-1")
    assert stat.S_IMODE((tmp_path / "secrets" / "tokens.json").stat().st_mode) == 0o600
    assert not list((tmp_path / "secrets").glob(".qbo_tokens.*")), "no temp file left behind"


def test_realms_are_kept_apart(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "tokens.json")
    with store.transaction("111") as slot:
        slot.put(StoredToken("rt-111", "fp"))
    with store.transaction("222") as slot:
        slot.put(StoredToken("rt-222", "fp"))
    assert store.read("111") == StoredToken("rt-111", "fp")
    assert store.read("222") == StoredToken("rt-222", "fp")


def test_a_corrupt_store_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text("{not json")
    with pytest.raises(TokenStoreError, match="not valid JSON"):
        FileTokenStore(path).read("111")


def _spend_and_rotate(path: str, rounds: int) -> None:
    """A stand-in for a run: read the token, 'spend' it, write its successor, under the lock."""
    store = FileTokenStore(path)
    for _ in range(rounds):
        with store.transaction("111") as slot:
            current = slot.get()
            number = int(current.refresh_token.removeprefix("rt-")) if current else 0
            slot.put(StoredToken(f"rt-{number + 1}", "fp"))


def test_concurrent_runs_never_spend_the_same_token(tmp_path: Path) -> None:
    path = str(tmp_path / "tokens.json")
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_spend_and_rotate, args=(path, 25)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    # Every increment survived: no two runs read the same token and both wrote a successor.
    assert FileTokenStore(path).read("111") == StoredToken("rt-75", "fp")


def test_location_picks_the_backend(tmp_path: Path) -> None:
    assert isinstance(open_token_store(str(tmp_path / "t.json")), FileTokenStore)
    with pytest.raises(TokenStoreError, match="s3://bucket/key"):
        open_token_store("s3://only-bucket")
