"""The refresh's outcome: one line per item for the log, a JSON summary for the run manifest.

Why a report object rather than raising on the first failure: the data is already committed when the
refresh runs, so a failed PDT must not hide that the datagroup was triggered and the plans were ensured;
the run's exit status is decided from the whole report (``looker_failure``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from target_looker_stage.looker.client import CallStats

#: Item outcomes that count as a failure of the refresh.
FAILED = frozenset({"failed", "not attempted"})


@dataclass
class ItemResult:
    kind: str  # datagroup, pdt, plan, plan_run
    name: str
    status: str = "not attempted"
    detail: str = ""
    seconds: float | None = None

    @property
    def failed(self) -> bool:
        return self.status in FAILED

    def line(self) -> str:
        subject = f"'{self.name}'" if self.kind in ("plan", "plan_run") else self.name
        kind = "plan" if self.kind == "plan_run" else self.kind
        if self.status == "failed":
            return f"looker: {kind} {subject} failed: {self.detail}"
        if self.status == "built" and self.seconds is not None:
            return f"looker: {kind} {subject} built in {self.seconds:.0f}s"
        suffix = f" ({self.detail})" if self.detail else ""
        return f"looker: {kind} {subject} {self.status}{suffix}"

    def as_dict(self) -> dict[str, Any]:
        item: dict[str, Any] = {"kind": self.kind, "name": self.name, "status": self.status}
        if self.detail:
            item["detail"] = self.detail
        if self.seconds is not None:
            item["seconds"] = round(self.seconds, 3)
        return item


@dataclass
class LookerReport:
    items: list[ItemResult] = field(default_factory=list)
    #: Why the refresh did not run at all (idle input, nothing declared), or None.
    skipped: str | None = None
    #: The one line that stopped the batch (bad credentials, unreachable Looker), or None.
    aborted: str | None = None
    stats: CallStats = field(default_factory=CallStats)
    started: float = field(default_factory=time.monotonic)
    seconds: float = 0.0

    def add(self, kind: str, name: str) -> ItemResult:
        item = ItemResult(kind, name)
        self.items.append(item)
        return item

    @property
    def failed(self) -> bool:
        return self.aborted is not None or any(i.failed for i in self.items)

    def finish(self) -> LookerReport:
        self.seconds = time.monotonic() - self.started
        return self

    def lines(self) -> list[str]:
        if self.skipped:
            return [f"looker: refresh skipped: {self.skipped}"]
        lines = []
        if self.aborted:
            lines.append(f"looker: refresh stopped: {self.aborted}")
        lines.extend(i.line() for i in self.items if i.status != "not attempted")
        waiting = [i for i in self.items if i.status == "not attempted"]
        if waiting:
            names = ", ".join(f"{i.kind} {i.name}" for i in waiting[:10])
            more = f" and {len(waiting) - 10} more" if len(waiting) > 10 else ""
            lines.append(f"looker: not attempted: {names}{more}")
        done = sum(1 for i in self.items if not i.failed)
        lines.append(
            f"looker: refresh {'failed' if self.failed else 'done'}: {done} of {len(self.items)} item(s) ok, "
            f"{self.stats.calls} call(s), {self.stats.logins} login(s), {self.seconds:.1f}s"
        )
        return lines

    def summary(self) -> dict[str, Any]:
        """The JSON summary written into the run manifest (``looker`` key)."""
        return {
            "status": "skipped" if self.skipped else ("failed" if self.failed else "ok"),
            "skipped": self.skipped,
            "aborted": self.aborted,
            "items": [i.as_dict() for i in self.items],
            "seconds": round(self.seconds, 3),
            **self.stats.as_dict(),
        }
