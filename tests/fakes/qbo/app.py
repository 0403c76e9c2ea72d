"""The HTTP face of the simulator: a WSGI application routing Intuit's endpoints and the admin API."""

from __future__ import annotations

import json
import secrets
import socket
import time
import traceback
from collections.abc import Callable, Iterable
from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import orjson
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from tests.fakes.qbo.admin import handle_admin
from tests.fakes.qbo.batch import run_batch
from tests.fakes.qbo.company_info import company_info
from tests.fakes.qbo.faults import (
    JSON,
    THROTTLE_XML,
    XML,
    FaultResponse,
    authentication_failed,
    authorization_failed,
    fault_bytes,
    throttled,
    validation,
)
from tests.fakes.qbo.limits import Injection
from tests.fakes.qbo.timefmt import LocalClock, offset_for_company

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from tests.fakes.qbo.simulator import QboSimulator

URLS = Map(
    [
        Rule("/oauth2/v1/tokens/bearer", endpoint="token", methods=["POST"]),
        Rule("/connect/oauth2", endpoint="authorize", methods=["GET"]),
        Rule("/v3/company/<realm>/query", endpoint="query", methods=["GET", "POST"]),
        Rule("/v3/company/<realm>/cdc", endpoint="cdc", methods=["GET"]),
        Rule("/v3/company/<realm>/batch", endpoint="batch", methods=["POST"]),
        Rule("/v3/company/<realm>/<entity>/<record_id>", endpoint="read", methods=["GET"]),
        Rule("/v3/company/<realm>/<entity>", endpoint="write", methods=["POST"]),
        Rule("/admin/<path:rest>", endpoint="admin", methods=["GET", "POST", "DELETE"]),
    ],
    strict_slashes=False,
)
DATA_KINDS = frozenset({"query", "cdc", "read", "write", "batch"})
_UTC_CLOCK = LocalClock(offset_for_company(7))
APP_ERROR = "An application error has occurred while processing your request"


class DroppedConnection(Exception):
    """Close the client's socket without answering."""


