"""Declared Scheduled Plans made to exist idempotently, by name.

- Matched by ``name`` among the plans the API user owns (``all_scheduled_plans()`` without ``all_users``):
  created when missing, updated when what Looker returns differs from what is declared, untouched when equal
  (an unchanged plan costs one shared GET and no write). Plans not declared are never touched.
- ``update_scheduled_plan`` replaces *all* destinations, so an update always sends the full declared list,
  secret parameters included.
- ``secret_parameters`` is write-only (Looker never returns it), so it cannot be compared: a changed secret
  alone is not detected. Rename the plan or set ``force_update: true`` on it (one write per run) to push it.
- ``parameters`` and ``secret_parameters`` are JSON strings in the API; we compare the parsed objects.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from looker_sdk.sdk.api40 import models
from looker_sdk.sdk.api40.methods import Looker40SDK

from target_looker_stage.looker.client import LookerCallError
from target_looker_stage.looker.report import LookerReport
from target_looker_stage.looker.settings import DestinationSpec, PlanSpec

#: Sent in an update to clear the schedule kind not declared (a plan has a crontab or a datagroup).
EXPLICIT_NULL = "EXPLICIT_NULL"
LOOK_FLAGS = ("require_results", "require_no_results", "require_change")


def declared_view(spec: PlanSpec) -> dict[str, Any]:
    """The declared plan in the shape we compare: only what the declaration decides."""
    view: dict[str, Any] = {
        "name": spec.name,
        spec.content_key: spec.content_id,
        "crontab": spec.crontab,
        "datagroup": spec.datagroup,
        "destinations": sorted(_destination_view(d) for d in spec.destinations),
    }
    if spec.timezone is not None:
        view["timezone"] = spec.timezone
    if spec.enabled is not None:
        view["enabled"] = spec.enabled
    if spec.content_key == "look_id":
        view.update(dict.fromkeys(LOOK_FLAGS, False))
    return view


def current_view(spec: PlanSpec, plan: models.ScheduledPlan) -> dict[str, Any]:
    """The same keys read from what Looker returned."""
    declared = declared_view(spec)
    view: dict[str, Any] = {}
    for key in declared:
        if key == "destinations":
            view[key] = sorted(_returned_destination(d) for d in plan.scheduled_plan_destination or ())
        else:
            value = getattr(plan, key, None)
            view[key] = None if value in (None, "") else (str(value) if key.endswith("_id") else value)
    return view


def _destination_view(d: DestinationSpec) -> tuple[str, str, str, str]:
    return (d.type, d.format, d.address, json.dumps(dict(d.parameters), sort_keys=True))


def _returned_destination(d: models.ScheduledPlanDestination) -> tuple[str, str, str, str]:
    return (
        str(d.type or ""),
        str(d.format or ""),
        str(d.address or ""),
        json.dumps(_parse(d.parameters), sort_keys=True),
    )


def _parse(parameters: str | None) -> Mapping[str, Any]:
    if not parameters:
        return {}
    try:
        value = json.loads(parameters)
    except ValueError:
        return {"<unparsed>": parameters}
    return value if isinstance(value, dict) else {"<unparsed>": parameters}


def write_body(spec: PlanSpec, *, update: bool) -> models.WriteScheduledPlan:
    destinations = [
        models.ScheduledPlanDestination(
            type=d.type,
            format=d.format,
            address=d.address,
            parameters=json.dumps(dict(d.parameters)) if d.parameters else None,
            secret_parameters=json.dumps(dict(d.secret_parameters)) if d.secret_parameters else None,
        )
        for d in spec.destinations
    ]
    cleared = EXPLICIT_NULL if update else None
    body = models.WriteScheduledPlan(
        name=spec.name,
        crontab=spec.crontab or cleared,
        datagroup=spec.datagroup or cleared,
        timezone=spec.timezone,
        enabled=spec.enabled,
        scheduled_plan_destination=destinations,
    )
    setattr(body, spec.content_key, spec.content_id)
    if spec.content_key == "look_id":
        for flag in LOOK_FLAGS:
            setattr(body, flag, False)
    return body


def changed_fields(spec: PlanSpec, plan: models.ScheduledPlan) -> list[str]:
    declared, current = declared_view(spec), current_view(spec, plan)
    return [key for key in declared if declared[key] != current[key]]


def ensure_plans(sdk: Looker40SDK, specs: Sequence[PlanSpec], report: LookerReport) -> dict[str, str]:
    """Create or update each declared plan; returns name -> id of those that exist afterwards."""
    if not specs:
        return {}
    items = {spec.name: report.add("plan", spec.name) for spec in specs}
    try:
        existing: dict[str, list[models.ScheduledPlan]] = {}
        for plan in sdk.all_scheduled_plans():
            existing.setdefault(str(plan.name), []).append(plan)
    except LookerCallError as exc:
        if exc.aborts_batch:
            raise
        for item in items.values():
            item.status, item.detail = "failed", f"listing plans: {exc.describe()}"
        return {}
    ids: dict[str, str] = {}
    for spec in specs:
        item = items[spec.name]
        same_name = sorted(existing.get(spec.name, ()), key=lambda p: _id_order(p.id))
        try:
            if not same_name:
                created = sdk.create_scheduled_plan(write_body(spec, update=False))
                ids[spec.name] = str(created.id)
                item.status, item.detail = "created", f"id {created.id}"
                continue
            plan = same_name[0]
            ids[spec.name] = str(plan.id)
            changes = changed_fields(spec, plan)
            if spec.force_update and not changes:
                changes = ["force_update"]
            if changes:
                sdk.update_scheduled_plan(str(plan.id), write_body(spec, update=True))
                item.status, item.detail = "updated", f"id {plan.id}: {', '.join(changes)}"
            else:
                item.status, item.detail = "unchanged", f"id {plan.id}"
            if len(same_name) > 1:
                item.detail += f"; {len(same_name) - 1} other plan(s) with this name left alone"
        except LookerCallError as exc:
            if exc.aborts_batch:
                raise
            item.status, item.detail = "failed", exc.describe(f"check looker_scheduled_plans '{spec.name}'")
    return ids


def run_plans_once(
    sdk: Looker40SDK, specs: Sequence[PlanSpec], ids: Mapping[str, str], report: LookerReport
) -> None:
    """``run_once_after_load`` plans, one ``scheduled_plan_run_once_by_id`` each (429s are backed off by the
    transport; a 5xx is not retried, so a plan never runs twice)."""
    for spec in specs:
        if not spec.run_once_after_load or spec.name not in ids:
            continue
        item = report.add("plan_run", spec.name)
        try:
            sdk.scheduled_plan_run_once_by_id(ids[spec.name])
            item.status = "ran once"
        except LookerCallError as exc:
            if exc.aborts_batch:
                raise
            item.status, item.detail = "failed", f"run once: {exc.describe()}"


def _id_order(value: Any) -> tuple[int, str]:
    text = str(value)
    return (int(text), text) if text.isdigit() else (1 << 62, text)
