"""The tap side of webhooks: a run drains the inbox the real receiver filled from the simulator's signed
deliveries, fetches the notified records in full in as few requests as batching allows, emits each once
(CDC in the same or a later run repeats none) and marks events done only after the STATE covering them."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import time
import typing as t
from pathlib import Path

import pytest

from tests.fakes.qbo.webhooks import WebhookEvent
from tests.tap.harness import TAP_EXECUTABLE, catalog_selecting, parse_messages, run_in_process, tap_config
from tests.webhooks.harness import VERIFIER_TOKEN, Receiver, receiver_config, running_receiver, stored

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.fakes.qbo import QboSimulator
    from tests.fakes.qbo.fixtures import SimFactory

STREAMS = {"invoices", "bills"}


@pytest.fixture
def sim(qbo_sim_factory: SimFactory) -> QboSimulator:
    return qbo_sim_factory(companies=1, records_per_company=300)


@pytest.fixture
def receiver(sim: QboSimulator, tmp_path: Path) -> Iterator[Receiver]:
    companies = [{"realm_id": realm, "refresh_token": "seed"} for realm in sim.realm_ids]
    config = receiver_config(str(tmp_path / "inbox.sqlite"), companies=companies)
    with running_receiver(config, tmp_path) as running:
        yield running


def notify(sim: QboSimulator, receiver: Receiver, *changes: tuple[str, str, str]) -> None:
    """Make each (operation, entity, Id) change in the simulator, which sends its signed webhook."""
    realm = sim.realm_ids[0]
    sim.configure_webhooks(receiver.url, VERIFIER_TOKEN)
    for operation, entity, record_id in changes:
        if operation == "delete":
            sim.delete(realm, entity, record_id)
        else:
            sim.update(realm, entity, record_id, {"PrivateNote": f"changed {time.monotonic_ns()}"})
    assert sim.webhook_emitter is not None
    sim.webhook_emitter.flush()
    assert sim.webhook_emitter.statuses == [200] * len(changes)
    sim.configure_webhooks(None)


def versions(result: t.Any, stream: str) -> list[tuple[str, str | None, str | None]]:
    return sorted((r["Id"], r.get("SyncToken"), r.get("_sdc_deleted_at")) for r in result.stream(stream))


@pytest.mark.parametrize("same_run", [False, True], ids=["drain-only-then-cdc", "drain-and-cdc-in-one-run"])
def test_three_updated_invoices_and_a_deleted_bill_are_fetched_in_one_request_and_cdc_repeats_none(
    sim: QboSimulator, receiver: Receiver, tmp_path: Path, same_run: bool, caplog: pytest.LogCaptureFixture
) -> None:
    realm = sim.realm_ids[0]
    config = tap_config(sim, tmp_path, webhook_inbox=receiver.inbox)
    backfill = run_in_process(config, streams=STREAMS)
    assert backfill.exit_code == 0
    notify(sim, receiver, *[("update", "Invoice", i) for i in ("1", "2", "3")], ("delete", "Bill", "1"))
    notify(sim, receiver, ("update", "Customer", "1"), ("update", "Customer", "2"))  # not streamed
    expected = {i: sim.get(realm, "Invoice", i)["SyncToken"] for i in ("1", "2", "3")}  # type: ignore[index]

    sim.reset_requests()
    interval = 0 if same_run else 60
    with caplog.at_level(logging.INFO):
        drained = run_in_process(config | {"cdc_min_interval_minutes": interval}, backfill.state, STREAMS)
    assert drained.exit_code == 0
    kinds = [r.kind for r in sim.requests if r.kind not in {"token", "admin"}]
    assert kinds == (["batch", "cdc"] if same_run else ["batch"])  # 3 invoices fetched in one request
    assert versions(drained, "invoices") == [(i, expected[i], None) for i in ("1", "2", "3")]
    [(bill_id, _, deleted_at)] = versions(drained, "bills")
    assert bill_id == "1"
    assert deleted_at
    assert stored(receiver.inbox, [realm]) == []  # every event done, the customers' dropped
    dropped = [m for m in caplog.messages if "webhook events for Customer are acknowledged and dropped" in m]
    assert len(dropped) == 1

    cdc = run_in_process(config, drained.state, STREAMS)
    assert cdc.exit_code == 0
    assert [r.kind for r in sim.requests if r.kind == "cdc"][-1:] == ["cdc"]
    assert cdc.ids() == []  # the same changes came again by CDC: none is emitted twice


def test_a_version_cdc_already_emitted_is_not_emitted_again_when_its_late_webhook_is_drained(
    sim: QboSimulator, receiver: Receiver, tmp_path: Path
) -> None:
    realm = sim.realm_ids[0]
    config = tap_config(sim, tmp_path, webhook_inbox=receiver.inbox)
    backfill = run_in_process(config, streams=STREAMS)
    sim.update(realm, "Invoice", "5", {"PrivateNote": "changed before any webhook"})
    cdc = run_in_process(config, backfill.state, STREAMS)
    assert cdc.ids() == [("invoices", realm, "5")]
    notify(sim, receiver, ("update", "Invoice", "4"))  # a later change, notified ...
    sim.send_webhook(receiver.url, VERIFIER_TOKEN, [_event(realm, "Invoice", "5")])  # ... and a late one
    drained = run_in_process(config | {"cdc_min_interval_minutes": 60}, cdc.state, STREAMS)
    assert drained.ids() == [("invoices", realm, "4")]
    assert stored(receiver.inbox, [realm]) == []
    again = run_in_process(config, drained.state, STREAMS)
    assert again.ids() == []


def _event(realm: str, entity: str, record_id: str) -> WebhookEvent:
    return WebhookEvent(realm, entity, record_id, "Update")


def test_a_run_killed_after_fetching_but_before_its_state_re_delivers_the_records_next_run(
    sim: QboSimulator, receiver: Receiver, tmp_path: Path
) -> None:
    realm = sim.realm_ids[0]
    config = tap_config(sim, tmp_path, webhook_inbox=receiver.inbox)
    backfill = run_in_process(config, streams={"invoices"})
    notify(sim, receiver, *[("update", "Invoice", i) for i in ("7", "8", "9")])
    expected = [(i, sim.get(realm, "Invoice", i)["SyncToken"], None) for i in ("7", "8", "9")]  # type: ignore[index]

    # The records are fetched and handed to the writer; the CDC call after them hangs, and the run is
    # SIGKILLed there, before the STATE that would have covered them.
    sim.inject("slow", path_contains="/cdc", delay=30)
    sim.reset_requests()
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "state.json").write_text(json.dumps(backfill.state))
    stderr = tmp_path / "killed.log"
    with stderr.open("wb") as err:
        catalog = catalog_selecting({"invoices"}, tmp_path)
        command = [TAP_EXECUTABLE, "--config", str(tmp_path / "config.json")]
        command += ["--state", str(tmp_path / "state.json"), "--catalog", str(catalog)]
        proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=err,
        )
        deadline = time.monotonic() + 30
        while "3 change(s) from webhooks" not in stderr.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [r.kind for r in sim.requests if r.kind == "batch"] == ["batch"]
        time.sleep(0.5)
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=10)
    killed = parse_messages(out.decode())
    assert killed.records == []  # never written without the STATE after them
    assert sorted(e.entity_id for e in stored(receiver.inbox, [realm])) == ["7", "8", "9"]

    again = run_in_process(config | {"cdc_min_interval_minutes": 60}, backfill.state, {"invoices"})
    assert versions(again, "invoices") == expected
    assert stored(receiver.inbox, [realm]) == []


def test_a_drain_only_run_with_an_empty_inbox_sends_no_request_and_keeps_the_cursor(
    sim: QboSimulator, receiver: Receiver, tmp_path: Path
) -> None:
    config = tap_config(sim, tmp_path, webhook_inbox=receiver.inbox, cdc_min_interval_minutes=60)
    backfill = run_in_process(config, streams=STREAMS)
    sim.update(sim.realm_ids[0], "Invoice", "2", {"PrivateNote": "not notified"})
    sim.reset_requests()
    quiet = run_in_process(config, backfill.state, STREAMS)
    assert quiet.exit_code == 0
    assert sim.data_requests() == 0
    cursors = [p["cdc_cursor"] for s in quiet.state["bookmarks"].values() for p in s["partitions"]]
    assert cursors == [p["cdc_cursor"] for s in backfill.state["bookmarks"].values() for p in s["partitions"]]
    caught_up = run_in_process(config | {"cdc_min_interval_minutes": 0}, quiet.state, STREAMS)
    assert caught_up.ids() == [("invoices", sim.realm_ids[0], "2")]  # CDC, the safety net, still sees it
