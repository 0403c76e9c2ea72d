"""Datagroups of the configured models and ``PATCH /datagroups/{id}`` (UNIX seconds, never in the future)."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from typing import Any

from tests.fakes.looker.errors import invalid, not_found, validation_failed

WRITABLE = ("stale_before", "triggered_at")


class Datagroups:
    """Datagroup state keyed by id ("1", "2", ... in model order); a name is unique only within its model."""

    def __init__(
        self, models: dict[str, dict[str, object]], on_trigger: Callable[[str], None] | None = None
    ) -> None:
        self._lock = threading.Lock()
        self._on_trigger = on_trigger  # called with the datagroup's name after triggered_at is set
        created = int(time.time()) - 86_400
        self._rows: dict[str, dict[str, Any]] = {}
        self.updates: list[tuple[str, dict[str, Any]]] = []  # (id, accepted body) in arrival order
        for model_name, model in models.items():
            names = model.get("datagroups", [])
            assert isinstance(names, list), f"models[{model_name!r}]['datagroups'] must be a list of names"
            for name in names:
                idx = str(len(self._rows) + 1)
                self._rows[idx] = {
                    "can": {"show": True, "update": True},
                    "created_at": created,
                    "id": idx,
                    "model_name": model_name,
                    "name": str(name),
                    "stale_before": None,
                    "trigger_check_at": created,
                    "trigger_error": None,
                    "trigger_value": None,
                    "triggered_at": created,
                }

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._rows.values()))

    def get(self, datagroup_id: str) -> dict[str, Any]:
        with self._lock:
            row = self._rows.get(datagroup_id)
            if row is None:
                raise not_found()
            return copy.deepcopy(row)

    def names(self) -> set[str]:
        with self._lock:
            return {str(row["name"]) for row in self._rows.values()}

    def update(self, datagroup_id: str, body: Any) -> dict[str, Any]:
        """Apply a WriteDatagroup; 404 for an unknown id, 422 for a value in the future or not an integer."""
        with self._lock:
            row = self._rows.get(datagroup_id)
            if row is None:
                raise not_found()
            if not isinstance(body, dict):
                raise validation_failed(invalid("body", "The request body must be a JSON object."))
            now = int(time.time())
            errors = []
            for name in WRITABLE:
                value = body.get(name)
                if value is None:
                    continue
                if isinstance(value, bool) or not isinstance(value, int):
                    errors.append(invalid(name, f"{name} must be an integer UNIX timestamp."))
                elif value > now:
                    errors.append(invalid(name, f"{name} cannot be in the future."))
            if errors:
                raise validation_failed(*errors)
            accepted = {name: body[name] for name in WRITABLE if body.get(name) is not None}
            row.update(accepted)
            self.updates.append((datagroup_id, accepted))
            answer = copy.deepcopy(row)
        if "triggered_at" in accepted and self._on_trigger is not None:
            self._on_trigger(str(answer["name"]))
        return answer
