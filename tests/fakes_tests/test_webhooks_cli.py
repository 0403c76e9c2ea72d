"""Webhook notifications (legacy and CloudEvents, signed) and the standalone command line server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.fakes.qbo import QboSimulator, WebhookEvent

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

VERIFIER = "verifier-token-123"


class Receiver:
    """A real HTTP endpoint on 127.0.0.1 that records what it receives."""

    def __init__(self) -> None:
        self.statuses: list[int] = []  # answers to give, in order (then 200)
        self.received: list[tuple[bytes, dict[str, str]]] = []
        self.arrived = threading.Event()
        self.server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.port}/webhooks"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def _app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        self.received.append((request.get_data(), dict(request.headers)))
        self.arrived.set()
        status = self.statuses.pop(0) if self.statuses else 200
        return Response("ok", status=status)(environ, start_response)

    def bodies(self) -> list[Any]:
        return [json.loads(body) for body, _ in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver()
    yield started
    started.server.shutdown()


def _verifies(body: bytes, headers: dict[str, str]) -> bool:
    expected = base64.b64encode(hmac.new(VERIFIER.encode(), body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, headers["Intuit-Signature"])


def test_legacy_notification_is_signed_with_the_verifier_token(
    qbo_sim: QboSimulator, receiver: Receiver
) -> None:
    realm = qbo_sim.realm_ids[0]
    events = [WebhookEvent(realm, "Invoice", "42", "Update"), WebhookEvent(realm, "Customer", "7", "Create")]

    status = qbo_sim.send_webhook(receiver.url, VERIFIER, events)

    assert status == 200
    [(body, headers)] = receiver.received
    assert _verifies(body, headers)
    [notification] = json.loads(body)["eventNotifications"]
    assert notification["realmId"] == realm
    entities = notification["dataChangeEvent"]["entities"]
    assert [(e["name"], e["id"], e["operation"]) for e in entities] == [
        ("Invoice", "42", "Update"),
        ("Customer", "7", "Create"),
    ]
    assert entities[0]["lastUpdated"].endswith("Z")


def test_cloudevents_notification(qbo_sim: QboSimulator, receiver: Receiver) -> None:
    realm = qbo_sim.realm_ids[1]

    qbo_sim.send_webhook(
        receiver.url, VERIFIER, [WebhookEvent(realm, "Invoice", "9", "Delete")], format="cloudevents"
    )

    [(body, headers)] = receiver.received
    assert _verifies(body, headers)
    [event] = json.loads(body)
    assert event["specversion"] == "1.0"
    assert event["type"] == "qbo.invoice.deleted.v1"
    assert event["intuitentityid"] == "9"
    assert event["intuitaccountid"] == realm
    assert event["data"] == {}


def test_tampered_body_does_not_verify(qbo_sim: QboSimulator, receiver: Receiver) -> None:
    qbo_sim.send_webhook(receiver.url, VERIFIER, [WebhookEvent(qbo_sim.realm_ids[0], "Bill", "1")])
    [(body, headers)] = receiver.received

    assert not _verifies(body.replace(b"Bill", b"Item"), headers)


def test_duplicate_and_reorder(qbo_sim: QboSimulator, receiver: Receiver) -> None:
    realm = qbo_sim.realm_ids[0]
    events = [WebhookEvent(realm, "Invoice", "1"), WebhookEvent(realm, "Invoice", "2")]

    qbo_sim.send_webhook(receiver.url, VERIFIER, events, duplicate=True, reorder=True)

    first, second = receiver.bodies()
    assert first == second
    ids = [e["id"] for e in first["eventNotifications"][0]["dataChangeEvent"]["entities"]]
    assert ids == ["2", "1"]


def test_mutations_can_emit_webhooks(qbo_sim: QboSimulator, receiver: Receiver) -> None:
    realm = qbo_sim.realm_ids[0]
    qbo_sim.configure_webhooks(receiver.url, VERIFIER)

    updated = qbo_sim.update(realm, "Invoice", "3", {"PrivateNote": "x"})
    assert receiver.arrived.wait(5)

    [(body, headers)] = receiver.received
    assert _verifies(body, headers)
    [entity] = json.loads(body)["eventNotifications"][0]["dataChangeEvent"]["entities"]
    assert (entity["name"], entity["id"], entity["operation"]) == ("Invoice", "3", "Update")
    assert updated["MetaData"]["LastUpdatedTime"][:19] == _local(entity["lastUpdated"], qbo_sim, realm)[:19]


def test_webhook_emission_can_be_configured_over_http(qbo_sim: QboSimulator, receiver: Receiver) -> None:
    realm = qbo_sim.realm_ids[1]
    configure = f"{qbo_sim.base_url}/admin/webhooks/configure"
    body = {"url": receiver.url, "verifier_token": VERIFIER, "format": "cloudevents"}
    assert requests.post(configure, json=body, timeout=10).status_code == 200

    qbo_sim.delete(realm, "Bill", "2")
    assert receiver.arrived.wait(5)
    requests.post(configure, json={"url": None}, timeout=10)
    qbo_sim.delete(realm, "Bill", "3")

    [(raw, headers)] = receiver.received
    assert _verifies(raw, headers)
    [event] = json.loads(raw)
    assert (event["type"], event["intuitentityid"], event["intuitaccountid"]) == (
        "qbo.bill.deleted.v1",
        "2",
        realm,
    )
    assert qbo_sim.webhook_emitter is None


def test_failed_deliveries_are_retried_after_the_configured_delays(
    qbo_sim: QboSimulator, receiver: Receiver
) -> None:
    receiver.statuses = [503, 500]
    qbo_sim.configure_webhooks(receiver.url, VERIFIER, retry_delays=(0.05, 0.05, 0.05))

    qbo_sim.update(qbo_sim.realm_ids[0], "Invoice", "4", {"PrivateNote": "retry me"})
    assert qbo_sim.webhook_emitter is not None
    qbo_sim.webhook_emitter.flush()

    assert qbo_sim.webhook_emitter.statuses == [503, 500, 200]
    bodies = [body for body, _ in receiver.received]
    assert len(bodies) == 3
    assert len(set(bodies)) == 1


def test_unreachable_receiver_reports_status_0(qbo_sim: QboSimulator) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{closed.getsockname()[1]}/webhooks"
    closed.close()

    status = qbo_sim.send_webhook(url, VERIFIER, [WebhookEvent(qbo_sim.realm_ids[0], "Invoice", "1")])

    assert status == 0


def _local(utc_stamp: str, sim: QboSimulator, realm: str) -> str:
    from tests.fakes.qbo.timefmt import parse_iso

    return sim.stores[realm].company.clock.seconds(int(parse_iso(utc_stamp)))


def test_cli_serves_tokens_and_queries(tmp_path: Path) -> None:
    credentials_file = tmp_path / "creds.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.qbo",
            "--port",
            "0",
            "--companies",
            "2",
            "--seed",
            "1",
            "--records",
            "300",
            "--credentials-file",
            str(credentials_file),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        printed = json.loads(process.stdout.readline())
        assert json.loads(credentials_file.read_text()) == printed
        company = printed["companies"][0]
        token = requests.post(
            printed["token_url"],
            auth=(printed["client_id"], printed["client_secret"]),
            data={"grant_type": "refresh_token", "refresh_token": company["refresh_token"]},
            timeout=10,
        ).json()
        answer = requests.get(
            f"{printed['base_url']}/v3/company/{company['realm_id']}/query",
            params={"query": "select count(*) from Invoice", "minorversion": "75"},
            headers={"Authorization": f"Bearer {token['access_token']}", "Accept": "application/json"},
            timeout=10,
        )
        assert len(printed["companies"]) == 2
        assert answer.status_code == 200
        assert answer.json()["QueryResponse"]["totalCount"] > 0
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0
