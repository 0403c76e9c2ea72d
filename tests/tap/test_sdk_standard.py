"""The Singer SDK's standard tap tests (CLI, discovery, stream syncs, schemas, keys) against the simulator."""

from __future__ import annotations

import atexit
import tempfile
import typing as t
from pathlib import Path

from singer_sdk.testing import get_tap_test_class

from tap_quickbooks_cdc.tap import TapQuickBooksCDC
from tests.fakes.qbo import QboSimulator, SimConfig


def _module_simulator() -> QboSimulator:
    """One small simulator for the generated test class (it needs its config at import time)."""
    sim = QboSimulator(SimConfig(companies=1, records_per_company=150, seed=7))
    sim.start(port=0)
    atexit.register(sim.stop)
    return sim


_SIM = _module_simulator()
_STORE = Path(tempfile.mkdtemp(prefix="tap-qbo-std-")) / "tokens.json"

CONFIG: dict[str, t.Any] = {
    "client_id": _SIM.client_id,
    "client_secret": _SIM.client_secret,
    "companies": [{"realm_id": r, "refresh_token": _SIM.current_refresh_token(r)} for r in _SIM.realm_ids],
    "api_base_url": _SIM.base_url,
    "token_url": _SIM.token_url,
    "token_store": str(_STORE),
    "retry_backoff_seconds": 0.05,
    "throttle_wait_seconds": 0.2,
}

TestTapQuickBooksCDC = get_tap_test_class(TapQuickBooksCDC, config=CONFIG)
