"""The HTTP face of the simulator: a WSGI application routing the Looker API 4.0 paths looker-sdk calls."""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from tests.fakes.looker.auth import token_from_header
from tests.fakes.looker.errors import (
    NOT_FOUND,
    REQUIRES_AUTH,
    LookerError,
    documentation_url,
    generic,
)
from tests.fakes.looker.faults import Injection

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from tests.fakes.looker.simulator import LookerSimulator

API = "/api/4.0"
JSON = "application/json"
# (endpoint, path below /api/4.0, method); the SDK's logout goes to /api/logout, without the version
ROUTES: list[tuple[str, str, str]] = [
    ("login", "/login", "POST"),
    ("logout", "/logout", "DELETE"),
    ("all_datagroups", "/datagroups", "GET"),
    ("datagroup", "/datagroups/<datagroup_id>", "GET"),
    ("update_datagroup", "/datagroups/<datagroup_id>", "PATCH"),
    ("start_pdt_build", "/derived_table/<model_name>/<view_name>/start", "GET"),
    ("check_pdt_build", "/derived_table/<materialization_id>/status", "GET"),
    ("stop_pdt_build", "/derived_table/<materialization_id>/stop", "GET"),
    ("all_scheduled_plans", "/scheduled_plans", "GET"),
    ("create_scheduled_plan", "/scheduled_plans", "POST"),
    ("scheduled_plan_run_once", "/scheduled_plans/run_once", "POST"),
    ("scheduled_plan", "/scheduled_plans/<scheduled_plan_id>", "GET"),
    ("update_scheduled_plan", "/scheduled_plans/<scheduled_plan_id>", "PATCH"),
    ("delete_scheduled_plan", "/scheduled_plans/<scheduled_plan_id>", "DELETE"),
    ("scheduled_plan_run_once_by_id", "/scheduled_plans/<scheduled_plan_id>/run_once", "POST"),
    ("create_sql_query", "/sql_queries", "POST"),
    ("sql_query", "/sql_queries/<slug>", "GET"),
    ("run_sql_query", "/sql_queries/<slug>/run/<result_format>", "POST"),
    ("all_connections", "/connections", "GET"),
    ("test_connection", "/connections/<connection_name>/test", "PUT"),
]
TEMPLATES = {endpoint: path for endpoint, path, _ in ROUTES}
URLS = Map(
    [Rule(API + path, endpoint=endpoint, methods=[method]) for endpoint, path, method in ROUTES]
    + [Rule("/api/logout", endpoint="logout", methods=["DELETE"])],
    strict_slashes=False,
)
PUBLIC = frozenset({"login"})


class Reply:
    """A handler's answer: JSON ``body`` (None with 204: empty), or raw ``text`` of ``content_type``."""

    def __init__(
        self, body: Any = None, status: int = 200, text: str | None = None, content_type: str = JSON
    ):
        self.body = body
        self.status = status
        self.text = text
        self.content_type = content_type

    def response(self) -> Response:
        if self.text is not None:
            return Response(self.text, status=self.status, content_type=self.content_type)
        if self.body is None and self.status == 204:
            return Response(b"", status=204)
        return Response(json.dumps(self.body), status=self.status, content_type=JSON)


Handler = Callable[[Request, dict[str, str]], Reply]


