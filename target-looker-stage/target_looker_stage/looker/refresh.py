"""The once-per-run Looker refresh: datagroups, PDT builds, then the declared Scheduled Plans.

Runs after the last drain's STATE was emitted, as one batch of calls with one fresh login (API tokens
last about an hour and cannot be refreshed; a poll loop that could outlast its token logs in again before
the token expires). Failures are collected per item into the report and never raise out of here, except
through ``looker_failure: fail`` in the caller; nothing here can undo or lose the committed load.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from looker_sdk.sdk.api40 import models
from looker_sdk.sdk.api40.methods import Looker40SDK

from target_looker_stage.looker.client import (
    DEFAULT_RETRY,
    LookerCallError,
    LookerSession,
    RetryPolicy,
    jittered,
)
from target_looker_stage.looker.plans import ensure_plans, run_plans_once
from target_looker_stage.looker.report import ItemResult, LookerReport
from target_looker_stage.looker.settings import LookerSettings, PdtSpec
from target_looker_stage.stage import StageWriter

#: Seconds subtracted from "now" for datagroup times: Looker rejects times in its future (clock skew).
CLOCK_SKEW_SECONDS = 60
TERMINAL_OK = "complete"
TERMINAL_FAILED = ("error", "killed")
#: Consecutive "unknown" statuses after which a build counts as lost.
UNKNOWN_LIMIT = 3
#: Consecutive failed status checks (5xx, 429, connection) after which a build is reported failed.
CHECK_FAILURE_LIMIT = 5
#: Looker's answer to starting a view that is not a persisted derived table (or has no PDT API Control).
GENERIC_ERROR = "An error has occurred."


@dataclass(frozen=True)
class PollPolicy:
    first_delay: float = 0.5
    factor: float = 1.5
    max_delay: float = 15.0


DEFAULT_POLL = PollPolicy()


def run_refresh(
    settings: LookerSettings,
    *,
    records: int,
    logger: logging.Logger,
    policy: RetryPolicy = DEFAULT_RETRY,
    poll: PollPolicy = DEFAULT_POLL,
    clock: Callable[[], float] = time.time,
) -> LookerReport:
    """Refresh (or say why not), log one line per item, return the report."""
    report = LookerReport()
    if records == 0 and not settings.refresh_when_idle:
        report.skipped = "the input had no records (set looker_refresh_when_idle: true to refresh anyway)"
    elif not settings.has_work:
        report.skipped = "no looker_datagroups, looker_pdts or looker_scheduled_plans declared"
    else:
        _refresh(settings, report, policy=policy, poll=poll, clock=clock)
    report.finish()
    for line in report.lines():
        (logger.warning if line.startswith("looker: refresh failed") or " failed: " in line else logger.info)(
            line
        )
    return report


def _refresh(
    settings: LookerSettings,
    report: LookerReport,
    *,
    policy: RetryPolicy,
    poll: PollPolicy,
    clock: Callable[[], float],
) -> None:
    session = LookerSession(settings, policy=policy, stats=report.stats)
    datagroups = [report.add("datagroup", d.label) for d in settings.datagroups]
    pdts = [(spec, report.add("pdt", spec.label)) for spec in settings.pdts]
    try:
        with session.batch() as sdk:
            _trigger_datagroups(sdk, settings, datagroups, clock)
            _build_pdts(session, pdts, settings.pdt_timeout_seconds, poll)
            ids = ensure_plans(sdk, settings.scheduled_plans, report)
            run_plans_once(sdk, settings.scheduled_plans, ids, report)
    except LookerCallError as exc:
        report.aborted = exc.describe()


def _trigger_datagroups(
    sdk: Looker40SDK, settings: LookerSettings, items: list[ItemResult], clock: Callable[[], float]
) -> None:
    if not items:
        return
    try:
        served = {(str(d.model_name), str(d.name)): str(d.id) for d in sdk.all_datagroups()}
    except LookerCallError as exc:
        if exc.aborts_batch:
            raise
        for item in items:
            item.status, item.detail = "failed", f"listing datagroups: {exc.describe()}"
        return
    for spec, item in zip(settings.datagroups, items, strict=True):
        datagroup_id = served.get((spec.model, spec.name))
        if datagroup_id is None:
            models_served = sorted({m for m, _ in served})
            hint = f"model '{spec.model}' is not among {', '.join(models_served[:10]) or 'none'}"
            if spec.model in models_served:
                hint = f"model '{spec.model}' has no datagroup '{spec.name}'"
            item.status, item.detail = "failed", f"not found in Looker: {hint}; check looker_datagroups"
            continue
        at = int(clock()) - CLOCK_SKEW_SECONDS
        try:
            sdk.update_datagroup(datagroup_id, models.WriteDatagroup(stale_before=at, triggered_at=at))
            item.status = "triggered"
        except LookerCallError as exc:
            if exc.aborts_batch:
                raise
            item.status, item.detail = "failed", exc.describe(f"check looker_datagroups '{spec.label}'")


@dataclass
class _Build:
    spec: PdtSpec
    item: ItemResult
    materialization_id: str
    started: float
    unknown: int = 0
    check_failures: int = 0


def _build_pdts(
    session: LookerSession, items: list[tuple[PdtSpec, ItemResult]], timeout_seconds: int, poll: PollPolicy
) -> None:
    """Start every build, then poll them together with a growing delay until each ends or times out."""
    sdk = session.sdk
    builds: list[_Build] = []
    for spec, item in items:
        try:
            started = sdk.start_pdt_build(
                spec.model,
                spec.view,
                force_rebuild="true" if spec.force_rebuild else None,
                workspace=spec.workspace,
                source="target-looker-stage",
            )
        except LookerCallError as exc:
            if exc.aborts_batch:
                raise
            subject = (
                f"check looker_pdts: model '{spec.model}', view '{spec.view}' (a persisted derived table)"
            )
            detail = exc.describe(subject)
            if exc.kind == "rejected" or exc.detail == GENERIC_ERROR:
                detail = f"{detail}; {subject}, with 'Enable PDT API Control' on its connection"
            item.status, item.detail = "failed", detail
            continue
        if not started.materialization_id:
            status, message = _status(started.resp_text)
            item.status, item.detail = "failed", message or f"Looker started no build (status '{status}')"
            continue
        builds.append(_Build(spec, item, str(started.materialization_id), time.monotonic()))
    delay = poll.first_delay
    while builds:
        time.sleep(jittered(delay))
        delay = min(delay * poll.factor, poll.max_delay)
        session.ensure_fresh()
        for build in list(builds):
            if _check(sdk, build, timeout_seconds):
                builds.remove(build)


def _check(sdk: Looker40SDK, build: _Build, timeout_seconds: int) -> bool:
    """One status check; True when the build is over (its item then says how it ended)."""
    elapsed = time.monotonic() - build.started
    item = build.item
    try:
        status, message = _status(sdk.check_pdt_build(build.materialization_id).resp_text)
    except LookerCallError as exc:
        if exc.aborts_batch:
            raise
        build.check_failures += 1
        transient = exc.kind in ("server", "throttled", "unreachable")
        if transient and build.check_failures < CHECK_FAILURE_LIMIT and elapsed <= timeout_seconds:
            return False  # asked again next round, with the loop's growing delay
        item.status, item.detail = "failed", f"status check: {exc.describe()}"
        return True
    build.check_failures = 0
    if status == TERMINAL_OK:
        item.status, item.seconds = "built", elapsed
        return True
    if status in TERMINAL_FAILED:
        item.status, item.seconds = "failed", elapsed
        item.detail = message or f"Looker reports the build {status}"
        return True
    build.unknown = build.unknown + 1 if status == "unknown" else 0
    if build.unknown >= UNKNOWN_LIMIT:
        item.status, item.detail = "failed", "Looker lost track of the build (status 'unknown')"
        return True
    if elapsed > timeout_seconds:
        try:
            sdk.stop_pdt_build(build.materialization_id, source="target-looker-stage")
            stopped = "build stopped"
        except LookerCallError as exc:
            if exc.aborts_batch:
                raise
            stopped = f"stopping it failed: {exc.describe()}"
        item.status, item.seconds = "failed", elapsed
        item.detail = f"still '{status}' after looker_pdt_timeout_seconds ({timeout_seconds}s); {stopped}"
        return True
    return False


def _status(resp_text: str | None) -> tuple[str, str]:
    """(status, message) from a MaterializePDT's ``resp_text`` (a JSON string)."""
    try:
        body = json.loads(resp_text or "{}")
    except ValueError:
        return "unknown", " ".join(str(resp_text).split())[:300]
    if not isinstance(body, dict):
        return "unknown", ""
    message = body.get("message") or body.get("error") or ""
    return str(body.get("status") or "unknown").lower(), " ".join(str(message).split())[:300]


