"""Scheduled plans: CRUD with Looker's validation, write-only ``secret_parameters``, rate-limited run_once."""

from __future__ import annotations

import copy
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tests.fakes.looker.errors import FieldError, LookerError, invalid, missing, not_found, validation_failed

CONTENT = ("look_id", "dashboard_id", "lookml_dashboard_id", "query_id")
LOOK_REQUIRED = ("require_results", "require_no_results", "require_change")
DESTINATION_TYPES = frozenset({"email", "webhook", "s3", "sftp", "action_hub", "google_drive"})
READ_ONLY = frozenset({"id", "created_at", "updated_at", "user", "next_run_at", "last_run_at", "can"})
TOO_MANY = "Too Many Requests"


def _stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _json_text(value: Any, name: str, errors: list[FieldError]) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        errors.append(invalid(name, f"{name} must be a JSON string."))
        return
    try:
        json.loads(value)
    except ValueError:
        errors.append(invalid(name, f"{name} is not valid JSON."))


def _validate_destinations(destinations: Any, errors: list[FieldError]) -> None:
    if not isinstance(destinations, list) or not destinations:
        errors.append(missing("scheduled_plan_destination", "At least one destination is required."))
        return
    for i, dest in enumerate(destinations):
        prefix = f"scheduled_plan_destination[{i}]"
        if not isinstance(dest, dict):
            errors.append(invalid(prefix, "A destination must be an object."))
            continue
        if dest.get("type") not in DESTINATION_TYPES:
            errors.append(
                invalid(f"{prefix}.type", f"type must be one of {', '.join(sorted(DESTINATION_TYPES))}.")
            )
        if not dest.get("format"):
            errors.append(missing(f"{prefix}.format"))
        if not dest.get("address") and dest.get("type") != "action_hub":
            errors.append(missing(f"{prefix}.address"))
        _json_text(dest.get("parameters"), f"{prefix}.parameters", errors)
        _json_text(dest.get("secret_parameters"), f"{prefix}.secret_parameters", errors)


def validate(plan: dict[str, Any], datagroups: set[str], schedule_needed: bool) -> None:
    """422 unless the plan has a name, exactly one content id, crontab XOR datagroup (for a stored plan),
    at least one well-formed destination, and the three ``require_*`` flags when it sends a look."""
    errors: list[FieldError] = []
    if not plan.get("name"):
        errors.append(missing("name"))
    given = [name for name in CONTENT if plan.get(name) not in {None, ""}]
    if len(given) != 1:
        message = "Exactly one of look_id, dashboard_id, lookml_dashboard_id or query_id is required."
        errors.append(FieldError("look_id", "missing" if not given else "invalid", message))
    if given == ["look_id"]:
        errors.extend(missing(name) for name in LOOK_REQUIRED if not isinstance(plan.get(name), bool))
    crontab, datagroup = plan.get("crontab") or None, plan.get("datagroup") or None
    if schedule_needed and (crontab is None) == (datagroup is None):
        errors.append(invalid("crontab", "Specify either crontab or datagroup, not both and not neither."))
    if crontab is not None and (not isinstance(crontab, str) or len(crontab.split()) != 5):
        errors.append(invalid("crontab", "crontab must have five fields (minute hour day month weekday)."))
    if datagroup is not None and datagroup not in datagroups:
        errors.append(invalid("datagroup", f"No datagroup named {datagroup!r}."))
    _validate_destinations(plan.get("scheduled_plan_destination"), errors)
    if errors:
        raise validation_failed(*errors)


class RunOnceLimiter:
    """Sliding one-second window shared by both run_once endpoints; refused calls do not count."""

    def __init__(self, per_second: int) -> None:
        self.per_second = per_second
        self._window: deque[float] = deque()
        self._lock = threading.Lock()

    def admit(self) -> None:
        now = time.monotonic()
        with self._lock:
            while self._window and self._window[0] <= now - 1.0:
                self._window.popleft()
            if self.per_second > 0 and len(self._window) >= self.per_second:
                raise LookerError(429, TOO_MANY, headers={"Retry-After": "1"})
            self._window.append(now)


def _fields(row: dict[str, Any], fields: str | None) -> dict[str, Any]:
    """The ``fields`` parameter, honoured loosely: top-level names only (``a,b(c,d)`` keeps a and b)."""
    if not fields:
        return row
    depth, names, current = 0, set(), ""
    for char in fields:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            names.add(current.strip())
            current = ""
        elif depth == 0:
            current += char
    names.add(current.strip())
    return {key: value for key, value in row.items() if key in names}


