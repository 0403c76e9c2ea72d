"""Intuit's error bodies: JSON Faults, OAuth errors and the XML throttle response."""

from __future__ import annotations

from typing import Any

from tests.fakes.qbo.render import dumps

JSON = "application/json;charset=UTF-8"
XML = "text/xml"

THROTTLE_XML = (
    b'<?xml version="1.0"?>\n'
    b'<IntuitResponse xmlns="http://schema.intuit.com/finance/v3" time="{time}">'
    b'<Fault type="ThrottleException"><Error code="3001">'
    b"<Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>"
    b"<Detail>The request limit was reached.</Detail>"
    b"</Error></Fault></IntuitResponse>"
)


class FaultResponse(Exception):
    """Raised by handlers to answer with a Fault (``status`` may be 200: a Fault inside a success)."""

    def __init__(
        self, status: int, code: str, message: str, detail: str = "", fault_type: str = "ValidationFault"
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail
        self.fault_type = fault_type


def fault_dict(code: str, message: str, detail: str, fault_type: str, time: str) -> dict[str, Any]:
    """``{"Fault":{"Error":[...],"type":...},"time":...}``."""
    error = {"Message": message, "Detail": detail, "code": code, "element": ""}
    return {"Fault": {"Error": [error], "type": fault_type}, "time": time}


def fault_bytes(fault: FaultResponse, time: str) -> bytes:
    return dumps(fault_dict(fault.code, fault.message, fault.detail, fault.fault_type, time))


def authentication_failed(detail: str) -> FaultResponse:
    """HTTP 401, code 3200: missing, unknown, revoked or expired access token."""
    return FaultResponse(
        401,
        "3200",
        "message=AuthenticationFailed; errorCode=003200; statusCode=401",
        detail,
        "AUTHENTICATION",
    )


def authorization_failed(realm_id: str) -> FaultResponse:
    """HTTP 403, code 3201: the token belongs to another company."""
    return FaultResponse(
        403,
        "3201",
        "message=ApplicationAuthorizationFailed; errorCode=003201; statusCode=403",
        f"The access token is not authorized for company {realm_id}",
        "AUTHORIZATION",
    )


def throttled() -> FaultResponse:
    """HTTP 429, code 3001 (JSON flavour)."""
    return FaultResponse(
        429,
        "3001",
        "message=ThrottleExceeded; errorCode=003001; statusCode=429",
        "The request limit was reached.",
        "ThrottleException",
    )


def query_parser_error(detail: str) -> FaultResponse:
    """HTTP 400, code 4000."""
    return FaultResponse(400, "4000", "Error parsing query", f"QueryParserError: {detail}")


def not_found(entity: str, idx: str) -> FaultResponse:
    """HTTP 400, code 610."""
    return FaultResponse(
        400,
        "610",
        "Object Not Found",
        f"Object Not Found : Something you're trying to use has been made "
        f"inactive or deleted. Check the fields with accounts, customers, items, vendors or employees. "
        f"({entity} Id {idx})",
    )


def stale_object(entity: str, idx: str, current: str) -> FaultResponse:
    """HTTP 400, code 5010."""
    return FaultResponse(
        400,
        "5010",
        "Stale Object Error",
        f"Stale Object Error : You and root were working on this at the same time. root finished before you "
        f"did, so your work was not saved. ({entity} Id {idx} is at SyncToken {current})",
    )


def validation(detail: str, code: str = "2010") -> FaultResponse:
    """HTTP 400 ValidationFault with the given code."""
    return FaultResponse(400, code, "Request has invalid or unsupported property", detail)
