"""Fault injection for the local venue: each call arms a one-shot or counted fault.

The venue consults the injector as it serves: the next diffs of a symbol lose update ids (a
gap), are sent twice or swapped with the diff after them, the next frames are preceded by garbage
or by a frame too large for any client, the next REST answers are 429s, late or stale.
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


OVERSIZED_BYTES = (1 << 24) + 1024
"""Default size of an oversized frame: just over the engine's 16 MiB WebSocket message limit."""


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
    duplicated: int = 0
    reordered: int = 0
    oversized: int = 0


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
        self._duplicated = 0
        self._reordered = 0
        self._held: dict[str, str] = {}
        self._oversized = 0
        self._oversized_bytes = OVERSIZED_BYTES

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

    def duplicate_next(self, count: int = 1) -> None:
        """Send each of the next ``count`` depth diffs twice in a row.

        Raises:
            SimError: when ``count`` is below 1.
        """
        _at_least(1, count=count)
        self._duplicated += count
        log.info("fault armed: duplicate diffs", extra={"count": count})

    def reorder_next(self, count: int = 1) -> None:
        """Hold back each of the next ``count`` depth diffs and send it after the diff that follows.

        Raises:
            SimError: when ``count`` is below 1.
        """
        _at_least(1, count=count)
        self._reordered += count
        log.info("fault armed: out-of-order diffs", extra={"count": count})

    def oversized_next(self, count: int = 1, size_bytes: int = 0) -> None:
        """Send a frame of ``size_bytes`` (default :data:`OVERSIZED_BYTES`) ahead of the next ones.

        The frame is larger than any client's message size limit, so it ends the connection on
        the client's side; the real frames behind it are lost with the connection.

        Raises:
            SimError: when ``count`` is below 1 or ``size_bytes`` is negative.
        """
        _at_least(1, count=count)
        _at_least(0, size_bytes=size_bytes)
        self._oversized += count
        self._oversized_bytes = size_bytes or OVERSIZED_BYTES
        log.info("fault armed: oversized frames", extra={"count": count, "bytes": size_bytes})

    def clear(self) -> None:
        """Disarm every counted fault, order-side ones too (gaps already armed still apply).

        A diff held back for reordering is dropped, which the client sees as a gap.
        """
        self._malformed = self._rate_limited = self._slow = 0
        self._duplicated = self._reordered = self._oversized = 0
        self._held.clear()
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
            duplicated=self._duplicated,
            reordered=self._reordered,
            oversized=self._oversized,
        )

    # ---- firing (called by the venue) -----------------------------------------------------------

    def take_malformed(self) -> int | None:
        """If a malformed frame is due, consume it and return its variant number."""
        if not self._malformed:
            return None
        self._malformed -= 1
        self._malformed_sent += 1
        return self._malformed_sent - 1

    def take_oversized(self) -> str | None:
        """If an oversized frame is due, consume it and return its text (valid JSON, too long)."""
        if not self._oversized:
            return None
        self._oversized -= 1
        return '{"pad":"' + "x" * self._oversized_bytes + '"}'

    def depth_frames(self, stream: str, data: str) -> list[str]:
        """The frames to send now for the diff ``data`` of ``stream``, in order.

        Normally ``[data]``; a duplicate fault gives it twice, a reorder fault holds it back (none
        now) and sends it after the next diff of the same stream.
        """
        held = self._held.pop(stream, None)
        if held is not None:
            return [data, held]
        if self._reordered:
            self._reordered -= 1
            self._held[stream] = data
            return []
        if self._duplicated:
            self._duplicated -= 1
            return [data, data]
        return [data]

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