class QboApp:
    """WSGI callable; all state lives in the simulator."""

    def __init__(self, sim: QboSimulator) -> None:
        self.sim = sim

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        adapter = URLS.bind_to_environ(environ)
        kind, realm, status = "other", None, 0
        try:
            endpoint, args = adapter.match()
            kind = str(endpoint)
            realm = args.get("realm")
            response = self._dispatch(request, kind, dict(args))
        except DroppedConnection:
            self.sim.record(request.method, request.path, realm, kind, 0)
            sock = environ.get("werkzeug.socket")
            if isinstance(sock, socket.socket):
                sock.shutdown(socket.SHUT_RDWR)
            raise ConnectionResetError("simulated dropped connection") from None
        except (NotFound, MethodNotAllowed) as exc:
            response = self._fault(
                validation(f"No such endpoint {request.method} {request.path}", "404"), None
            )
            response.status_code = exc.code or 404
        except HTTPException as exc:
            response = Response(exc.description or "", status=exc.code or 400)
        except Exception as exc:  # a simulator bug: answer like Intuit's system fault and keep serving
            traceback.print_exc()
            error = FaultResponse(500, "10000", APP_ERROR, f"Simulator error: {exc!r}", "SystemFault")
            response = self._fault(error, None)
        status = response.status_code
        self.sim.record(request.method, request.path, realm, kind, status)
        return response(environ, start_response)

    # ---- helpers -----------------------------------------------------------------------------------
    def _now_text(self, realm: str | None) -> str:
        stores = self.sim.stores
        clock = stores[realm].company.clock if realm in stores else _UTC_CLOCK
        return clock.millis(self.sim.now())

    def _fault(self, fault: FaultResponse, realm: str | None) -> Response:
        return self._json(fault_bytes(fault, self._now_text(realm)), fault.status)

    def _json(self, body: bytes, status: int = 200) -> Response:
        response = Response(body, status=status, content_type=JSON)
        response.headers["intuit_tid"] = secrets.token_hex(16)
        return response

    def _dispatch(self, request: Request, kind: str, args: dict[str, Any]) -> Response:
        if kind == "admin":
            return handle_admin(self.sim, request, str(args["rest"]))
        if kind == "token":
            return self._token(request)
        if kind == "authorize":
            return self._authorize(request)
        return self._data(request, kind, args)

    def _injected(self, injection: Injection, realm: str | None) -> Response | None:
        """Apply an injected fault; ``None`` means carry on normally (after any delay)."""
        if injection.delay or injection.fault == "slow":
            time.sleep(injection.delay or 2.0)
        fault = injection.fault
        if fault == "slow":
            return None
        if fault == "drop":
            raise DroppedConnection
        if fault == "http500":
            error = FaultResponse(500, "10000", APP_ERROR, "System Failure Error: simulated", "SystemFault")
            return self._fault(error, realm)
        if fault in {"http502", "http503"}:
            status = int(fault[4:])
            text = "Bad Gateway" if status == 502 else "Service Unavailable"
            return Response(
                f"<html><body><h1>{status} {text}</h1></body></html>", status=status, content_type="text/html"
            )
        if fault == "http429":
            return self._fault(throttled(), realm)
        if fault == "http429_xml":
            return self._xml_throttle(realm)
        if fault == "fault200":
            error = FaultResponse(
                200, "10000", APP_ERROR, "System Failure Error: fault in a 200", "SystemFault"
            )
            return self._fault(error, realm)
        if fault == "fault6002":
            error = FaultResponse(
                504, "6002", "Gateway Timeout", "The request timed out at the gateway", "SystemFault"
            )
            return self._fault(error, realm)
        return Response(b'{"QueryResponse":{"Invoice":[{"Id":"1","SyncTok', status=200, content_type=JSON)

    def _xml_throttle(self, realm: str | None) -> Response:
        body = THROTTLE_XML.replace(b"{time}", self._now_text(realm).encode())
        return Response(body, status=429, content_type=XML)

    # ---- OAuth -------------------------------------------------------------------------------------
    def _token(self, request: Request) -> Response:
        injection = self.sim.injector.take(request.path, is_data=False)
        if injection is not None:
            injected = self._injected(injection, None)
            if injected is not None:
                return injected
        include_hard = request.headers.get("x-include-refresh-token-hard-expires-in", "").lower() == "true"
        form = {key: str(value) for key, value in request.form.items()}
        result = self.sim.authority.exchange(request.headers.get("Authorization"), form, include_hard)
        response = self._json(orjson.dumps(result.body), result.status)
        response.headers["Cache-Control"] = "no-store"
        return response

    def _authorize(self, request: Request) -> Response:
        """Intuit's consent screen, already clicked: 302 to ``redirect_uri`` with ``code``, ``state`` and
        ``realmId``. Simulator-only parameters choose what the user did: ``sim_realm`` (the company
        picked, default the first) and ``sim_decision=deny`` (Cancel: ``error=access_denied``)."""
        authority, args = self.sim.authority, request.args
        client_id, redirect_uri = args.get("client_id", ""), args.get("redirect_uri", "")
        # An unknown app or unregistered redirect URI gets an error page: redirecting could leak the code.
        if not authority.client_known(client_id):
            return _error_page("The client_id query parameter value is invalid.")
        if not redirect_uri or not authority.redirect_allowed(redirect_uri):
            return _error_page("The redirect_uri query parameter value is invalid.")
        answer: dict[str, str] = {}
        realm = args.get("sim_realm") or self.sim.realm_ids[0]
        if args.get("response_type") != "code":
            answer["error"] = "unsupported_response_type"
        elif "com.intuit.quickbooks.accounting" not in args.get("scope", "").split():
            answer["error"] = "invalid_scope"
        elif args.get("sim_decision") == "deny":
            answer["error"] = "access_denied"
        elif realm not in self.sim.stores:
            return _error_page(f"Company {realm} does not exist in this simulator.")
        else:
            answer = {"code": authority.authorize(client_id, redirect_uri, realm), "realmId": realm}
        if "state" in args:
            answer["state"] = args["state"]
        separator = "&" if "?" in redirect_uri else "?"
        response = Response(status=302)
        response.headers["Location"] = f"{redirect_uri}{separator}{urlencode(answer)}"
        return response

    # ---- data --------------------------------------------------------------------------------------
    def _data(self, request: Request, kind: str, args: dict[str, Any]) -> Response:
        realm = str(args["realm"])
        sim = self.sim
        injection = sim.injector.take(request.path, is_data=True)
        if injection is not None:
            injected = self._injected(injection, realm if realm in sim.stores else None)
            if injected is not None:
                return injected
        verdict = sim.authority.check_access(request.headers.get("Authorization"), realm)
        if verdict == "invalid":
            return self._fault(authentication_failed("Token expired or invalid"), None)
        if verdict == "wrong_realm" or realm not in sim.stores:
            return self._fault(authorization_failed(realm), None)
        minor = request.args.get("minorversion")
        if minor is not None and not minor.isdigit():
            return self._fault(validation(f"Invalid minorversion {minor}", "2010"), realm)
        if not self._admit(realm, kind):
            if sim.injector.use_xml_throttle():
                return self._xml_throttle(realm)
            return self._fault(throttled(), realm)
        try:
            if sim.latency:
                time.sleep(sim.latency)
            return self._json(self._handle(request, kind, realm, args))
        except FaultResponse as fault:
            return self._fault(fault, realm)
        finally:
            sim.limiter.release(realm)
            if kind == "batch":
                sim.batch_limiter.release(realm)

    def _admit(self, realm: str, kind: str) -> bool:
        """Take a slot of the company's budget (and, for batches, of the batch budget)."""
        sim = self.sim
        if not sim.limiter.acquire(realm):
            return False
        if kind == "batch" and not sim.batch_limiter.acquire(realm):
            sim.limiter.release(realm)
            return False
        return True

    def _handle(self, request: Request, kind: str, realm: str, args: dict[str, Any]) -> bytes:
        service = self.sim.service
        handlers: dict[str, Callable[[], bytes]] = {
            "query": lambda: service.query(realm, self._statement(request)),
            "cdc": lambda: service.cdc(realm, request.args.get("entities"), request.args.get("changedSince")),
            "read": lambda: (
                company_info(self.sim.stores[realm].company, str(args["record_id"]), self.sim.now())
                if str(args["entity"]).lower() == "companyinfo"
                else service.read(realm, str(args["entity"]), str(args["record_id"]))
            ),
            "batch": lambda: run_batch(service, realm, self._payload(request)),
            "write": lambda: service.write(
                realm, str(args["entity"]), self._payload(request), request.args.get("operation")
            ),
        }
        return handlers[kind]()

    @staticmethod
    def _statement(request: Request) -> str:
        if request.method == "POST":
            return request.get_data(as_text=True)
        statement = request.args.get("query")
        if not statement:
            raise validation("query parameter is required", "4000")
        return statement

    @staticmethod
    def _payload(request: Request) -> Any:
        try:
            return json.loads(request.get_data(), parse_float=Decimal)
        except ValueError as exc:
            raise validation(f"Request body is not valid JSON: {exc}", "2010") from exc


def _error_page(message: str) -> Response:
    page = f"<html><body><h1>Error</h1><p>{escape(message)}</p></body></html>"
    return Response(page, status=400, content_type="text/html")
