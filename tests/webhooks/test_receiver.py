"""The real receiver process against the simulator's signed webhook sender (tests/fakes/qbo/webhooks.py)."""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import signal
import socket
import sqlite3
import subprocess
import time
import typing as t
import uuid
from pathlib import Path

import pytest
import requests

from tests.fakes.qbo.simulator import QboSimulator
from tests.fakes.qbo.webhooks import WebhookEvent, build_body, deliver, sign
from tests.services import HOST, PostgresServer
from tests.webhooks.harness import (
    REALMS,
    RECEIVER_EXECUTABLE,
    SECRETS,
    VERIFIER_TOKEN,
    Receiver,
    receiver_config,
    running_receiver,
    start_receiver,
    stored,
)

REALM = REALMS[0]
SMALL_LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[Receiver]:
    """One receiver for the tests that only add events with their own Ids (body limit 64 KiB)."""
    work = tmp_path_factory.mktemp("receiver")
    config = receiver_config(str(work / "inbox.sqlite"), webhook_max_body_bytes=SMALL_LIMIT)
    with running_receiver(config, work) as running:
        yield running


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _rows_for(receiver: Receiver, entity_id: str) -> int:
    return sum(1 for event in stored(receiver.inbox) if event.entity_id == entity_id)


def _post(receiver: Receiver, body: bytes, signature: str | None, **kwargs: t.Any) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["intuit-signature"] = signature
    return requests.post(receiver.url, data=body, headers=headers, timeout=5, **kwargs)


def _raw_exchange(port: int, head: bytes, body_part: bytes, *, half_close: bool) -> bytes:
    """Send a request head and part of its body over a plain socket; what the server answers (may be b"")."""
    with socket.create_connection((HOST, port), timeout=5) as sock:
        sock.sendall(head + body_part)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
                if b"\r\n\r\n" in answer and not half_close:
                    break
        except (ConnectionResetError, TimeoutError):
            pass
        return answer


@pytest.mark.parametrize("fmt", ["legacy", "cloudevents"])
def test_a_signed_delivery_of_either_format_is_stored_once_with_its_action(
    receiver: Receiver, fmt: str
) -> None:
    updated, deleted = _unique("inv"), _unique("bill")
    events = [
        WebhookEvent(REALM, "Invoice", updated, "Update"),
        WebhookEvent(REALM, "Bill", deleted, "Delete"),
    ]
    assert deliver(receiver.url, VERIFIER_TOKEN, events, fmt=fmt) == 200
    rows = {e.entity_id: e for e in stored(receiver.inbox) if e.entity_id in {updated, deleted}}
    assert sorted(rows) == sorted([updated, deleted])
    assert (rows[updated].entity, rows[updated].operation, rows[updated].action) == (
        "Invoice",
        "Update",
        "fetch",
    )
    assert (rows[deleted].entity, rows[deleted].operation, rows[deleted].action) == (
        "Bill",
        "Delete",
        "delete",
    )
    assert {rows[updated].source_format, rows[deleted].source_format} == {fmt}


@pytest.mark.parametrize("fmt", ["legacy", "cloudevents"])
def test_the_same_delivery_sent_five_times_is_stored_once(receiver: Receiver, fmt: str) -> None:
    record_id = _unique("inv")
    body = build_body([WebhookEvent(REALM, "Invoice", record_id, "Update")], fmt)
    statuses = [_post(receiver, body, sign(body, VERIFIER_TOKEN)).status_code for _ in range(5)]
    assert statuses == [200] * 5
    assert _rows_for(receiver, record_id) == 1


def test_duplicated_and_reordered_deliveries_are_stored_once_each(receiver: Receiver) -> None:
    ids = [_unique("inv") for _ in range(3)]
    events = [WebhookEvent(REALM, "Invoice", record_id, "Update") for record_id in ids]
    assert deliver(receiver.url, VERIFIER_TOKEN, events, duplicate=True, reorder=True) == 200
    assert [_rows_for(receiver, record_id) for record_id in ids] == [1, 1, 1]


def _signed_body(record_id: str) -> bytes:
    return build_body([WebhookEvent(REALM, "Invoice", record_id, "Update")], "legacy")


def _oversized_body(record_id: str) -> bytes:
    events = [WebhookEvent(REALM, "Invoice", f"{record_id}-{n}", "Update") for n in range(1500)]
    body = build_body(events, "legacy")
    assert len(body) > SMALL_LIMIT
    return body


