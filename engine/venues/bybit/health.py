"""Whether the Bybit order link may be used, and telling the listener when that changes.

The link is healthy while the private stream is authenticated and subscribed and nothing else
holds it bad: an address ban (until it ends), a refused key, or garbage from the venue (until the
stream has reconnected, which also means the OMS reconciles). Only changes between healthy and
bad reach :meth:`~engine.venues.base.GatewayListener.on_gateway_link`; the latest reason is in
``stats.reason``.
"""

from __future__ import annotations

import asyncio
import logging

from engine.errors import IpBanned
from engine.venues.base import GatewayListener, GatewayStats
from engine.venues.ratelimit import RateLimiter

log = logging.getLogger("engine.venues.bybit")


class LinkHealth:
    """The order link's state for one gateway.

    Args:
        venue: venue name for the listener and logs.
        stats: the gateway's stats (``healthy`` and ``reason`` are kept there).
        listener: told of every change.
        limiter: the venue's limiter (its ban holds the link bad).
    """

    def __init__(
        self, venue: str, stats: GatewayStats, listener: GatewayListener, limiter: RateLimiter
    ) -> None:
        self.venue = venue
        self.stats = stats
        self.listener = listener
        self.limiter = limiter
        self.stream_up = False
        """The private stream is authenticated and subscribed."""
        self.active = False
        """The gateway is started."""

    def set(self, healthy: bool, reason: str) -> None:
        """Record the link's state; the listener hears of changes between healthy and bad."""
        stats = self.stats
        if not healthy:
            stats.reason = reason
        if stats.healthy == healthy:
            return
        stats.healthy = healthy
        if healthy:
            stats.reason = ""
        (log.info if healthy else log.warning)(
            "order link", extra={"venue": self.venue, "healthy": healthy, "reason": reason}
        )
        try:
            self.listener.on_gateway_link(self.venue, healthy, reason)
        except Exception:
            log.exception("gateway listener failed on a link change", extra={"venue": self.venue})

    def stream(self, up: bool, reason: str) -> None:
        """The private stream started (``up``) or ended."""
        self.stream_up = up
        if not up:
            self.set(False, reason)
        elif self.limiter.banned_for_s:
            self.set(False, f"IP banned for {self.limiter.banned_for_s:.0f} s")
        else:
            self.set(True, "")

    def ban(self, error: IpBanned) -> None:
        """The venue banned this address: bad until the ban is over."""
        self.set(False, f"IP banned for {error.retry_after_s:.0f} s: {error.reason}")
        asyncio.get_running_loop().call_later(error.retry_after_s + 0.01, self._ban_over)

    def _ban_over(self) -> None:
        if self.limiter.banned_for_s or not self.active:
            return
        if self.stream_up:
            self.set(True, "")

    def refusal(self) -> str:
        """Why new orders are refused now, or "" when they may go."""
        if not self.active:
            return "the order gateway is not started"
        if not self.stats.healthy:
            return f"order link down: {self.stats.reason or 'not subscribed'}"
        return ""
