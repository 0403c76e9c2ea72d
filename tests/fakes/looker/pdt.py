"""PDT builds started through the API: ``start``, ``status`` and ``stop`` of a materialization."""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from tests.fakes.looker.config import PdtView
from tests.fakes.looker.errors import LookerError, not_found

GENERIC_ERROR = "An error has occurred."


@dataclass
class Build:
    materialization_id: str
    model: str
    view: str
    spec: PdtView
    force_rebuild: bool
    force_full_incremental: bool
    workspace: str
    source: str | None
    started_at: float  # monotonic
    killed_at: float | None = None

    def status(self, now: float) -> str:
        elapsed = now - self.started_at
        finished = elapsed >= self.spec.build_seconds
        if self.killed_at is not None and (self.killed_at - self.started_at) < self.spec.build_seconds:
            return "killed"
        if finished:
            return "error" if self.spec.error else "complete"
        return "added" if elapsed < self.spec.build_seconds / 5 else "running"

    def as_dict(self, now: float) -> dict[str, Any]:
        return {
            "materialization_id": self.materialization_id,
            "model": self.model,
            "view": self.view,
            "status": self.status(now),
            "force_rebuild": self.force_rebuild,
            "force_full_incremental": self.force_full_incremental,
            "workspace": self.workspace,
            "source": self.source,
            "started_at": self.started_at,
        }

    def answer(self, status: str) -> dict[str, Any]:
        """``MaterializePDT``: ``resp_text`` is a JSON string holding the status (and the error message)."""
        detail: dict[str, Any] = {
            "status": status,
            "materialization_id": self.materialization_id,
            "model_name": self.model,
            "view_name": self.view,
            "workspace": self.workspace,
        }
        if status == "error":
            detail["message"] = self.spec.error
        return {"materialization_id": self.materialization_id, "resp_text": json.dumps(detail)}


def _flag(name: str, value: str | None) -> bool:
    if value is None:
        return False
    if value not in {"true", "false"}:
        raise LookerError(400, f"{name} must be 'true' or 'false', got {value!r}")
    return value == "true"


class PdtBuilds:
    def __init__(self, models: dict[str, dict[str, object]]) -> None:
        self._lock = threading.Lock()
        self._views: dict[tuple[str, str], PdtView] = {}
        for model_name, model in models.items():
            views = model.get("views", {})
            assert isinstance(views, dict), f"models[{model_name!r}]['views'] must map names to PdtView"
            for view_name, spec in views.items():
                assert isinstance(spec, PdtView), f"view {model_name}.{view_name} must be a PdtView"
                self._views[(model_name, str(view_name))] = spec
        self._builds: dict[str, Build] = {}

    def start(self, model: str, view: str, params: dict[str, str]) -> dict[str, Any]:
        spec = self._views.get((model, view))
        if spec is None:
            raise not_found()
        if not spec.persisted:
            raise LookerError(500, GENERIC_ERROR)  # Looker's generic error (sdk-codegen issues 1107, 1639)
        workspace = params.get("workspace") or "production"
        if workspace not in {"production", "dev"}:
            raise LookerError(400, f"workspace must be 'production' or 'dev', got {workspace!r}")
        build = Build(
            materialization_id=secrets.token_hex(16),
            model=model,
            view=view,
            spec=spec,
            force_rebuild=_flag("force_rebuild", params.get("force_rebuild")),
            force_full_incremental=_flag("force_full_incremental", params.get("force_full_incremental")),
            workspace=workspace,
            source=params.get("source"),
            started_at=time.monotonic(),
        )
        with self._lock:
            self._builds[build.materialization_id] = build
        return build.answer(build.status(time.monotonic()))

    def _build(self, materialization_id: str) -> Build:
        with self._lock:
            build = self._builds.get(materialization_id)
        if build is None:
            raise not_found()
        return build

    def check(self, materialization_id: str) -> dict[str, Any]:
        build = self._build(materialization_id)
        return build.answer(build.status(time.monotonic()))

    def stop(self, materialization_id: str) -> dict[str, Any]:
        """Kill a build still in progress; a finished one keeps its outcome."""
        build = self._build(materialization_id)
        now = time.monotonic()
        with self._lock:
            if build.killed_at is None and build.status(now) in {"added", "running"}:
                build.killed_at = now
        return build.answer(build.status(now))

    def all(self) -> list[dict[str, Any]]:
        now = time.monotonic()
        with self._lock:
            return [build.as_dict(now) for build in self._builds.values()]
