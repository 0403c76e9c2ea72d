"""Pytest fixtures: ``looker_sim`` (a started simulator, default config) and ``looker_sim_factory``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.fakes.looker.config import LookerSimConfig
from tests.fakes.looker.simulator import LookerSimulator

LookerSimFactory = Callable[..., LookerSimulator]


@pytest.fixture
def looker_sim() -> Iterator[LookerSimulator]:
    """A started simulator with the default ``LookerSimConfig``, stopped afterwards."""
    with LookerSimulator(LookerSimConfig()) as sim:
        yield sim


@pytest.fixture
def looker_sim_factory() -> Iterator[LookerSimFactory]:
    """``factory(**LookerSimConfig fields) -> started LookerSimulator``; all are stopped at teardown."""
    started: list[LookerSimulator] = []

    def factory(**fields: Any) -> LookerSimulator:
        sim = LookerSimulator(LookerSimConfig(**fields))
        sim.start()
        started.append(sim)
        return sim

    yield factory
    for sim in started:
        sim.stop()
