"""Forcing a file's appended data to disk from a thread of its own, within a bound.

The journal's ``batch`` policy promises that a record reaches the disk within ``batch_ms`` of
being appended. An ``os.fsync`` takes from a few hundred microseconds to several milliseconds; done
inside ``append`` it lands on whichever order happens to come due, on the trading thread. A
:class:`BackgroundSync` does it from a daemon thread instead (``os.fsync`` releases the GIL, so the
appending thread never waits for the disk): :meth:`mark` after each write, and the thread fsyncs
at once if the last fsync is ``interval_s`` old, else when it becomes so. Writes made while an
fsync runs are covered by the next one. The thread also fsyncs records appended just before a
quiet spell, which an fsync-on-the-next-append scheme would leave in the page cache indefinitely.
"""

from __future__ import annotations

import logging
import os
import threading
import time

log = logging.getLogger("engine.oms.journal")


class BackgroundSync:
    """Fsyncs ``fd`` within ``interval_s`` of each :meth:`mark`, from its own daemon thread.

    Args:
        fd: the open file descriptor to force to disk; it must stay open until :meth:`stop`.
        interval_s: the longest time between a write and the fsync that covers it, and the
            shortest between two fsyncs.
        name: the thread's name (shown by ``py-spy`` and in thread dumps).
    """

    def __init__(self, fd: int, interval_s: float, name: str) -> None:
        self._fd = fd
        self._interval_s = interval_s
        self._lock = threading.Lock()
        self._dirty = threading.Event()
        self._stopping = threading.Event()
        self.error: OSError | None = None
        """The first fsync failure not yet reported (the owner raises it on its next write)."""
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def mark(self) -> None:
        """Data was written: have it on disk within the interval.

        Called once per journal append on the trading thread: setting an Event takes its lock and
        notifies, so it is set only when clear. A mark skipped because the flag was still set is
        covered: the thread clears the flag before its fsync, so that fsync follows the write.
        """
        if not self._dirty.is_set():
            self._dirty.set()

    def sync_now(self) -> None:
        """Fsync on the caller's thread now (waits for an fsync the thread has in progress).

        Raises:
            OSError: the fsync failed.
        """
        with self._lock:
            self._dirty.clear()
            os.fsync(self._fd)

    def stop(self) -> None:
        """End the thread, after the fsync it may be in; the owner fsyncs and closes the file."""
        self._stopping.set()
        self._dirty.set()
        self._thread.join()

    def _run(self) -> None:
        last = 0.0
        while not self._stopping.is_set():  # checked again here: an fsync may have cleared
            self._dirty.wait()  # the mark that stop() set to wake this thread
            if self._stopping.is_set():
                return
            delay = last + self._interval_s - time.monotonic()
            if delay > 0 and self._stopping.wait(delay):
                return
            with self._lock:
                self._dirty.clear()
                try:
                    os.fsync(self._fd)
                except OSError as exc:
                    log.critical("journal fsync failed: %s", exc)
                    if self.error is None:
                        self.error = exc
            last = time.monotonic()
