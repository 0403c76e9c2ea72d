"""The SDK's `http_request_duration` point for one HTTP call, as its RESTStream logs one per response.

Neither the data client (`api.QboClient`) nor the token refresh (`auth.RealmAuth`) is a RESTStream, so both
log their calls here, with the same tags: endpoint (a path template, never a query or a body), HTTP status
(absent when no response came), succeeded/failed and the realm as the context. Nothing else goes in a point:
no header, no token, no form field.
"""

from __future__ import annotations

import time
import typing as t

from singer_sdk import metrics


def log_request(
    endpoint: str,
    realm_id: str,
    started: float,
    status: int | None,
    extra: t.Mapping[str, str] | None = None,
) -> None:
    """Log the call to `endpoint` that began at `started` (`time.perf_counter()`) and answered `status`."""
    tags: dict[str, t.Any] = {
        metrics.Tag.ENDPOINT: endpoint,
        metrics.Tag.STATUS: metrics.Status.SUCCEEDED
        if status is not None and status < 400
        else metrics.Status.FAILED,
        metrics.Tag.CONTEXT: {"realm_id": realm_id},
    }
    if status is not None:
        tags[metrics.Tag.HTTP_STATUS_CODE] = status
    tags.update(extra or {})
    point = metrics.Point(
        "timer",
        metric=metrics.Metric.HTTP_REQUEST_DURATION,
        value=time.perf_counter() - started,
        tags=tags,
    )
    metrics.log(metrics.get_metrics_logger(), point)
