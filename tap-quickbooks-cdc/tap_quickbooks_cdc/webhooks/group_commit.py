"""Group commit: deliveries that arrive while a commit is on its way to disk share the next one.

Why: a durable commit costs one fsync (5-10 ms on ordinary disks), and the receiver may answer 200 only
after it. Committing each delivery alone caps a SQLite inbox at one delivery per fsync (about 80 a second
here), with every other request queueing behind the lock. Instead each caller enqueues its events and takes
the writer lock; whoever gets it first commits everything queued so far in one transaction, and the callers
whose events it carried find them done when they get the lock. Each delivery still answers only after the
commit that holds its events, so durability is the same; a failed commit fails every delivery in it (each
answers 503 and Intuit retries).
"""

from __future__ import annotations

import threading
import typing as t
from dataclasses import dataclass, field

if t.TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from tap_quickbooks_cdc.webhooks.payloads import Event


@dataclass
class _Waiting:
    events: Sequence[Event]
    done: bool = False
    stored: int = 0
    error: BaseException | None = field(default=None, repr=False)


class GroupCommit:
    """`add` from many threads; `commit(groups)` stores the groups in one transaction and returns the new
    count of each, or raises to fail them all. A group is as large as the requests in flight (the server's
    thread pool bounds it)."""

    def __init__(self, commit: Callable[[list[Sequence[Event]]], list[int]]) -> None:
        self._commit = commit
        self._writer = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queue: list[_Waiting] = []

    def add(self, events: Sequence[Event]) -> int:
        mine = _Waiting(events)
        with self._queue_lock:
            self._queue.append(mine)
        with self._writer:
            if not mine.done:  # nobody carried ours yet: commit everything waiting, ours included
                with self._queue_lock:
                    group, self._queue = self._queue, []
                self._run(group)
        if mine.error is not None:
            raise mine.error
        return mine.stored

    def _run(self, group: list[_Waiting]) -> None:
        try:
            counts = self._commit([waiting.events for waiting in group])
        except BaseException as exc:  # every delivery of the group fails with it (503, Intuit retries)
            for waiting in group:
                waiting.error, waiting.done = exc, True
            return
        for waiting, count in zip(group, counts, strict=True):
            waiting.stored, waiting.done = count, True
