"""Intuit webhook notifications: legacy ``eventNotifications`` and CloudEvents bodies, signed like Intuit.

``intuit-signature`` = base64(HMAC-SHA256(key=verifier token, msg=raw body)).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import queue
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import requests

from tests.fakes.qbo.render import dumps

ANSWER_WITHIN = 3.0  # seconds Intuit waits for the receiver's answer
VERBS = {"Create": "created", "Update": "updated", "Delete": "deleted", "Merge": "merged", "Void": "voided"}
FORMATS = ("legacy", "cloudevents")


@dataclass
class WebhookEvent:
    """One change notification. ``last_updated`` defaults to now (UTC, ``...000Z``)."""

    realm_id: str
    entity: str
    id: str
    operation: str = "Update"
    last_updated: str | None = None


def utc_stamp(epoch: float) -> str:
    """``2026-11-20T10:00:00.000Z``."""
    whole = int(epoch)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{int((epoch - whole) * 1000):03d}Z"


def build_body(events: list[WebhookEvent], fmt: str) -> bytes:
    """The raw JSON body Intuit would POST for ``events`` in the given format."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown webhook format {fmt!r}; expected one of {FORMATS}")
    now = utc_stamp(time.time())
    if fmt == "cloudevents":
        return dumps([_cloud_event(event, now) for event in events])
    by_realm: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_realm.setdefault(event.realm_id, []).append(
            {
                "name": event.entity,
                "id": event.id,
                "operation": event.operation,
                "lastUpdated": event.last_updated or now,
            }
        )
    notifications = [
        {"realmId": realm, "dataChangeEvent": {"entities": entities}} for realm, entities in by_realm.items()
    ]
    return dumps({"eventNotifications": notifications})


def _cloud_event(event: WebhookEvent, now: str) -> dict[str, Any]:
    verb = VERBS.get(event.operation, event.operation.lower())
    stamp = event.last_updated or now
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "intuit.simulator",
        "type": f"qbo.{event.entity.lower()}.{verb}.v1",
        "datacontenttype": "application/json",
        "time": stamp.replace(".000Z", "Z"),
        "intuitentityid": event.id,
        "intuitaccountid": event.realm_id,
        "data": {},
    }


def sign(body: bytes, verifier_token: str) -> str:
    """Value of the ``intuit-signature`` header for ``body``."""
    digest = hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def deliver(
    url: str,
    verifier_token: str,
    events: list[WebhookEvent],
    *,
    fmt: str = "legacy",
    duplicate: bool = False,
    reorder: bool = False,
) -> int:
    """POST one notification (twice if ``duplicate``; events reversed if ``reorder``); the last HTTP status,
    0 when the receiver did not answer within ``ANSWER_WITHIN`` seconds or could not be reached."""
    ordered = list(reversed(events)) if reorder else list(events)
    body = build_body(ordered, fmt)
    headers = {"Content-Type": "application/json", "intuit-signature": sign(body, verifier_token)}
    if fmt == "cloudevents":
        headers["Content-Type"] = "application/cloudevents-batch+json"
    status = 0
    for _ in range(2 if duplicate else 1):
        try:
            status = requests.post(url, data=body, headers=headers, timeout=ANSWER_WITHIN).status_code
        except requests.RequestException:
            status = 0
    return status


class WebhookEmitter:
    """Sends a notification for every mutation to a configured URL, in order, from a background thread.

    A delivery that is not answered with HTTP 200 is retried after each of ``retry_delays`` (Intuit waits
    about 10 s, 20 s, 30 s, 5 min, ...; tests pass short delays) and later events wait for it.
    """

    def __init__(
        self, url: str, verifier_token: str, fmt: str = "legacy", retry_delays: tuple[float, ...] = ()
    ) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown webhook format {fmt!r}")
        self.retry_delays = retry_delays
        self.url = url
        self.verifier_token = verifier_token
        self.fmt = fmt
        self.statuses: list[int] = []
        self._queue: queue.Queue[WebhookEvent | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="qbo-sim-webhooks", daemon=True)
        self._thread.start()

    def __call__(self, realm_id: str, entity: str, record_id: str, operation: str, lut: int) -> None:
        self._queue.put(WebhookEvent(realm_id, entity, record_id, operation, utc_stamp(lut)))

    def _run(self) -> None:
        while (event := self._queue.get()) is not None:
            try:
                for delay in (0.0, *self.retry_delays):
                    time.sleep(delay)
                    status = deliver(self.url, self.verifier_token, [event], fmt=self.fmt)
                    self.statuses.append(status)
                    if status == 200:
                        break
            finally:
                self._queue.task_done()
        self._queue.task_done()

    def flush(self) -> None:
        """Block until every queued notification was attempted."""
        self._queue.join()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)
