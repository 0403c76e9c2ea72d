"""Looker's error bodies: ``{"message", "documentation_url"}``, plus ``errors`` on a 422."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

DOCS = "https://cloud.google.com/looker/docs/r/err/4.0"
REQUIRES_AUTH = "Requires authentication."
NOT_FOUND = "Not found"
VALIDATION_FAILED = "Validation Failed"


def documentation_url(status: int, method: str, template: str) -> str:
    """Looker's per-endpoint link, e.g. ``.../4.0/404/patch/datagroups/:datagroup_id``.

    ``template`` is the werkzeug rule without ``/api/4.0`` (``/datagroups/<datagroup_id>``).
    """
    path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r":\1", template).lstrip("/")
    return f"{DOCS}/{status}/{method.lower()}/{path}"


@dataclass
class FieldError:
    """One entry of a 422's ``errors`` list."""

    field: str
    code: str
    message: str


@dataclass
class LookerError(Exception):
    """Raised by handlers; the app turns it into the status and body Looker sends."""

    status: int
    message: str
    errors: list[FieldError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.message}"

    def body(self, method: str, template: str) -> dict[str, Any]:
        url = documentation_url(self.status, method, template)
        body: dict[str, Any] = {"message": self.message, "documentation_url": url}
        if self.errors:
            body["errors"] = [
                {"field": e.field, "code": e.code, "message": e.message, "documentation_url": url}
                for e in self.errors
            ]
        return body


def not_found() -> LookerError:
    return LookerError(404, NOT_FOUND)


def validation_failed(*errors: FieldError) -> LookerError:
    return LookerError(422, VALIDATION_FAILED, list(errors))


def missing(name: str, message: str = "This field is required.") -> FieldError:
    return FieldError(name, "missing", message)


def invalid(name: str, message: str) -> FieldError:
    return FieldError(name, "invalid", message)


def generic(status: int) -> LookerError:
    """The plain ``{message: <reason phrase>}`` answer, e.g. for an injected status."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return LookerError(status, phrase)
