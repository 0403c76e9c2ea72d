"""``LookerSimulator``: a Looker instance (API 4.0) behind one real HTTP server on 127.0.0.1."""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request

from tests.fakes.looker.app import LookerApp
from tests.fakes.looker.auth import TokenBook
from tests.fakes.looker.config import LookerSimConfig
from tests.fakes.looker.datagroups import Datagroups
from tests.fakes.looker.faults import Injection, Injector
from tests.fakes.looker.pdt import PdtBuilds
from tests.fakes.looker.plans import ScheduledPlans
from tests.fakes.looker.sql import SqlRunner


@dataclass(frozen=True)
class LookerCall:
    """One call the server answered. ``token_live``: the token existed and had not expired or been logged out
    when the call arrived; ``at``: arrival on the monotonic clock."""

    method: str
    path: str  # without the query string
    query: dict[str, str] = field(compare=False)
    status: int
    token: str | None
    token_live: bool
    at: float


class _QuietHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"

    def log(self, type: str, message: str, *args: Any) -> None:
        """No per-request logging: the call log is ``LookerSimulator.calls``."""


class LookerSimulator:
    """The simulated Looker instance. Use as a context manager or call ``start``/``stop``."""

    def __init__(self, config: LookerSimConfig | None = None) -> None:
        self.config = config = config or LookerSimConfig()
        self.client_id = f"lookerSim{secrets.token_hex(6)}"
        self.client_secret = secrets.token_urlsafe(18)
        self.latency_seconds = config.latency_seconds
        self.tokens = TokenBook(self.client_id, self.client_secret, config.token_lifetime_seconds)
        self.injector = Injector()
        self.datagroup_state = Datagroups(config.models, on_trigger=self._datagroup_triggered)
        self.pdt = PdtBuilds(config.models)
        self.calls: list[LookerCall] = []
        self._calls_lock = threading.Lock()
        self._tmpdir: str | None = None
        if config.sql_database_path is None:
            self._tmpdir = tempfile.mkdtemp(prefix="looker-sim-")
            self.sql_database_path = str(Path(self._tmpdir) / "warehouse.sqlite")
        else:
            self.sql_database_path = config.sql_database_path
        self.sql = SqlRunner(self.sql_database_path, config.sql_connections, config.sql_errors_in_body)
        self.plans = ScheduledPlans(self.datagroup_state.names, config.run_once_per_second)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    def _datagroup_triggered(self, name: str) -> None:
        self.plans.run_on_datagroup(name)  # plans need the datagroup names: built after the datagroups

    # ---- lifecycle ---------------------------------------------------------------------------------
    def start(self, port: int = 0) -> None:
        """Serve on 127.0.0.1:``port`` (0: any free port) from a background thread."""
        if self._server is not None:
            raise RuntimeError("simulator already started")
        server = make_server("127.0.0.1", port, LookerApp(self), threaded=True, request_handler=_QuietHandler)
        self._server = server
        self.base_url = f"http://127.0.0.1:{server.port}"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="looker-sim", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> LookerSimulator:
        if self._server is None:
            self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def credentials(self) -> dict[str, str]:
        """What a client needs: the SDK's base_url (the API is below /api/4.0) and the API3 key pair."""
        return {"base_url": self.base_url, "client_id": self.client_id, "client_secret": self.client_secret}

    # ---- call log ----------------------------------------------------------------------------------
    def record(self, request: Request, status: int, token: str | None, live: bool, at: float) -> None:
        query = {key: str(value) for key, value in request.args.items()}
        with self._calls_lock:
            self.calls.append(LookerCall(request.method, request.path, query, status, token, live, at))

    def reset_calls(self) -> None:
        with self._calls_lock:
            self.calls.clear()

    def logins(self) -> int:
        """Successful /login calls since the start."""
        return self.tokens.logins

    # ---- knobs ---------------------------------------------------------------------------------------
    def inject(
        self,
        *,
        method: str | None = None,
        path_prefix: str | None = None,
        status: int = 500,
        times: int = 1,
        retry_after: float | None = None,
        body: Any = None,
    ) -> None:
        """Answer the next ``times`` calls matching ``method`` (None: any) and ``path_prefix`` (None: any,
        e.g. "/api/4.0/datagroups") with ``status``: Looker's error body unless ``body`` is given (dict/list:
        JSON; str/bytes: as is), plus ``Retry-After`` when ``retry_after`` is set. /login can be hit too."""
        self.injector.add(Injection(method, path_prefix, status, times, retry_after, body))

    def clear_injections(self) -> None:
        self.injector.clear()

    def set_latency(self, seconds: float) -> None:
        """Seconds added to every later call (including /login and errors)."""
        self.latency_seconds = seconds

    def expire_tokens(self) -> None:
        """End every issued token now: the next call with one answers 401."""
        self.tokens.expire_all()

    # ---- state as served -----------------------------------------------------------------------------
    def datagroups(self) -> list[dict[str, Any]]:
        return self.datagroup_state.all()

    @property
    def pdt_builds(self) -> list[dict[str, Any]]:
        """Builds started through the API: materialization_id, model, view, current status, force_rebuild,
        force_full_incremental, workspace, source, started_at (monotonic)."""
        return self.pdt.all()

    def scheduled_plans(self) -> list[dict[str, Any]]:
        """Stored plans as the API returns them (``secret_parameters`` never included)."""
        return self.plans.all()

    def plan_secrets(self, plan_id: str) -> list[str | None]:
        """The ``secret_parameters`` stored for each destination of a plan (the API never returns them)."""
        return self.plans.secrets(plan_id)

    @property
    def plan_runs(self) -> list[tuple[str, float]]:
        """(plan id, monotonic time) of every accepted run_once_by_id and run_once (whose transient plan
        gets an id of its own; its body is in ``run_once_bodies``)."""
        return list(self.plans.runs)

    @property
    def triggered_plan_runs(self) -> list[tuple[str, float]]:
        """(plan id, monotonic time) of plans scheduled on a datagroup, run when it was triggered."""
        return list(self.plans.triggered_runs)

    @property
    def run_once_bodies(self) -> list[dict[str, Any]]:
        return list(self.plans.run_once_bodies)

    def wait_idle(self, timeout: float = 5.0) -> None:
        """Sleep until no PDT build is still added or running (tests that want the final status)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(build["status"] not in {"added", "running"} for build in self.pdt.all()):
                return
            time.sleep(0.02)
