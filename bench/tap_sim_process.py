"""The QBO simulator in its own process (so it does not share a core or the GIL with the tap),
driven over a multiprocessing pipe by the tap benchmark."""

from __future__ import annotations

import multiprocessing
import typing as t
from dataclasses import dataclass
from multiprocessing.connection import Connection

from tests.fakes.qbo import QboSimulator, SimConfig


@dataclass(frozen=True)
class SimHandle:
    """What the benchmark needs to know about a running simulator."""

    base_url: str
    token_url: str
    client_id: str
    client_secret: str
    realm_ids: list[str]
    seeds: dict[str, str]


def _serve(conn: Connection, config: dict[str, t.Any]) -> None:
    sim = QboSimulator(SimConfig(**config))
    sim.start(port=0)
    conn.send(
        SimHandle(
            base_url=sim.base_url,
            token_url=sim.token_url,
            client_id=sim.client_id,
            client_secret=sim.client_secret,
            realm_ids=list(sim.realm_ids),
            seeds={realm: sim.current_refresh_token(realm) for realm in sim.realm_ids},
        )
    )
    try:
        while True:
            command, args = conn.recv()
            if command == "stop":
                break
            conn.send(_handle(sim, command, args))
    finally:
        sim.stop()


def _handle(sim: QboSimulator, command: str, args: tuple[t.Any, ...]) -> t.Any:
    if command == "reset_requests":
        sim.reset_requests()
        return None
    if command == "data_requests":
        return sim.data_requests(*args)
    if command == "set_latency":
        sim.latency = float(args[0])
        return None
    if command == "mutate":
        realm, entity, count = args
        ids = [r["Id"] for _, r in zip(range(count), sim.iter_records(realm, entity), strict=False)]
        for record_id in ids:
            sim.update(realm, entity, record_id, {"PrivateNote": "bench touch"})
        return len(ids)
    if command == "count":
        return sim.count(*args)
    raise ValueError(command)


class SimProcess:
    """Start with `with SimProcess(records_per_company=...) as sim:`; `sim.call(...)` runs a command."""

    def __init__(self, **config: t.Any) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, config), daemon=True)
        self._process.start()
        self.handle: SimHandle = self._conn.recv()

    def call(self, command: str, *args: t.Any) -> t.Any:
        self._conn.send((command, args))
        return self._conn.recv()

    def __enter__(self) -> SimProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self._conn.send(("stop", ()))
        self._process.join(30)
