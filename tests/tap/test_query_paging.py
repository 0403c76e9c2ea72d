"""Query paging is keyset by LastUpdatedTime: edits made while an entity is read never hide a record."""

from __future__ import annotations

import logging
import typing as t
from pathlib import Path

from tap_quickbooks_cdc.query import PAGE_SIZE, read_pages
from tap_quickbooks_cdc.realm import RealmSession
from tap_quickbooks_cdc.records import Deduplicator
from tap_quickbooks_cdc.settings import parse_settings
from tap_quickbooks_cdc.token_store import open_token_store
from tests.tap.harness import tap_config


def _session(sim: t.Any, tmp_path: Path) -> RealmSession:
    settings = parse_settings(tap_config(sim, tmp_path))
    store = open_token_store(settings.token_store)
    return RealmSession(settings.companies[0], settings, store, logging.getLogger("test"), dict)


def test_records_edited_during_a_read_do_not_shift_unread_ones_out_of_reach(
    qbo_sim_factory: t.Any, tmp_path: Path
) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=12_000)
    realm = sim.realm_ids[0]
    before = {r["Id"] for r in sim.iter_records(realm, "Invoice")}
    assert len(before) > 2 * PAGE_SIZE, "at least three pages"

    pages = read_pages(_session(sim, tmp_path).client, "Invoice", None)
    first = next(pages)
    edited = {r["Id"]: int(r["SyncToken"]) for r in first[:25]}
    for record_id in edited:  # edited now: they move to the end of the LastUpdatedTime order
        sim.update(realm, "Invoice", record_id, {"PrivateNote": "edited mid-read"})
    later = [record for page in pages for record in page]

    assert before <= {r["Id"] for r in first} | {r["Id"] for r in later}, "no record was skipped"
    for record_id, token in edited.items():  # and each edit is read again, newer
        assert any(r["Id"] == record_id and int(r["SyncToken"]) > token for r in later)


def test_a_quiet_entity_costs_one_request_per_thousand_records(
    qbo_sim_factory: t.Any, tmp_path: Path
) -> None:
    sim = qbo_sim_factory(companies=1, records_per_company=12_000)
    realm = sim.realm_ids[0]
    session = _session(sim, tmp_path)
    dedup = Deduplicator()
    ids = [r["Id"] for page in read_pages(session.client, "Invoice", None) for r in page if dedup.admit(r)]
    assert sorted(ids) == sorted(r["Id"] for r in sim.iter_records(realm, "Invoice"))
    # keyset pages overlap only by the records sharing the boundary second
    assert session.client.request_count <= len(ids) // PAGE_SIZE + 2
