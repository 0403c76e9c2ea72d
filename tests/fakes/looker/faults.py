"""Injected answers: the next ``times`` calls matching a method and a path prefix get a chosen status."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any


@dataclass
class Injection:
    method: str | None  # None: any method
    path_prefix: str | None  # None: any path
    status: int
    remaining: int
    retry_after: float | None
    body: Any  # None: Looker's error body for the status; dict/list: JSON; str/bytes: sent as is

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path_prefix is None or path.startswith(self.path_prefix)


class Injector:
    """Queued one-shot answers, first match wins; /login can be hit too (give its path)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[Injection] = []

    def add(self, injection: Injection) -> None:
        if injection.remaining < 1:
            raise ValueError(f"times must be at least 1, got {injection.remaining}")
        with self._lock:
            self._queue.append(injection)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()

    def take(self, method: str, path: str) -> Injection | None:
        with self._lock:
            for injection in self._queue:
                if injection.matches(method, path):
                    injection.remaining -= 1
                    if injection.remaining <= 0:
                        self._queue.remove(injection)
                    return injection
        return None