SIGNED = "<a valid signature of exactly the bytes sent>"
REFUSALS: dict[str, tuple[t.Callable[[str], tuple[bytes, str | None]], int]] = {
    "bad signature": (
        lambda rid: (_signed_body(rid), sign(_signed_body(rid), "not-the-verifier-token")),
        401,
    ),
    "signature of another body": (lambda rid: (_signed_body(rid), sign(b"{}", VERIFIER_TOKEN)), 401),
    "missing signature": (lambda rid: (_signed_body(rid), None), 401),
    "empty signature": (lambda rid: (_signed_body(rid), ""), 401),
    "truncated body, signature of the whole": (
        lambda rid: (_signed_body(rid)[:-7], sign(_signed_body(rid), VERIFIER_TOKEN)),
        401,
    ),
    "truncated body, signed as sent": (lambda rid: (_signed_body(rid)[:-7], SIGNED), 400),
    "garbage bytes, signed": (lambda rid: (b"\xff\xfe\x00garbage" + rid.encode(), SIGNED), 400),
    "garbage bytes, unsigned": (lambda rid: (b"\xff\xfe\x00garbage" + rid.encode(), "AAAA"), 401),
    "wrong shape, signed": (
        lambda rid: (b'{"eventNotifications": [{"realmId": "' + REALM.encode() + b'"}]}', SIGNED),
        400,
    ),
    "an entity without an id, signed": (
        lambda rid: (_signed_body(rid).replace(b'"id"', b'"Id"'), SIGNED),
        400,
    ),
    "a CloudEvent without a type, signed": (
        lambda rid: (
            build_body([WebhookEvent(REALM, "Invoice", rid)], "cloudevents").replace(b'"type"', b'"kind"'),
            SIGNED,
        ),
        400,
    ),
    "oversized body, signed": (lambda rid: (_oversized_body(rid), SIGNED), 413),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_refused_delivery_gets_its_status_and_stores_nothing(receiver: Receiver, case: str) -> None:
    make, expected = REFUSALS[case]
    record_id = _unique("refused")
    body, signature = make(record_id)
    if signature == SIGNED:
        signature = sign(body, VERIFIER_TOKEN)
    before = len(stored(receiver.inbox))
    answer = _post(receiver, body, signature)
    assert answer.status_code == expected, answer.text
    assert len(stored(receiver.inbox)) == before


def test_an_oversized_chunked_body_is_refused_413_while_streaming(receiver: Receiver) -> None:
    body = _oversized_body(_unique("chunked"))
    before = len(stored(receiver.inbox))
    pieces = (body[i : i + 4096] for i in range(0, len(body), 4096))  # a generator: sent chunked
    try:
        status = _post(receiver, pieces, sign(body, VERIFIER_TOKEN)).status_code  # type: ignore[arg-type]
    except requests.ConnectionError:  # the server may close before the client finished sending
        status = 413
    assert status == 413
    assert len(stored(receiver.inbox)) == before


def test_an_oversized_content_length_is_refused_without_reading_the_body(receiver: Receiver) -> None:
    declared = 50 * 1024 * 1024
    head = (
        f"POST /webhooks/quickbooks HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
        f"intuit-signature: AAAA\r\nContent-Length: {declared}\r\n\r\n"
    ).encode()
    started = time.monotonic()
    answer = _raw_exchange(receiver.port, head, b"[" * 100, half_close=False)  # 100 of 50 MiB sent
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - started < 3


def test_a_body_cut_off_by_the_client_stores_nothing_and_the_receiver_keeps_serving(
    receiver: Receiver,
) -> None:
    body = _signed_body(_unique("cut"))
    head = (
        f"POST /webhooks/quickbooks HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
        f"intuit-signature: {sign(body, VERIFIER_TOKEN)}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    before = len(stored(receiver.inbox))
    _raw_exchange(receiver.port, head, body[: len(body) // 2], half_close=True)
    assert len(stored(receiver.inbox)) == before
    assert requests.get(f"{receiver.base_url}/healthz", timeout=5).status_code == 200


def test_wrong_methods_get_405(receiver: Receiver) -> None:
    assert requests.get(receiver.url, timeout=5).status_code == 405
    assert requests.put(receiver.url, data=b"{}", timeout=5).status_code == 405
    assert requests.post(f"{receiver.base_url}/healthz", timeout=5).status_code == 405


def test_an_unknown_realm_is_acknowledged_logged_once_and_not_stored(receiver: Receiver) -> None:
    stranger = "4620816365" + uuid.uuid4().hex[:4].translate(str.maketrans("abcdef", "123456"))
    record_id = _unique("stranger")
    for _ in range(3):
        assert deliver(receiver.url, VERIFIER_TOKEN, [WebhookEvent(stranger, "Invoice", record_id)]) == 200
    assert not any(e.entity_id == record_id for e in stored(receiver.inbox, [stranger, *REALMS]))
    warnings = [line for line in receiver.log_lines() if line.get("realm_id") == stranger]
    assert len(warnings) == 1
    assert "not in 'companies'" in warnings[0]["message"]


def test_the_200_waits_for_the_inbox_commit(receiver: Receiver) -> None:
    record_id = _unique("commit")
    body = _signed_body(record_id)
    with contextlib.closing(sqlite3.connect(receiver.inbox, isolation_level=None)) as locker:
        locker.execute("BEGIN IMMEDIATE")  # another writer (a tap run marking events done) holds the lock
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            answer = pool.submit(_post, receiver, body, sign(body, VERIFIER_TOKEN))
            time.sleep(0.8)
            assert not answer.done()  # nothing is acknowledged while its commit cannot happen
            locker.execute("COMMIT")
            assert answer.result(timeout=10).status_code == 200
    assert _rows_for(receiver, record_id) == 1


def test_sigkill_right_after_a_200_keeps_the_event_for_the_next_start(tmp_path: Path) -> None:
    config = receiver_config(str(tmp_path / "inbox.sqlite"))
    ids = [f"killed-{n}" for n in range(20)]
    first = start_receiver(config, tmp_path)
    try:
        statuses = [
            deliver(first.url, VERIFIER_TOKEN, [WebhookEvent(REALM, "Invoice", i, "Create")]) for i in ids
        ]
        first.stop(signal.SIGKILL)  # right after the last 200
    finally:
        first.stop(signal.SIGKILL)
    assert statuses == [200] * len(ids)
    with running_receiver(config, tmp_path) as second:
        assert [e.entity_id for e in stored(second.inbox)] == ids


def test_sigterm_lets_a_delivery_in_flight_finish_and_keeps_its_event(tmp_path: Path) -> None:
    config = receiver_config(str(tmp_path / "inbox.sqlite"))
    body = _signed_body("in-flight-1")
    head = (
        f"POST /webhooks/quickbooks HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
        f"intuit-signature: {sign(body, VERIFIER_TOKEN)}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with running_receiver(config, tmp_path) as running:
        with socket.create_connection((HOST, running.port), timeout=10) as sock:
            sock.sendall(head + body[:20])
            time.sleep(0.3)  # the request is in flight: the server is reading its body
            running.proc.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            sock.sendall(body[20:])
            answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        assert running.proc.wait(timeout=30) in {
            0,
            -signal.SIGTERM,
        }  # uvicorn re-raises the signal it handled
        assert "receiver stopped, inbox closed" in running.output()
    assert [e.entity_id for e in stored(config["webhook_inbox"])] == ["in-flight-1"]


def _new_database(server: PostgresServer) -> str:
    """A fresh database on `server` (owned by its role): a URI for an empty inbox."""
    import psycopg
    from psycopg import sql

    dbname = f"inbox_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server.admin_conninfo, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(dbname), sql.Identifier(server.user))
        )
    return server.uri.rsplit("/", 1)[0] + "/" + dbname


def test_two_receivers_on_one_postgresql_inbox_store_each_event_once(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    """Each receiver gets every delivery, the second in reverse event order (Intuit reorders): their
    transactions insert the same keys in opposite orders at the same time, and neither may fail."""
    uri = _new_database(postgres_server)
    config = receiver_config(uri)
    batches = [
        [
            WebhookEvent(REALMS[n % 2], "Invoice", f"pg-{n}-{e}", "Update", "2026-11-20T10:00:00.000Z")
            for e in range(8)
        ]
        for n in range(30)
    ]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with running_receiver(config, tmp_path / "a") as one, running_receiver(config, tmp_path / "b") as two:

        def send(job: tuple[Receiver, list[WebhookEvent]]) -> int:
            target, events = job
            body = build_body(events if target is one else events[::-1], "legacy")
            return _post(target, body, sign(body, VERIFIER_TOKEN)).status_code

        with concurrent.futures.ThreadPoolExecutor(12) as pool:
            statuses = list(pool.map(send, [(r, b) for b in batches for r in (one, two)]))
        output = one.output() + two.output()
    assert statuses == [200] * 60, [line for line in output.splitlines() if '"error"' in line][:3]
    ids = sorted(e.entity_id for e in stored(uri))
    assert ids == sorted(f"pg-{n}-{e}" for n in range(30) for e in range(8))
    assert postgres_server.password not in output


def test_the_receivers_output_never_shows_a_secret_or_a_signature(tmp_path: Path) -> None:
    config = receiver_config(str(tmp_path / "inbox.sqlite"))
    body = _signed_body("secret-check")
    signature = sign(body, VERIFIER_TOKEN)
    with running_receiver(config, tmp_path, "--log-level", "debug") as running:
        assert _post(running, body, signature).status_code == 200
        assert _post(running, body, sign(body, "wrong")).status_code == 401
        assert _post(running, b"not json", sign(b"not json", VERIFIER_TOKEN)).status_code == 400
        assert running.stop(signal.SIGTERM) in {0, -signal.SIGTERM}
        output = running.output()
    assert "accepted" in output
    for secret in (*SECRETS, signature, sign(body, "wrong")):
        assert secret not in output
    assert "Invoice" not in output or "secret-check" not in output  # no body in the log


def test_the_receiver_started_as_meltano_does_reads_its_settings_from_the_environment(tmp_path: Path) -> None:
    config = receiver_config(str(tmp_path / "inbox.sqlite"), webhook_max_body_bytes=4096)
    running = start_receiver(config, tmp_path, from_environment=True)
    try:
        assert (
            deliver(running.url, VERIFIER_TOKEN, [WebhookEvent(REALMS[1], "Bill", "env-1", "Create")]) == 200
        )
        assert _post(running, _oversized_body("env"), "AAAA").status_code == 413  # 4096, from the variable
    finally:
        running.stop(signal.SIGKILL)
    assert [e.entity_id for e in stored(config["webhook_inbox"])] == ["env-1"]


def test_a_bad_config_ends_the_receiver_with_one_line_and_no_secret(tmp_path: Path) -> None:
    config = {**receiver_config(str(tmp_path / "i.sqlite")), "webhook_verifier_token": ""}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(config))
    done = subprocess.run(
        [RECEIVER_EXECUTABLE, "serve", "--config", str(path), "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert errors == [
        "Error: Missing setting 'webhook_verifier_token': copy the verifier token from the Intuit app's "
        "Webhooks page."
    ], done.stderr
    assert "Traceback" not in done.stderr
    for secret in SECRETS:
        assert secret not in done.stderr + done.stdout


@pytest.mark.parametrize("fmt", ["legacy", "cloudevents"])
def test_the_simulators_mutations_reach_the_inbox_once_each_with_their_actions(
    tmp_path: Path, qbo_sim: QboSimulator, fmt: str
) -> None:
    realm = qbo_sim.realm_ids[0]
    companies = [{"realm_id": realm, "refresh_token": "seed"}]
    config = receiver_config(str(tmp_path / "inbox.sqlite"), companies=companies)
    with running_receiver(config, tmp_path) as running:
        qbo_sim.configure_webhooks(running.url, VERIFIER_TOKEN, fmt)
        qbo_sim.update(realm, "Invoice", "1", {"PrivateNote": "changed"})
        qbo_sim.void(realm, "Invoice", "2")
        qbo_sim.delete(realm, "Bill", "1")
        assert qbo_sim.webhook_emitter is not None
        qbo_sim.webhook_emitter.flush()
        assert qbo_sim.webhook_emitter.statuses == [200, 200, 200]
        qbo_sim.configure_webhooks(None)
        rows = [(e.entity, e.entity_id, e.operation, e.action) for e in stored(running.inbox, [realm])]
    assert rows == [
        ("Invoice", "1", "Update", "fetch"),
        ("Invoice", "2", "Void", "fetch"),
        ("Bill", "1", "Delete", "delete"),
    ]


def test_a_postgresql_crash_after_a_200_keeps_the_event_and_an_outage_is_503_until_it_is_back(
    tmp_path: Path, durable_postgres_server: PostgresServer
) -> None:
    """The durable cluster commits asynchronously by default and writes its WAL only every 10 s: an event
    acknowledged on such a commit is lost by a crash. The receiver asks for synchronous commits, replaces
    the connections a restart killed without a 503, and answers 503 while the database refuses it."""
    import psycopg

    server = durable_postgres_server
    uri = _new_database(server)
    dbname = uri.rsplit("/", 1)[1]
    config = receiver_config(uri)

    def send(record_id: str) -> int:
        return deliver(running.url, VERIFIER_TOKEN, [WebhookEvent(REALM, "Invoice", record_id)])

    with running_receiver(config, tmp_path) as running:
        assert send("pg-crash-1") == 200
        server.crash()
        server.start()
        assert send("pg-after-restart-1") == 200  # its pooled connection died with the server
        with psycopg.connect(server.admin_conninfo, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS false')
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (dbname,)
            )
            assert send("pg-refused-1") == 503
            admin.execute(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS true')
        assert send("pg-refused-1") == 200  # Intuit's retry
        output = running.output()
    assert sorted(e.entity_id for e in stored(uri)) == ["pg-after-restart-1", "pg-crash-1", "pg-refused-1"]
    assert server.password not in output
