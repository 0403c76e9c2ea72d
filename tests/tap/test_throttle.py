"""The per-realm limiter never lets more than N requests start in any 60-second window."""

from __future__ import annotations

from tap_quickbooks_cdc.throttle import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_requests_beyond_the_budget_wait_for_the_window_to_slide() -> None:
    clock = FakeClock()
    limiter = RateLimiter(3, 2, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(7):
        with limiter.slot():
            starts.append(clock.now)
        clock.now += 1.0
    assert starts[:3] == [1000.0, 1001.0, 1002.0]
    assert starts[3] == 1060.0  # the 4th waits until the 1st leaves the window
    for index in range(3, 7):
        window = [s for s in starts if starts[index] - 60 < s <= starts[index]]
        assert len(window) <= 3
    assert limiter.waited_seconds == sum(clock.slept)
