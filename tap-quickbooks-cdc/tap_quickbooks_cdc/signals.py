"""SIGTERM and SIGINT: the run ends with exit code 128 + signal, but never inside refresh -> persist.

Once Intuit has answered a refresh, the spent refresh token is dead and the new one exists only in this
process until the token store holds it; a signal acted on in between strands the company. And a run
stopped half-way must not exit 0, or an orchestrator reports a partial sync as a success.

The handler raises `Terminated` (a `SystemExit` with code 128 + signal) in the main thread, unless some
thread is inside a `shielded()` section (a refresh and its persist, a write of buffered messages to
stdout): then the signal is remembered and acted on when the last such section ends. A section begun
with `critical()` refuses to start once a signal arrived, and `check()` lets worker threads stop before
their next request.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from types import FrameType

HANDLED = (signal.SIGTERM, signal.SIGINT)

_lock = threading.RLock()  # re-entrant: the handler runs in the main thread, which may hold it
_depth = 0
_received: int | None = None
_pending: int | None = None
_terminating = False


class Terminated(SystemExit):
    """The run was told to stop by a signal; exits with 128 + the signal number if nobody catches it."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name


def received() -> int | None:
    """The first termination signal of this run, if any."""
    return _received


def handle(signum: int, frame: FrameType | None = None) -> None:
    """Signal handler: stop now (raise in the main thread) unless a shielded section runs; then later."""
    global _received, _pending, _terminating  # noqa: PLW0603 - process-wide signal state
    with _lock:
        if _received is None:
            _received = signum
        if _terminating:
            return
        if _depth > 0:
            _pending = signum
            return
        _terminating = True
    raise Terminated(signum)


def install() -> None:
    """Route SIGTERM and SIGINT to `handle` (only possible from the main thread)."""
    if threading.current_thread() is threading.main_thread():
        for signum in HANDLED:
            signal.signal(signum, handle)


def begin_exit() -> None:
    """The run is stopping (a `Terminated` is being handled): later signals are ignored."""
    global _terminating  # noqa: PLW0603
    with _lock:
        _terminating = True


def check() -> None:
    """Raise `Terminated` in this thread if a signal arrived: no new request starts after one."""
    signum = _received
    if signum is None:
        return
    if threading.current_thread() is threading.main_thread():
        begin_exit()
    raise Terminated(signum)


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """A section a signal cannot cut: one arriving meanwhile takes effect when the last section ends."""
    global _depth, _pending  # noqa: PLW0603
    with _lock:
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            signum = _pending if _depth == 0 and not _terminating else None
            if signum is not None:
                _pending = None
        if signum is not None:
            _deliver(signum)


@contextlib.contextmanager
def critical() -> Iterator[None]:
    """`shielded()`, but refusing to start once a signal arrived (nothing is spent after one)."""
    check()
    with shielded():
        yield


def _deliver(signum: int) -> None:
    """Act on a deferred signal: in the main thread raise; from a worker, re-send it to the main thread."""
    if threading.current_thread() is threading.main_thread():
        handle(signum)
    else:
        ident = threading.main_thread().ident
        if ident is not None:
            signal.pthread_kill(ident, signum)


def reset() -> None:
    """Forget received signals (tests running several taps in one process)."""
    global _received, _pending, _terminating  # noqa: PLW0603
    with _lock:
        _received = _pending = None
        _terminating = False
