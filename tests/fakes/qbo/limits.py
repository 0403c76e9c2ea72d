"""Per-company throttling (requests per minute, concurrent requests) and injectable faults."""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from dataclasses import dataclass

FAULTS = frozenset(
    {
        "http500",
        "http502",
        "http503",
        "http429",
        "http429_xml",
        "fault200",
        "drop",
        "slow",
        "invalid_json",
        "fault6002",
    }
)


class RateLimiter:
    """Sliding one-minute window, optional one-second window and an in-flight counter per realm."""

    def __init__(self, requests_per_minute: int, max_concurrent: int, requests_per_second: int = 0) -> None:
        self.requests_per_minute = requests_per_minute
        self.max_concurrent = max_concurrent
        self.requests_per_second = requests_per_second  # 0: no per-second limit
        self._lock = threading.Lock()
        self._windows: dict[str, deque[float]] = {}
        self._in_flight: dict[str, int] = {}

    def acquire(self, realm_id: str) -> bool:
        """Admit one request (remember to ``release``) or refuse it (False: answer 429)."""
        now = time.monotonic()
        with self._lock:
            window = self._windows.setdefault(realm_id, deque())
            while window and window[0] <= now - 60.0:
                window.popleft()
            in_flight = self._in_flight.get(realm_id, 0)
            if len(window) >= self.requests_per_minute or in_flight >= self.max_concurrent:
                return False
            per_second = self.requests_per_second
            if per_second and len(window) >= per_second and window[-per_second] > now - 1.0:
                return False
            window.append(now)
            self._in_flight[realm_id] = in_flight + 1
            return True

    def release(self, realm_id: str) -> None:
        with self._lock:
            self._in_flight[realm_id] -= 1

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()


@dataclass
class Injection:
    fault: str
    remaining: int
    path_contains: str | None
    delay: float


class FaultInjector:
    """Queued one-shot faults plus optional seeded random ones."""

    def __init__(self, seed: int, random_probability: float, xml_probability: float) -> None:
        self._lock = threading.Lock()
        self._queue: list[Injection] = []
        self._rng = random.Random(seed)
        self.random_probability = random_probability
        self.xml_probability = xml_probability

    def add(self, fault: str, times: int, path_contains: str | None, delay: float) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; expected one of {sorted(FAULTS)}")
        with self._lock:
            self._queue.append(Injection(fault, times, path_contains, delay))

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()

    def take(self, path: str, is_data: bool) -> Injection | None:
        """The fault to apply to this request, if any.

        An injection without ``path_contains`` hits the next data request (query, cdc, read, write);
        one with ``path_contains`` hits the next non-admin request whose path contains it (token endpoint
        included).
        """
        with self._lock:
            for injection in self._queue:
                matches = is_data if injection.path_contains is None else injection.path_contains in path
                if matches:
                    injection.remaining -= 1
                    if injection.remaining <= 0:
                        self._queue.remove(injection)
                    return injection
            if is_data and self.random_probability and self._rng.random() < self.random_probability:
                return Injection(self._rng.choice(("http500", "http502", "http503")), 1, None, 0.0)
        return None

    def use_xml_throttle(self) -> bool:
        with self._lock:
            return bool(self.xml_probability) and self._rng.random() < self.xml_probability
