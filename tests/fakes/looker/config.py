"""Configuration of a simulated Looker instance: models with their views and datagroups, SQL connections,
token lifetime, latency and the run_once rate limit."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PdtView:
    """One LookML view. A persisted derived table goes added -> running -> complete (or error) by elapsed
    time: ``added`` for the first fifth of ``build_seconds``, ``running`` until ``build_seconds``, then
    ``complete``, or ``error`` carrying ``error`` as its message. ``persisted=False``: a plain view, which
    the PDT API refuses.
    """

    build_seconds: float = 0.5
    error: str | None = None
    persisted: bool = True


def _default_models() -> dict[str, dict[str, object]]:
    return {
        "finance": {
            "datagroups": ["qbo_etl"],
            "views": {
                "ar_aging": PdtView(build_seconds=0.5),
                "gl": PdtView(build_seconds=0.2, error="Table 'x' not found"),
                "plain_view": PdtView(persisted=False),
            },
        },
    }


@dataclass
class LookerSimConfig:
    """Knobs of one simulator instance; every field has a realistic default.

    ``models`` maps a model name to ``{"datagroups": [name, ...], "views": {name: PdtView}}``.
    ``sql_connections`` are connection names served by ``/connections`` and ``/sql_queries``, all backed by
    one real SQLite database file (``LookerSimulator.sql_database_path``).
    """

    token_lifetime_seconds: float = 3600.0  # expires_in of /login; the token really stops working after it
    latency_seconds: float = 0.0  # added to every call
    models: dict[str, dict[str, object]] = field(default_factory=_default_models)
    sql_connections: list[str] = field(default_factory=lambda: ["warehouse"])
    run_once_per_second: int = 10  # both run_once endpoints together; 429 above
    sql_database_path: str | None = None  # None: a fresh file in a temporary folder, removed on stop
    # False: a failing statement answers 400 {message, documentation_url}. True: 200 with
    # [{"looker_error": "SQL Error: ..."}] for the json formats, as Looker answers failing query runs
    sql_errors_in_body: bool = False
