"""Per-realm request budget: at most N requests in any 60-second window and M in flight at once."""

from __future__ import annotations

import collections
import contextlib
import threading
import time
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

WINDOW_SECONDS = 60.0


class RateLimiter:
    """A sliding-window limiter plus a concurrency cap; `slot()` blocks until a request may start."""

    def __init__(
        self,
        requests_per_minute: int,
        max_concurrent: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.requests_per_minute = requests_per_minute
        self._concurrency = threading.BoundedSemaphore(max_concurrent)
        self._starts: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self.waited_seconds = 0.0

    def _reserve(self) -> float:
        """Record a start now if the window has room; else return how long to wait."""
        with self._lock:
            now = self._clock()
            while self._starts and now - self._starts[0] >= WINDOW_SECONDS:
                self._starts.popleft()
            if len(self._starts) < self.requests_per_minute:
                self._starts.append(now)
                return 0.0
            return WINDOW_SECONDS - (now - self._starts[0])

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one request slot for the duration of the block."""
        with self._concurrency:
            while (wait := self._reserve()) > 0:
                self.waited_seconds += wait
                self._sleep(wait)
            yield
