"""The venue's clock as seen from here: server-time offset for signing requests (venues.md §9.7).

A signed request carries a ``timestamp`` the venue accepts only inside
``[serverTime - recvWindow, serverTime + 1000 ms)``. :class:`ClockOffset` measures the offset to the
venue's clock from its time endpoint (Binance ``GET /api/v3/time``): a sample is sent at local
``t0``, answered with server time ``S`` (whole ms), received at ``t1``; ``rtt = t1 - t0`` and the
server read its clock somewhere in ``[t0, t1]``, so ``offset = S - (t0 + rtt / 2)`` is right to
within ``rtt / 2``. A burst of samples keeps the one with the smallest ``rtt``.

:meth:`ClockOffset.timestamp_ms` signs with ``now + offset - rtt / 2``: the earliest the venue's
clock can read now, so a timestamp is never ahead of the venue (let alone 1000 ms), and it is
behind by at most ``rtt`` plus 2 ms (both clocks are read in whole ms), far inside any receive
window. Samples slower than ``max_rtt_ms`` say too little to be used.

The offset is measured again every ``resync_interval_s`` and at once after the venue refused a
timestamp (``-1021``): :meth:`ClockOffset.invalidate`, then :meth:`ClockOffset.run` (or a direct
:meth:`ClockOffset.sync`) takes a new burst. An offset beyond ``alert_ms`` is logged as a warning:
the host's clock needs NTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from engine.core.clock import Clock
from engine.errors import ClockSkew, GatewayError

log = logging.getLogger("engine.venues")

_MS = 1_000_000
_NS = 1_000_000_000

FetchServerTime = Callable[[], Awaitable[int]]
"""Asks the venue for its time; returns server time in milliseconds since the epoch."""


class ClockOffset:
    """Tracks the offset between this host's wall clock and one venue's.

    Args:
        clock: the local clocks (wall time for samples and signing, monotonic for ages).
        venue: venue name for logs and errors.
        burst: samples per measurement; the one with the smallest round trip wins.
        resync_interval_s: how old a measurement may grow before it is taken again.
        max_rtt_ms: samples with a longer round trip are not used.
        alert_ms: an offset beyond this is logged as a warning.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        venue: str = "binance",
        burst: int = 5,
        resync_interval_s: float = 300.0,
        max_rtt_ms: float = 1000.0,
        alert_ms: float = 500.0,
    ) -> None:
        if burst < 1:
            raise ValueError(f"a clock sync burst needs at least one sample, got {burst}")
        self.venue = venue
        self.burst = burst
        self.resync_interval_s = resync_interval_s
        self.max_rtt_ns = int(max_rtt_ms * _MS)
        self.alert_ns = int(alert_ms * _MS)
        self._clock = clock
        self.offset_ns = 0
        """Venue time minus local time, from the best sample of the last burst."""
        self.rtt_ns = 0
        """Round trip of that sample."""
        self.synced = False
        """True once a burst gave a usable sample."""
        self._synced_at = 0
        self._due = True
        self._best: tuple[int, int] | None = None  # (rtt, offset) of the burst being taken
        self._wake: asyncio.Event | None = None
        self.syncs = 0
        """Bursts that gave a usable sample."""

    # ---- samples ---------------------------------------------------------------------------------

    def begin_burst(self) -> None:
        """Start a new burst: samples after this compete only with each other."""
        self._best = None

    def add_sample(self, sent_ns: int, server_ms: int, received_ns: int) -> bool:
        """One round trip: local wall times sent/received (ns) and the venue's answer (ms).

        Returns:
            True when the sample is usable (and the best of its burst so far is kept).
        """
        rtt = received_ns - sent_ns
        if rtt < 0 or rtt > self.max_rtt_ns:
            return False
        offset = server_ms * _MS - (sent_ns + rtt // 2)
        if self._best is None or rtt < self._best[0]:
            self._best = (rtt, offset)
        return True

    def end_burst(self) -> bool:
        """Adopt the burst's best sample; False (and the old offset kept) when it had none."""
        best, self._best = self._best, None
        if best is None:
            return False
        self._adopt(*best)
        return True

    def _adopt(self, rtt_ns: int, offset_ns: int) -> None:
        self.rtt_ns, self.offset_ns = rtt_ns, offset_ns
        self.synced = True
        self.syncs += 1
        self._synced_at = self._clock.monotonic_ns()
        self._due = False
        if abs(self.offset_ns) > self.alert_ns:
            log.warning(
                "clock far from the venue's; check NTP",
                extra={"venue": self.venue, "offset_ms": self.offset_ns / _MS},
            )

    # ---- signing ---------------------------------------------------------------------------------

    def timestamp_ms(self) -> int:
        """The ``timestamp`` to sign with now: never ahead of the venue's clock."""
        return (self._clock.time_ns() + self.offset_ns - self.rtt_ns // 2) // _MS

    def venue_time_ns(self, local_ns: int) -> int:
        """A local wall time as the venue's clock would read it (best estimate)."""
        return local_ns + self.offset_ns

    # ---- when to measure -------------------------------------------------------------------------

    @property
    def due(self) -> bool:
        """True when a measurement is needed: never taken, invalidated, or too old."""
        if self._due:
            return True
        age_ns = self._clock.monotonic_ns() - self._synced_at
        return age_ns >= self.resync_interval_s * _NS

    def invalidate(self) -> None:
        """The venue refused a timestamp (-1021): measure again at once."""
        self._due = True
        if self._wake is not None:
            self._wake.set()

    async def sync(self, fetch: FetchServerTime) -> None:
        """Take one burst of samples with ``fetch`` and adopt the best.

        Raises:
            ClockSkew: when no sample of the burst was usable (the old offset stays).
        """
        best: tuple[int, int] | None = None  # (rtt, offset); local, so bursts never mix
        failures: list[str] = []
        for _ in range(self.burst):
            sent = self._clock.time_ns()
            try:
                server_ms = await fetch()
            except (GatewayError, OSError, TimeoutError) as exc:
                failures.append(str(exc))
                continue
            received = self._clock.time_ns()
            rtt = received - sent
            if rtt < 0 or rtt > self.max_rtt_ns:
                failures.append(f"round trip {rtt / _MS:.1f} ms is too slow")
                continue
            if best is None or rtt < best[0]:
                best = (rtt, server_ms * _MS - (sent + rtt // 2))
        if best is None:
            detail = failures[-1] if failures else "no samples"
            raise ClockSkew(self.venue, f"could not measure the venue's clock: {detail}")
        self._adopt(*best)

    async def run(self, fetch: FetchServerTime, retry_s: float = 5.0) -> None:
        """Keep measuring: whenever :attr:`due` (periodically, or at once after invalidate).

        Runs until cancelled. A failed burst is logged and tried again after ``retry_s``.
        """
        self._wake = asyncio.Event()
        while True:
            if self.due:
                try:
                    await self.sync(fetch)
                except ClockSkew as exc:
                    log.warning("clock sync failed", extra={"venue": self.venue, "error": str(exc)})
                    await asyncio.sleep(retry_s)
                    continue
            self._wake.clear()
            age_s = (self._clock.monotonic_ns() - self._synced_at) / _NS
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._wake.wait(), timeout=max(0.01, self.resync_interval_s - age_s)
                )
