"""Query paging is keyset by LastUpdatedTime (big entities in parallel time slices): edits made while
an entity is read never hide a record, the output stays in time order, and workers never outlive it."""

from __future__ import annotations

import logging
import threading
import time
import typing as t
from pathlib import Path

import pytest

from tap_quickbooks_cdc.errors import ApiError
from tap_quickbooks_cdc.query import PAGE_SIZE, read_pages
from tap_quickbooks_cdc.realm import RealmSession
from tap_quickbooks_cdc.records import Deduplicator, normalise_time
from tap_quickbooks_cdc.settings import parse_settings
from tap_quickbooks_cdc.token_store import open_token_store
from tests.tap.harness import tap_config


def _session(sim: t.Any, tmp_path: Path, **overrides: t.Any) -> RealmSession:
    settings = parse_settings(tap_config(sim, tmp_path, **overrides))
    store = open_token_store(settings.token_store)
    return RealmSession(settings.companies[0], settings, store, logging.getLogger("test"), dict)


@pytest.mark.parametrize("parallel", [1, 3], ids=["one-slice", "three-slices"])
def test_records_edited_during_a_read_do_not_shift_unread_ones_out_of_reach(
    qbo_sim_factory: t.Any, tmp_path: Path, parallel: int
) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=12_000)
    realm = sim.realm_ids[0]
    before = {r["Id"] for r in sim.iter_records(realm, "Invoice")}
    assert len(before) > 2 * PAGE_SIZE, "at least three pages"

    pages = read_pages(_session(sim, tmp_path).client, "Invoice", None, parallel=parallel)
    first = next(pages)
    edited = {r["Id"]: int(r["SyncToken"]) for r in first[:25]}
    for record_id in edited:  # edited now: they move to the end of the LastUpdatedTime order
        sim.update(realm, "Invoice", record_id, {"PrivateNote": "edited mid-read"})
    later = [record for page in pages for record in page]

    assert before <= {r["Id"] for r in first} | {r["Id"] for r in later}, "no record was skipped"
    for record_id, token in edited.items():  # and each edit is read again, newer
        assert any(r["Id"] == record_id and int(r["SyncToken"]) > token for r in later)


@pytest.mark.parametrize("parallel", [1, 3], ids=["one-slice", "three-slices"])
def test_every_record_comes_once_in_order_for_about_one_request_per_thousand(
    qbo_sim_factory: t.Any, tmp_path: Path, parallel: int
) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=12_000)
    realm = sim.realm_ids[0]
    session = _session(sim, tmp_path)
    dedup = Deduplicator()
    records = [r for page in read_pages(session.client, "Invoice", None, parallel=parallel) for r in page]
    times = [normalise_time(r["MetaData"]["LastUpdatedTime"]) for r in records]
    assert times == sorted(times), "pages come oldest first, slice after slice"
    ids = [r["Id"] for r in records if dedup.admit(r)]
    assert sorted(ids) == sorted(r["Id"] for r in sim.iter_records(realm, "Invoice"))
    # keyset pages overlap only by the records sharing a boundary second; slicing adds one query for
    # the newest time and one short last page per slice
    assert session.client.request_count <= len(ids) // PAGE_SIZE + 2 + (parallel if parallel > 1 else 0)


def test_a_reader_that_stops_early_leaves_no_worker_behind(qbo_sim_factory: t.Any, tmp_path: Path) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=12_000)
    pages = read_pages(_session(sim, tmp_path).client, "Invoice", None, parallel=3)
    next(pages)
    next(pages)  # the slices are being read now
    started = time.monotonic()
    pages.close()
    assert time.monotonic() - started < 5
    assert not [t for t in threading.enumerate() if t.name.startswith("qbo-Invoice")]


def test_a_slice_that_fails_fails_the_read(qbo_sim_factory: t.Any, tmp_path: Path) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=12_000)
    pages = read_pages(_session(sim, tmp_path, max_retries=2).client, "Invoice", None, parallel=3)
    next(pages)
    sim.inject("http503", times=1000, path_contains="query")
    with pytest.raises(ApiError, match="failed after 2 attempts"):
        list(pages)
