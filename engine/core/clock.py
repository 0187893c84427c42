"""Clocks in integer nanoseconds: wall time for live trading, a settable clock for tests."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """What every engine component reads time from."""

    def time_ns(self) -> int:
        """Wall-clock time since the Unix epoch, in nanoseconds."""
        ...

    def monotonic_ns(self) -> int:
        """A clock that never goes backwards, for intervals and rates, in nanoseconds."""
        ...


class LiveClock:
    """The machine's clocks."""

    def time_ns(self) -> int:
        """Wall-clock time since the Unix epoch, in nanoseconds."""
        return time.time_ns()

    def monotonic_ns(self) -> int:
        """Monotonic time, in nanoseconds."""
        return time.monotonic_ns()


class SimClock:
    """A clock that moves only when told to: deterministic tests, snapshots and replays.

    Args:
        start_ns: the initial wall time in nanoseconds since the epoch.
    """

    def __init__(self, start_ns: int = 1_700_000_000_000_000_000) -> None:
        self._now = start_ns
        self._start = start_ns

    def time_ns(self) -> int:
        """The simulated wall time."""
        return self._now

    def monotonic_ns(self) -> int:
        """Simulated time since the clock was made."""
        return self._now - self._start

    def advance(self, ns: int) -> None:
        """Move time forward by ``ns`` nanoseconds.

        Raises:
            ValueError: when ``ns`` is negative; simulated time never goes backwards.
        """
        if ns < 0:
            raise ValueError(f"SimClock cannot go backwards ({ns} ns)")
        self._now += ns

    def set(self, now_ns: int) -> None:
        """Jump to ``now_ns``, which must not be earlier than the current time."""
        self.advance(now_ns - self._now)
