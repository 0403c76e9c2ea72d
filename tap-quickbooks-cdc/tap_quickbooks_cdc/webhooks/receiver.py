"""The webhook receiver: a Starlette app with `POST /webhooks/quickbooks` and `GET /healthz`.

Order of work for a delivery, and why:
1. Size first: a `Content-Length` over `webhook_max_body_bytes` is answered 413 before a byte of the body is
   read, and a body without one (chunked) is read with a running limit, so nobody can make the receiver hold
   more than the limit in memory.
2. Signature next, on the raw bytes and in constant time (`hmac.compare_digest`), before any parsing: an
   unsigned body never reaches the JSON parser. Missing or wrong: 401, nothing stored.
3. Parse (400 for malformed JSON or a wrong shape), drop events of unknown realms (acknowledged so Intuit
   stops retrying; logged once per realm), store the rest in one inbox transaction (in a worker thread, so
   a slow commit does not stall the event loop), and only then answer 200. A failed commit is 503: Intuit
   retries, and the unique event key collapses the retry into the row if the commit did land.

Log lines are JSON objects (`logs.JsonFormatter`) that carry counts, realms, entity names and timings, never
the verifier token, the signature or a body.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import logging
import threading
import time
import typing as t

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tap_quickbooks_cdc.webhooks.inbox import Inbox, InboxError, describe
from tap_quickbooks_cdc.webhooks.payloads import PayloadError, parse_body

if t.TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from tap_quickbooks_cdc.webhooks.config import ReceiverSettings

PATH = "/webhooks/quickbooks"
SIGNATURE_HEADER = "intuit-signature"
logger = logging.getLogger("tap_quickbooks_cdc.webhooks")


class BodyTooLargeError(Exception):
    """The body is over `webhook_max_body_bytes`."""


def signature_of(body: bytes, verifier_token: str) -> bytes:
    """base64(HMAC-SHA256(key=verifier token, msg=raw body)), as Intuit computes `intuit-signature`."""
    return base64.b64encode(hmac.new(verifier_token.encode(), body, hashlib.sha256).digest())


def signature_matches(body: bytes, header: str | None, verifier_token: str) -> bool:
    """Constant-time comparison of the header with the expected signature (a missing header never matches)."""
    if not header:
        return False
    return hmac.compare_digest(signature_of(body, verifier_token), header.strip().encode("ascii", "replace"))


async def read_limited(request: Request, limit: int) -> bytes:
    """The whole body, or BodyTooLargeError as soon as it passes `limit` (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise BodyTooLargeError
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError
        chunks.append(chunk)
    return b"".join(chunks)


class Receiver:
    """The request handlers and what they share: settings, inbox, and the realms already logged as unknown."""

    def __init__(self, settings: ReceiverSettings, inbox: Inbox) -> None:
        self.settings = settings
        self.inbox = inbox
        self._unknown_realms: set[str] = set()
        self._lock = threading.Lock()

    def _answer(self, status: int, outcome: str, started: float, **fields: t.Any) -> JSONResponse:
        elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
        level = logging.INFO if status == 200 else logging.WARNING
        logger.log(level, outcome, extra={"fields": {"status": status, "ms": elapsed_ms, **fields}})
        body = {"status": "ok" if status == 200 else "refused", "outcome": outcome, **fields}
        return JSONResponse(body, status_code=status)

    async def webhook(self, request: Request) -> JSONResponse:
        started = time.perf_counter()
        try:
            raw = await read_limited(request, self.settings.max_body_bytes)
        except BodyTooLargeError:
            return self._answer(
                413, "body over webhook_max_body_bytes", started, limit=self.settings.max_body_bytes
            )
        except ClientDisconnect:
            return self._answer(400, "client disconnected before the body ended", started)
        if not signature_matches(raw, request.headers.get(SIGNATURE_HEADER), self.settings.verifier_token):
            missing = SIGNATURE_HEADER not in request.headers
            return self._answer(401, f"{'missing' if missing else 'bad'} {SIGNATURE_HEADER}", started)
        try:
            events = parse_body(raw)
        except PayloadError as exc:
            return self._answer(400, f"malformed notification: {exc}", started)
        known = [e for e in events if e.realm_id in self.settings.realm_ids]
        self._log_unknown_realms({e.realm_id for e in events} - self.settings.realm_ids)
        try:
            new = await run_in_threadpool(self.inbox.add, known)
        except InboxError as exc:
            logger.error("%s", exc)
            return self._answer(503, "inbox unavailable, retry later", started)
        return self._answer(
            200,
            "accepted",
            started,
            events=len(events),
            stored=new,
            duplicates=len(known) - new,
            ignored=len(events) - len(known),
            realms=sorted({e.realm_id for e in events}),
        )

    def _log_unknown_realms(self, realms: set[str]) -> None:
        with self._lock:
            fresh = sorted(realms - self._unknown_realms)
            self._unknown_realms.update(fresh)
        for realm in fresh:
            logger.warning(
                "events for a realm not in 'companies' are acknowledged and dropped: add the company to "
                "receive them",
                extra={"fields": {"realm_id": realm}},
            )

    async def healthz(self, request: Request) -> JSONResponse:
        try:
            await run_in_threadpool(self.inbox.ping)
        except InboxError:
            return JSONResponse({"status": "inbox unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})


def create_app(settings: ReceiverSettings, inbox: Inbox) -> Starlette:
    """The ASGI app; the inbox is closed when the server shuts down (after in-flight requests finished)."""
    receiver = Receiver(settings, inbox)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        logger.info(
            "receiver ready",
            extra={"fields": {"inbox": describe(settings.inbox), "realms": sorted(settings.realm_ids)}},
        )
        try:
            yield
        finally:
            await run_in_threadpool(inbox.close)
            logger.info("receiver stopped, inbox closed")

    return Starlette(
        routes=[
            Route(PATH, receiver.webhook, methods=["POST"]),
            Route("/healthz", receiver.healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
