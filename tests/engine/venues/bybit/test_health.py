"""The Bybit order link's health: the stream, bans and refusals, told to the listener on change."""

from __future__ import annotations

from engine.core.clock import SimClock
from engine.core.events import Fill, OrderUpdate
from engine.errors import IpBanned
from engine.venues.base import GatewayStats
from engine.venues.bybit.health import LinkHealth
from engine.venues.bybit.rest import LIMITS
from engine.venues.ratelimit import RateLimiter


class Links:
    """Keeps link changes."""

    def __init__(self) -> None:
        self.changes: list[tuple[bool, str]] = []

    def on_order_update(self, update: OrderUpdate) -> None:
        """Not used here."""

    def on_fill(self, fill: Fill) -> None:
        """Not used here."""

    def on_gateway_link(self, venue: str, healthy: bool, reason: str) -> None:
        """Keep the change."""
        self.changes.append((healthy, reason))


def health() -> tuple[LinkHealth, Links]:
    """A started link's health and its listener."""
    links = Links()
    state = LinkHealth("bybit", GatewayStats(), links, RateLimiter("bybit", LIMITS, SimClock()))
    state.active = True
    return state, links


def test_only_changes_reach_the_listener():
    """Healthy, bad twice, healthy: the listener hears three changes; the last reason is kept."""
    state, links = health()
    state.stream(True, "")
    state.set(False, "first")
    state.set(False, "second")
    assert state.stats.reason == "second"
    state.stream(True, "")
    assert links.changes == [(True, ""), (False, "first"), (True, "")]
    assert state.stats.reason == ""


def test_new_orders_are_refused_while_bad_or_stopped():
    """The refusal names why: not started, or the link's reason."""
    state, _ = health()
    assert "order link down: not subscribed" in state.refusal()
    state.stream(True, "")
    assert state.refusal() == ""
    state.stream(False, "private stream closed")
    assert state.refusal() == "order link down: private stream closed"
    state.active = False
    assert state.refusal() == "the order gateway is not started"


async def test_a_ban_holds_the_link_bad_even_when_the_stream_comes_back():
    """While the limiter is banned a new subscription does not make the link healthy."""
    state, links = health()
    state.stream(True, "")
    state.limiter.ban(600, "access too frequent")
    state.ban(IpBanned("bybit", "access too frequent", retry_after_s=600))
    state.stream(True, "")
    assert links.changes[-1][0] is False
    assert "IP banned" in state.stats.reason
