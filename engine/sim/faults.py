"""Fault injection for the local venue: each call arms a one-shot or counted fault.

The venue consults the injector as it serves: the next diffs of a symbol lose update ids (a
gap), the next frames are preceded by garbage, the next REST answers are 429s, late or stale.
Disconnects happen at once. Every fault is reachable in-process and over HTTP (``/sim/faults/...``)
so tests can drive a venue that runs in another process. Faults on the order endpoints and the
user stream live in :attr:`FaultInjector.trading` (:mod:`engine.sim.trading_faults`).
"""

from __future__ import annotations

import logging
from typing import Protocol

import msgspec

from engine.sim import SimError
from engine.sim.trading_faults import TradingFaults, UserStreamTarget

log = logging.getLogger("engine.sim")


class FaultTarget(Protocol):
    """What the injector needs from the venue for the faults that act at once."""

    def has_symbol(self, symbol: str) -> bool:
        """Whether the venue lists ``symbol``."""
        ...

    def skip_update_ids(self, symbol: str, missing: int) -> None:
        """Leave the next ``missing`` update ids of ``symbol`` out of every diff stream."""
        ...

    def drop_connections(self) -> int:
        """Cut every WebSocket connection without a close frame; returns how many."""
        ...


class RateLimitFault(msgspec.Struct, frozen=True):
    """A 429 answer to serve: Binance's -1003 body with ``Retry-After: retry_after_s``."""

    retry_after_s: int


class ArmedFaults(msgspec.Struct, frozen=True):
    """Faults still waiting to fire, as counts."""

    malformed: int
    rate_limited: int
    retry_after_s: int
    slow: int
    slow_delay_s: float
    stale_snapshot: bool


class FaultInjector:
    """Arms faults on a venue.

    Args:
        target: the venue; it applies gaps and disconnects when they are armed.
        user_streams: the venue's WebSocket API, for the order-side faults in :attr:`trading`.
    """

    def __init__(self, target: FaultTarget, user_streams: UserStreamTarget | None = None) -> None:
        self._target = target
        self.trading = TradingFaults(user_streams or _NoUserStreams())
        """Faults on the order endpoints and the user stream."""
        self._malformed = 0
        self._malformed_sent = 0
        self._rate_limited = 0
        self._retry_after_s = 1
        self._slow = 0
        self._slow_delay_s = 0.0
        self._stale = False

    # ---- arming -------------------------------------------------------------------------------

    def gap_next(self, symbol: str, missing: int = 1) -> None:
        """Leave the next ``missing`` update ids of ``symbol`` out of its diffs: a visible gap.

        The changes behind those ids still happen in the true book, so a client that misses the
        gap ends up with a wrong book, and one that resyncs from a snapshot gets the right one.

        Raises:
            SimError: for an unknown symbol or ``missing`` below 1.
        """
        _at_least(1, missing=missing)
        if not self._target.has_symbol(symbol):
            raise SimError(f"unknown symbol {symbol!r}")
        self._target.skip_update_ids(symbol, missing)
        log.info("fault armed: gap", extra={"symbol": symbol, "missing": missing})

    def disconnect_all(self) -> int:
        """Cut every WebSocket connection at once, without a close frame; returns how many."""
        dropped = self._target.drop_connections()
        log.info("fault: disconnected every stream", extra={"connections": dropped})
        return dropped

    def malformed_next(self, count: int = 1) -> None:
        """Send a broken frame ahead of each of the next ``count`` frames.

        The broken frames are cut-off JSON and the wrong shape, alternately. The real frames still
        follow, so no update is lost.

        Raises:
            SimError: when ``count`` is below 1.
        """
        _at_least(1, count=count)
        self._malformed += count
        log.info("fault armed: malformed frames", extra={"count": count})

    def rate_limit_next(self, count: int = 1, retry_after_s: int = 1) -> None:
        """Answer the next ``count`` REST requests with HTTP 429, ``Retry-After`` and code -1003.

        Raises:
            SimError: when ``count`` is below 1 or ``retry_after_s`` below 0.
        """
        _at_least(1, count=count)
        _at_least(0, retry_after_s=retry_after_s)
        self._rate_limited += count
        self._retry_after_s = retry_after_s
        log.info("fault armed: rate limit", extra={"count": count, "retry_after_s": retry_after_s})

    def slow_rest(self, delay_s: float, count: int = 1) -> None:
        """Hold each of the next ``count`` REST answers for ``delay_s`` seconds.

        Raises:
            SimError: when ``count`` is below 1 or ``delay_s`` is negative.
        """
        _at_least(1, count=count)
        if not delay_s >= 0:
            raise SimError(f"delay_s must be zero or more, not {delay_s}")
        self._slow += count
        self._slow_delay_s = delay_s
        log.info("fault armed: slow REST", extra={"count": count, "delay_s": delay_s})

    def stale_snapshot_next(self) -> None:
        """Serve the next depth snapshot from the past.

        It is the oldest book the venue still remembers, so its ``lastUpdateId`` precedes the
        diffs a client buffered before asking for it.
        """
        self._stale = True
        log.info("fault armed: stale snapshot")

    def clear(self) -> None:
        """Disarm every counted fault, order-side ones too (gaps already armed still apply)."""
        self._malformed = self._rate_limited = self._slow = 0
        self._stale = False
        self.trading.clear()

    def armed(self) -> ArmedFaults:
        """What is still waiting to fire."""
        return ArmedFaults(
            malformed=self._malformed,
            rate_limited=self._rate_limited,
            retry_after_s=self._retry_after_s,
            slow=self._slow,
            slow_delay_s=self._slow_delay_s,
            stale_snapshot=self._stale,
        )

    # ---- firing (called by the venue) -----------------------------------------------------------

    def take_malformed(self) -> int | None:
        """If a malformed frame is due, consume it and return its variant number."""
        if not self._malformed:
            return None
        self._malformed -= 1
        self._malformed_sent += 1
        return self._malformed_sent - 1

    def take_rate_limit(self) -> RateLimitFault | None:
        """If a 429 is due, consume it."""
        if not self._rate_limited:
            return None
        self._rate_limited -= 1
        return RateLimitFault(self._retry_after_s)

    def take_delay(self) -> float:
        """Seconds to hold this REST answer (0 when no slow answer is due)."""
        if not self._slow:
            return 0.0
        self._slow -= 1
        return self._slow_delay_s

    def take_stale_snapshot(self) -> bool:
        """Whether this depth snapshot should come from the past."""
        stale, self._stale = self._stale, False
        return stale


class _NoUserStreams:
    """A venue without a WebSocket API: nothing to cut or end."""

    def drop_user_streams(self) -> int:
        return 0

    def end_user_streams(self) -> int:
        return 0


def _at_least(minimum: int, **values: int) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise SimError(f"{name} must be a whole number of at least {minimum}, not {value!r}")