class LookerApp:
    """WSGI callable; all state lives in the simulator. Every call is logged, whatever its outcome."""

    def __init__(self, sim: LookerSimulator) -> None:
        self.sim = sim
        self.handlers: dict[str, Handler] = {
            "login": self._login,
            "logout": self._logout,
            "all_datagroups": lambda r, a: Reply(sim.datagroups()),
            "datagroup": lambda r, a: Reply(sim.datagroup_state.get(a["datagroup_id"])),
            "update_datagroup": lambda r, a: Reply(
                sim.datagroup_state.update(a["datagroup_id"], self._payload(r))
            ),
            "start_pdt_build": lambda r, a: Reply(
                sim.pdt.start(a["model_name"], a["view_name"], dict(r.args.items()))
            ),
            "check_pdt_build": lambda r, a: Reply(sim.pdt.check(a["materialization_id"])),
            "stop_pdt_build": lambda r, a: Reply(sim.pdt.stop(a["materialization_id"])),
            "all_scheduled_plans": lambda r, a: Reply(sim.plans.all(r.args.get("fields"))),
            "create_scheduled_plan": lambda r, a: Reply(sim.plans.create(self._payload(r))),
            "scheduled_plan_run_once": lambda r, a: Reply(sim.plans.run_once(self._payload(r))),
            "scheduled_plan": lambda r, a: Reply(sim.plans.get(a["scheduled_plan_id"], r.args.get("fields"))),
            "update_scheduled_plan": lambda r, a: Reply(
                sim.plans.update(a["scheduled_plan_id"], self._payload(r))
            ),
            "delete_scheduled_plan": self._delete_plan,
            "scheduled_plan_run_once_by_id": lambda r, a: Reply(
                sim.plans.run_once_by_id(a["scheduled_plan_id"])
            ),
            "create_sql_query": lambda r, a: Reply(sim.sql.create(self._payload(r))),
            "sql_query": lambda r, a: Reply(sim.sql.get(a["slug"])),
            "run_sql_query": self._run_sql,
            "all_connections": lambda r, a: Reply(sim.sql.all_connections()),
            "test_connection": lambda r, a: Reply(sim.sql.test(a["connection_name"], r.args.get("tests"))),
        }

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        arrived = time.monotonic()
        token = token_from_header(request.headers.get("Authorization"), request.args.get("access_token"))
        live = self.sim.tokens.is_live(token)
        method, template = request.method, request.path
        try:
            endpoint, args = URLS.bind_to_environ(environ).match()
            template = TEMPLATES.get(str(endpoint), "/logout")
            response = self._answer(request, str(endpoint), {k: str(v) for k, v in args.items()}, live)
        except HTTPException:  # unknown path or method: Looker answers 404 Not found
            template = template.removeprefix(API)
            injection = self._delay_and_inject(request)
            if injection is not None:
                response = self._injected(injection, method, template)
            else:
                response = self._error(LookerError(404, NOT_FOUND), method, template)
        self.sim.record(request, response.status_code, token, live, arrived)
        return response(environ, start_response)

    def _delay_and_inject(self, request: Request) -> Injection | None:
        latency = self.sim.latency_seconds
        if latency > 0:
            time.sleep(latency)
        return self.sim.injector.take(request.method, request.path)

    def _answer(self, request: Request, endpoint: str, args: dict[str, str], live: bool) -> Response:
        template = TEMPLATES.get(endpoint, "/logout")
        injection = self._delay_and_inject(request)
        if injection is not None:
            return self._injected(injection, request.method, template)
        if endpoint not in PUBLIC and not live:
            return self._error(LookerError(401, REQUIRES_AUTH), request.method, template)
        try:
            return self.handlers[endpoint](request, args).response()
        except LookerError as error:
            return self._error(error, request.method, template)
        except Exception as exc:  # a simulator bug: answer 500 and keep serving
            traceback.print_exc()
            return self._error(LookerError(500, f"Simulator error: {exc!r}"), request.method, template)

    @staticmethod
    def _error(error: LookerError, method: str, template: str) -> Response:
        response = Response(json.dumps(error.body(method, template)), status=error.status, content_type=JSON)
        for name, value in error.headers.items():
            response.headers[name] = value
        return response

    def _injected(self, injection: Injection, method: str, template: str) -> Response:
        body = injection.body
        if body is None:
            response = self._error(generic(injection.status), method, template)
        elif isinstance(body, (bytes, str)):
            response = Response(body, status=injection.status, content_type=JSON)
        else:
            response = Response(json.dumps(body), status=injection.status, content_type=JSON)
        if injection.retry_after is not None:
            response.headers["Retry-After"] = f"{injection.retry_after:g}"
        return response

    @staticmethod
    def _payload(request: Request) -> Any:
        data = request.get_data()
        if not data.strip():
            return {}
        try:
            return json.loads(data)
        except ValueError as exc:
            raise LookerError(400, f"Could not parse the JSON body: {exc}") from exc

    def _delete_plan(self, request: Request, args: dict[str, str]) -> Reply:
        self.sim.plans.delete(args["scheduled_plan_id"])
        return Reply(status=204)

    def _run_sql(self, request: Request, args: dict[str, str]) -> Reply:
        rows, text, content_type = self.sim.sql.run(args["slug"], args["result_format"])
        if text is not None:
            return Reply(text=text, content_type=content_type)
        return Reply(rows)

    # ---- authentication ------------------------------------------------------------------------------
    def _login(self, request: Request, args: dict[str, str]) -> Reply:
        """Form fields (or query parameters) client_id and client_secret; wrong ones: 404 Not found."""
        client_id = request.form.get("client_id") or request.args.get("client_id")
        client_secret = request.form.get("client_secret") or request.args.get("client_secret")
        issued = self.sim.tokens.login(client_id, client_secret)
        if issued is None:
            raise LookerError(404, NOT_FOUND)
        token, expires_in = issued
        return Reply({"access_token": token, "token_type": "Bearer", "expires_in": expires_in})

    def _logout(self, request: Request, args: dict[str, str]) -> Reply:
        token = token_from_header(request.headers.get("Authorization"), request.args.get("access_token"))
        if token is not None:
            self.sim.tokens.logout(token)
        return Reply(status=204)


__all__ = ["API", "URLS", "LookerApp", "Reply", "documentation_url"]
