"""``/admin/...``: JSON endpoints that drive the simulator from outside the test process.

GET    /admin/info                          credentials, realms, base_url
GET    /admin/requests                      the request log;  POST /admin/requests/reset clears it
POST   /admin/{realm}/{Entity}              create (body: fields)        -> the record
POST   /admin/{realm}/{Entity}/{id}         update (body: fields)        -> the record
DELETE /admin/{realm}/{Entity}/{id}         delete
POST   /admin/revoke/{realm}                revoke all tokens of a company
POST   /admin/inject                        {"fault", "times", "path_contains", "delay"}
POST   /admin/limits                        {"requests_per_minute", "max_concurrent"}
POST   /admin/latency                       {"seconds"}
POST   /admin/clock                         {"offset_seconds"}
POST   /admin/webhook                       {"url", "verifier_token", "events": [...], "format",
                                             "duplicate", "reorder"}  -> {"status"}
POST   /admin/webhooks/configure            {"url" (null: stop), "verifier_token", "format"}: notify
                                             every later mutation
GET    /admin/{realm}/{Entity}/{id}         the record (404 when missing or deleted)
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from tests.fakes.qbo.catalog import BY_LOWER
from tests.fakes.qbo.render import dumps
from tests.fakes.qbo.webhooks import WebhookEvent

if TYPE_CHECKING:
    from tests.fakes.qbo.simulator import QboSimulator


def _ok(value: Any, status: int = 200) -> Response:
    return Response(dumps(value), status=status, content_type="application/json")


def _body(request: Request) -> dict[str, Any]:
    data = request.get_data()
    if not data:
        return {}
    parsed = json.loads(data, parse_float=Decimal)
    if not isinstance(parsed, dict):
        raise ValueError("admin body must be a JSON object")
    return parsed


def handle_admin(sim: QboSimulator, request: Request, rest: str) -> Response:
    """Route one admin request; errors come back as ``{"error": ...}`` with HTTP 400/404."""
    try:
        return _route(sim, request, [part for part in rest.split("/") if part])
    except (ValueError, KeyError, TypeError) as exc:
        return _ok({"error": f"{type(exc).__name__}: {exc}"}, 400)


def _route(sim: QboSimulator, request: Request, parts: list[str]) -> Response:
    method = request.method
    if parts == ["info"]:
        return _ok(sim.credentials())
    if parts == ["requests"]:
        return _ok([asdict(record) for record in sim.requests])
    if parts == ["requests", "reset"] and method == "POST":
        sim.reset_requests()
        return _ok({"ok": True})
    if parts == ["webhooks", "configure"] and method == "POST":
        body = _body(request)
        url = body.get("url")
        sim.configure_webhooks(str(url) if url else None, str(body.get("verifier_token", "")),
                               format=str(body.get("format", "legacy")))  # fmt: skip
        return _ok({"ok": True})
    if len(parts) == 2 and parts[0] == "revoke" and method == "POST":
        sim.revoke(parts[1])
        return _ok({"ok": True})
    if parts and parts[0] in {"inject", "limits", "latency", "clock", "webhook"} and method == "POST":
        return _settings(sim, parts[0], _body(request))
    if len(parts) in {2, 3} and parts[0] in sim.stores:
        entity = BY_LOWER[parts[1].lower()]
        realm = parts[0]
        if len(parts) == 2 and method == "POST":
            return _ok(sim.create(realm, entity, _body(request)))
        if len(parts) == 3 and method == "POST":
            return _ok(sim.update(realm, entity, parts[2], _body(request)))
        if len(parts) == 3 and method == "DELETE":
            sim.delete(realm, entity, parts[2])
            return _ok({"ok": True})
        if len(parts) == 3 and method == "GET":
            record = sim.get(realm, entity, parts[2])
            return _ok(record) if record is not None else _ok({"error": "not found"}, 404)
    return _ok({"error": f"no admin route {method} /admin/{'/'.join(parts)}"}, 404)


def _settings(sim: QboSimulator, what: str, body: dict[str, Any]) -> Response:
    if what == "inject":
        sim.inject(
            str(body["fault"]),
            int(body.get("times", 1)),
            body.get("path_contains"),
            float(body.get("delay", 0.0)),
        )
    elif what == "limits":
        sim.set_limits(int(body["requests_per_minute"]), int(body["max_concurrent"]))
    elif what == "latency":
        sim.latency = float(body["seconds"])
    elif what == "clock":
        sim.clock_offset = timedelta(seconds=float(body["offset_seconds"]))
    else:
        events = [WebhookEvent(**event) for event in body["events"]]
        status = sim.send_webhook(
            str(body["url"]),
            str(body["verifier_token"]),
            events,
            format=str(body.get("format", "legacy")),
            duplicate=bool(body.get("duplicate")),
            reorder=bool(body.get("reorder")),
        )
        return _ok({"status": status})
    return _ok({"ok": True})