class ScheduledPlans:
    def __init__(self, datagroup_names: Callable[[], set[str]], run_once_per_second: int) -> None:
        self._lock = threading.Lock()
        self._datagroup_names = datagroup_names
        self._plans: dict[str, dict[str, Any]] = {}  # stored with secret_parameters
        self._ids = itertools.count(1)
        self._destination_ids = itertools.count(1)
        self.limiter = RunOnceLimiter(run_once_per_second)
        self.runs: list[tuple[str, float]] = []  # (plan id, monotonic), run_once_by_id and run_once
        self.run_once_bodies: list[dict[str, Any]] = []  # bodies of POST /scheduled_plans/run_once
        self.triggered_runs: list[tuple[str, float]] = []  # (plan id, monotonic) run by a datagroup trigger

    # ---- shaping -------------------------------------------------------------------------------------
    def _destinations(self, plan_id: str, given: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {
                "apply_formatting": False,
                "apply_vis": False,
                "looker_recipient": False,
                "message": None,
                "parameters": None,
                **{k: v for k, v in dest.items() if k not in {"id", "scheduled_plan_id"}},
                "id": str(next(self._destination_ids)),
                "scheduled_plan_id": plan_id,
            }
            for dest in given
        ]

    @staticmethod
    def _public(plan: dict[str, Any]) -> dict[str, Any]:
        """The plan as the API returns it: ``secret_parameters`` is write-only."""
        shown = copy.deepcopy(plan)
        for dest in shown["scheduled_plan_destination"]:
            dest.pop("secret_parameters", None)
        return shown

    def _new(self, plan_id: str, body: dict[str, Any], run_once: bool) -> dict[str, Any]:
        now = _stamp()
        fields = {k: v for k, v in body.items() if k not in READ_ONLY and k != "scheduled_plan_destination"}
        return {
            "name": None,
            "user_id": "1",
            "run_as_recipient": False,
            "enabled": True,
            "look_id": None,
            "dashboard_id": None,
            "lookml_dashboard_id": None,
            "query_id": None,
            "crontab": None,
            "datagroup": None,
            "timezone": None,
            "require_results": False,
            "require_no_results": False,
            "require_change": False,
            "send_all_results": False,
            "include_links": False,
            **fields,
            "run_once": run_once,
            "id": plan_id,
            "created_at": now,
            "updated_at": now,
            "next_run_at": None,
            "last_run_at": None,
            "last_run_status": None,
            "scheduled_plan_destination": self._destinations(plan_id, body["scheduled_plan_destination"]),
        }

    @staticmethod
    def _object(body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise validation_failed(invalid("body", "The request body must be a JSON object."))
        return body

    # ---- API -----------------------------------------------------------------------------------------
    def all(self, fields: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [_fields(self._public(plan), fields) for plan in self._plans.values()]

    def get(self, plan_id: str, fields: str | None = None) -> dict[str, Any]:
        with self._lock:
            plan = self._plans.get(plan_id)
            if plan is None:
                raise not_found()
            return _fields(self._public(plan), fields)

    def create(self, body: Any) -> dict[str, Any]:
        body = self._object(body)
        validate(body, self._datagroup_names(), schedule_needed=True)
        with self._lock:
            plan_id = str(next(self._ids))
            plan = self._plans[plan_id] = self._new(plan_id, body, run_once=False)
            return self._public(plan)

    def update(self, plan_id: str, body: Any) -> dict[str, Any]:
        """Merge the given fields; ``scheduled_plan_destination``, when given, replaces ALL destinations."""
        body = self._object(body)
        with self._lock:
            plan = self._plans.get(plan_id)
            if plan is None:
                raise not_found()
            merged = copy.deepcopy(plan)
            merged.update({k: v for k, v in body.items() if k not in READ_ONLY})
            validate(merged, self._datagroup_names(), schedule_needed=True)
            if "scheduled_plan_destination" in body:
                merged["scheduled_plan_destination"] = self._destinations(
                    plan_id, body["scheduled_plan_destination"]
                )
            merged["updated_at"] = _stamp()
            self._plans[plan_id] = merged
            return self._public(merged)

    def delete(self, plan_id: str) -> None:
        with self._lock:
            if self._plans.pop(plan_id, None) is None:
                raise not_found()

    def run_once_by_id(self, plan_id: str) -> dict[str, Any]:
        with self._lock:
            if plan_id not in self._plans:
                raise not_found()
        self.limiter.admit()
        with self._lock:
            plan = self._plans[plan_id]
            plan["last_run_at"] = _stamp()
            self.runs.append((plan_id, time.monotonic()))
            return self._public(plan)

    def run_once(self, body: Any) -> dict[str, Any]:
        """Run an unsaved plan now: no schedule needed; it gets an id but is not stored."""
        body = self._object(body)
        validate(body, self._datagroup_names(), schedule_needed=False)
        self.limiter.admit()
        with self._lock:
            plan_id = str(next(self._ids))
            plan = self._new(plan_id, body, run_once=True)
            plan["last_run_at"] = _stamp()
            self.runs.append((plan_id, time.monotonic()))
            self.run_once_bodies.append(copy.deepcopy(body))
            return self._public(plan)

    def run_on_datagroup(self, datagroup: str) -> None:
        """A triggered datagroup runs the enabled plans scheduled on it (recorded in ``triggered_runs``)."""
        with self._lock:
            for plan_id, plan in self._plans.items():
                if plan.get("datagroup") == datagroup and plan.get("enabled", True):
                    plan["last_run_at"] = _stamp()
                    self.triggered_runs.append((plan_id, time.monotonic()))

    def secrets(self, plan_id: str) -> list[str | None]:
        """The stored ``secret_parameters`` of each destination (tests only: the API never returns them)."""
        with self._lock:
            plan = self._plans.get(plan_id)
            if plan is None:
                raise KeyError(f"no scheduled plan {plan_id}")
            return [dest.get("secret_parameters") for dest in plan["scheduled_plan_destination"]]
