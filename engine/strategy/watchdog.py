"""The callback watchdog: interrupts a strategy callback that never returns.

A callback running on the event loop cannot be interrupted from the loop itself: while it spins,
nothing else on the loop runs. So a watchdog thread watches the callback in progress, and once it
has run past its limit (``factor`` times the runner's budget, 100 x 5 ms = 0.5 s by default) it
raises :class:`CallbackHung` in the loop thread with ``PyThreadState_SetAsyncExc`` (through
ctypes). The interpreter delivers it at the callback's next bytecode, the runner catches it,
stops the strategy, cancels its orders and raises an alert, and the engine goes on.

Why this and not ``signal.pthread_kill`` and a handler: Python runs signal handlers only in the
main thread, and the engine's loop need not be the main thread (tests, an embedding TUI); an async
exception reaches any thread. Its limit: it is delivered only when the thread runs Python
bytecode, so a callback stuck inside one C call (a blocking socket read, ``time.sleep(1e9)``) is
interrupted when that call returns. A pure-Python loop (``while True: ...``) is interrupted
within one poll period (a quarter of the limit).

Only the strategy's own code is armed: the runner arms the watchdog around the callback and
disarms it before its actions go through the OMS and risk, so an interruption never lands inside
the engine's bookkeeping. Disarming clears an exception that was raised but not yet delivered
(``PyThreadState_SetAsyncExc(thread, NULL)``), under the same lock the watchdog fires under, so
nothing escapes past the callback.

:class:`CallbackHung` derives from ``BaseException`` (like ``KeyboardInterrupt``) so that a
strategy's own ``except Exception`` cannot swallow it; a strategy that swallows even that is
interrupted again at every poll.
"""

from __future__ import annotations

import ctypes
import logging
import threading
import time

log = logging.getLogger("engine.strategy")

DEFAULT_FACTOR = 100
"""A callback is interrupted past this many times the runner's budget."""

_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_set_async_exc.argtypes = (ctypes.c_ulong, ctypes.py_object)
_set_async_exc.restype = ctypes.c_int


class CallbackHung(BaseException):
    """Raised inside a strategy callback that ran past the watchdog's limit."""


class Watchdog:
    """Watches one callback at a time and interrupts it past ``limit_ns``.

    Args:
        limit_ns: wall time a callback may run before it is interrupted.
        poll_ns: how often the watchdog thread looks; a quarter of the limit by default.

    Raises:
        ValueError: ``limit_ns`` is not positive.
    """

    def __init__(self, limit_ns: int, poll_ns: int = 0) -> None:
        if limit_ns <= 0:
            raise ValueError(f"watchdog limit {limit_ns} ns must be positive")
        self.limit_ns = limit_ns
        self.poll_s = (poll_ns or max(limit_ns // 4, 1_000_000)) / 1e9
        self.interrupts = 0
        """Callbacks interrupted so far."""
        self._lock = threading.Lock()
        self._armed: tuple[int, int, str] | None = None
        """(loop thread id, start monotonic ns, strategy name) of the callback running."""
        self._fired = False
        self._fired_ns = 0
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()

    def arm(self, strategy: str) -> None:
        """A callback of ``strategy`` starts on this thread."""
        if self._thread is None:
            self._start()
        self._armed = (threading.get_ident(), time.monotonic_ns(), strategy)

    def disarm(self) -> bool:
        """The callback returned (or raised); True when the watchdog fired for it.

        Any interruption raised but not yet delivered is cleared, so none lands afterwards.
        """
        with self._lock:
            armed, fired = self._armed, self._fired
            self._armed = None
            self._fired = False
            if fired and armed is not None:
                _set_async_exc(armed[0], ctypes.py_object())  # NULL: clear a pending one
        return fired

    def close(self) -> None:
        """Stop the watchdog thread. Idempotent."""
        self._closed.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=1)

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._watch, name="strategy-watchdog", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._closed.wait(self.poll_s):
            armed = self._armed
            if armed is not None and time.monotonic_ns() - armed[1] > self.limit_ns:
                self._fire(armed)

    def _fire(self, seen: tuple[int, int, str]) -> None:
        with self._lock:
            now = time.monotonic_ns()
            if self._armed is not seen:  # it returned meanwhile
                return
            if self._fired and now - self._fired_ns < self.limit_ns:
                return  # the last one may still be on its way; again only a whole limit later
            self._fired = True
            self._fired_ns = now
            self.interrupts += 1
            _set_async_exc(seen[0], ctypes.py_object(CallbackHung))
        log.error(
            "strategy callback never returned; interrupted",
            extra={"strategy": seen[2], "limit_ns": self.limit_ns},
        )
