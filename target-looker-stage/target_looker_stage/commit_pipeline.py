"""Batches are committed by one background thread while the main thread reads and decodes the next one.

Why: on 2 cores the target's time splits in two halves of about the same size: reading and decoding the
input (Python, under the GIL: ~20 µs a QBO invoice) and committing it (Parquet encoding, DuckDB's insert,
PostgreSQL's COPY: C++ or the server, GIL released: ~20-30 µs a row). Done one after the other they add
up; overlapped, a run takes about the longer of the two.

What stays exactly as before:
- **Order.** One worker runs the tasks in the order they were submitted: the batches in input order, and a
  STATE after every batch submitted before it. A STATE therefore still reaches stdout only after every
  batch before it is committed (durably: each task returns only after its commit).
- **Failure.** The first task that fails stops the worker: nothing submitted after it runs, so no STATE
  follows a batch that was not committed. Its error is raised in the main thread at the next ``submit``
  or ``barrier``, as if the batch had been committed in place (the same exception, one line).
- **Batch boundaries** depend on the input only (the main thread decides them, as before).
- **Memory** stays bounded: ``submit`` waits while ``max_pending`` batches are queued or running.
- **Signals.** ``abandon`` lets the running task finish (a commit is never cut by the exit) and drops
  the rest, STATE included: the next run re-sends those records, as after a kill.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

Task = Callable[[], None]
#: Longest wait for the running commit when a signal stops the run (a batch of 5,000 invoices commits in
#: 0.1-1.5 s here; a hung server must not keep a stopped run alive: its transaction is then rolled back).
ABANDON_TIMEOUT_S = 30.0


class CommitPipeline:
    """A FIFO of commit and STATE tasks run by one daemon thread (started at the first task)."""

    def __init__(self, *, max_pending: int = 2) -> None:
        self._tasks: queue.SimpleQueue[tuple[Task, bool] | None] = queue.SimpleQueue()
        self._slots = threading.BoundedSemaphore(max_pending)
        self._idle = threading.Condition()
        self._unfinished = 0
        self._error: BaseException | None = None
        self._abandoned = False
        self._thread: threading.Thread | None = None

    def submit(self, task: Task, *, batch: bool = True) -> None:
        """Queue ``task``. A batch waits for a slot (bounded memory); STATE tasks never wait. Raises the
        error of an earlier task instead of queueing after it."""
        self.raise_error()
        if batch:
            self._slots.acquire()  # the worker releases a slot after each batch, failed or not
            if self._error is not None:
                self._slots.release()
                self.raise_error()
        with self._idle:
            self._unfinished += 1
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="commit", daemon=True)
            self._thread.start()
        self._tasks.put((task, batch))

    def barrier(self) -> None:
        """Wait until every submitted task has run; raise the first error among them."""
        with self._idle:
            while self._unfinished and self._error is None:
                self._idle.wait()
        self.raise_error()

    def raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    @property
    def failed(self) -> bool:
        return self._error is not None

    def abandon(self, *, timeout: float = ABANDON_TIMEOUT_S) -> None:
        """Run nothing more: wait for the running task (if any, at most ``timeout`` seconds: a warehouse
        that hangs must not keep a stopped run alive) and drop the queued ones."""
        self._abandoned = True
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            self._tasks.put(None)
            thread.join(timeout)

    def close(self) -> None:
        """Stop the worker once it has run what is queued (call ``barrier`` first to see errors)."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._tasks.put(None)
            thread.join()

    def _work(self) -> None:
        while True:
            item = self._tasks.get()
            if item is None:
                return
            task, batch = item
            try:
                if self._error is None and not self._abandoned:
                    task()
            except BaseException as exc:  # re-raised in the main thread (raise_error)
                self._error = exc
            finally:
                if batch:
                    self._slots.release()
                with self._idle:
                    self._unfinished -= 1
                    self._idle.notify_all()
