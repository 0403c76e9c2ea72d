"""A Looker (API 4.0) simulator for tests and benchmarks (see ``simulator.LookerSimulator``)."""

from tests.fakes.looker.config import LookerSimConfig, PdtView
from tests.fakes.looker.simulator import LookerCall, LookerSimulator

__all__ = ["LookerCall", "LookerSimConfig", "LookerSimulator", "PdtView"]
