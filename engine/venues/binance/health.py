"""Whether the Binance order link may be used: the user stream, bans and garbage, told to the OMS.

The link is healthy while the user data stream is subscribed and nothing else holds it bad. It
turns bad when the stream drops, the venue bans our address (until the ban ends) or answers
garbage (then the stream is resubscribed, and the link is healthy once the new subscription
stands; the OMS reconciles on that). The listener hears ``on_gateway_link`` on every change
between healthy and bad; ``stats.reason`` always holds the latest reason.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from engine.errors import IpBanned
from engine.venues.base import GatewayListener, GatewayStats
from engine.venues.ratelimit import RateLimiter

log = logging.getLogger("engine.venues.binance")


class StreamLink(Protocol):
    """A user stream that can be dropped and made anew: spot's subscription, USD-M's listen key."""

    def restart(self, reason: str) -> None:
        """Drop the connection now; a new one follows."""
        ...


class LinkHealth:
    """The order link's state for one gateway.

    Args:
        venue: venue name told to the listener.
        listener: hears every change.
        stats: the gateway's stats (``healthy``, ``reason``).
        limiter: knows whether a ban is on.
    """

    def __init__(
        self, venue: str, listener: GatewayListener, stats: GatewayStats, limiter: RateLimiter
    ) -> None:
        self.venue = venue
        self.listener = listener
        self.stats = stats
        self.limiter = limiter
        self.link: StreamLink | None = None
        """The user stream, once started (it is resubscribed on garbage)."""
        self.stream_up = False
        self.started = False

    def refusal(self) -> str:
        """Why new orders are refused now, or "" when they may go."""
        if not self.started:
            return "the order gateway is not started"
        if not self.stats.healthy:
            return f"order link down: {self.stats.reason or 'not subscribed'}"
        return ""

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

    def stream_changed(self, up: bool, reason: str) -> None:
        """The user stream subscribed (``up``) or ended."""
        self.stream_up = up
        if not up:
            self.set(False, reason)
        elif self.limiter.banned_for_s:
            self.set(False, f"IP banned for {self.limiter.banned_for_s:.0f} more s")
        else:
            self.set(True, "")

    def bad(self, reason: str, *, resubscribe: bool) -> None:
        """Mark the link bad; with ``resubscribe`` it turns healthy after a new subscription."""
        self.set(False, reason)
        if resubscribe and self.link is not None:
            self.link.restart(reason)

    def banned(self, error: IpBanned) -> None:
        """The venue banned us: bad until the ban is over (and the stream still up)."""
        self.bad(f"IP banned for {error.retry_after_s:.0f} s: {error.reason}", resubscribe=False)
        asyncio.get_running_loop().call_later(error.retry_after_s + 0.01, self._ban_over)

    def _ban_over(self) -> None:
        if self.limiter.banned_for_s or not self.started:
            return
        if self.stream_up:
            self.set(True, "")
