"""Pytest fixtures: ``qbo_sim`` (a started two-company simulator) and ``qbo_sim_factory``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.fakes.qbo.config import SimConfig
from tests.fakes.qbo.simulator import QboSimulator

SimFactory = Callable[..., QboSimulator]


@pytest.fixture
def qbo_sim() -> Iterator[QboSimulator]:
    """A started simulator with the default ``SimConfig`` (2 companies), stopped afterwards."""
    with QboSimulator(SimConfig()) as sim:
        yield sim


@pytest.fixture
def qbo_sim_factory() -> Iterator[SimFactory]:
    """``factory(**SimConfig fields) -> started QboSimulator``; every simulator is stopped at teardown."""
    started: list[QboSimulator] = []

    def factory(**fields: Any) -> QboSimulator:
        sim = QboSimulator(SimConfig(**fields))
        sim.start()
        started.append(sim)
        return sim

    yield factory
    for sim in started:
        sim.stop()
