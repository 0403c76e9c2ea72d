"""Configuration of a simulated QuickBooks Online deployment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass
class SimConfig:
    """Knobs of one simulator instance; every field has a realistic default.

    ``anchor`` pins the end of the generated history (defaults to server construction time,
    floored to the hour); two simulators with the same seed and anchor serve identical data.
    """

    companies: int = 2
    seed: int = 1
    records_per_company: int = 400  # approx total across entities; lists get a floor so every entity has rows
    access_token_ttl: float = 3600.0
    requests_per_minute: int = 500
    max_concurrent: int = 10
    # Intuit documents 10 per second per company (older docs: 10 concurrent); 0 turns this limit off
    requests_per_second: int = 0
    latency: float = 0.0  # seconds added to every data request
    history_days: int = 730
    xml_throttle_probability: float = 0.0  # share of 429 responses that use Intuit's XML body
    random_fault_probability: float = 0.0  # share of data requests answered with a random 5xx (seeded)
    anchor: datetime | None = None
    render_cache_mb: int = 128  # serialized bodies kept for re-reads, shared by all companies
    prefetch: bool = True  # render the next query page in the background (needs the render cache)
    # every company gets a second Accounts Receivable account and a DepartmentRef on every transaction
    # (the duplicate-GL-lines case of dbt_quickbooks #104/#115)
    multi_ar_departments: bool = False