def refresh_after_load(
    settings: LookerSettings,
    *,
    records: int,
    logger: logging.Logger,
    stage_writer: StageWriter | None,
    policy: RetryPolicy = DEFAULT_RETRY,
    poll: PollPolicy = DEFAULT_POLL,
) -> str | None:
    """The target's end-of-run hook: refresh, publish the JSON summary next to the run manifest, and return
    the one-line error when the refresh failed and ``looker_failure`` is ``fail`` (None otherwise)."""
    try:
        report = run_refresh(settings, records=records, logger=logger, policy=policy, poll=poll)
    except Exception as exc:  # a bug or an SDK surprise must not turn a committed load into a traceback
        report = LookerReport(aborted=f"unexpected {type(exc).__name__} in the Looker refresh").finish()
        logger.warning("looker: refresh stopped: %s", report.aborted)
        logger.debug("looker: the unexpected error", exc_info=True)
    if stage_writer is not None:
        try:
            key = publish_summary(stage_writer, report.summary())
            logger.info("looker: report %s", key)
        except Exception as exc:  # the summary is a convenience; the log lines above are the report
            logger.warning("looker: could not publish the report (%s)", type(exc).__name__)
    if report.failed and settings.failure == "fail":
        failure = _first_failure(report)
        return f"looker refresh failed ({failure}); the loaded data is committed (looker_failure: fail)"
    return None


def _first_failure(report: LookerReport) -> str:
    if report.aborted:
        return report.aborted
    failed = [i for i in report.items if i.failed]
    return f"{len(failed)} of {len(report.items)} item(s): {failed[0].line().removeprefix('looker: ')}"


def publish_summary(stage_writer: StageWriter, summary: dict[str, object]) -> str:
    """``_manifests/run-<...>.looker_report.json`` next to the run manifest (same run id)."""
    key = stage_writer.manifest_key.removesuffix(".json") + ".looker_report.json"
    handle, name = tempfile.mkstemp(prefix="target-looker-stage-", suffix=".json")
    os.close(handle)
    local = Path(name)
    try:
        local.write_bytes(json.dumps(summary, indent=2).encode())
        stage_writer.storage.put_file(local, key)
    finally:
        local.unlink(missing_ok=True)
    return key
