"""The market-data-only venues' feeds, and the reconnect rules every feed takes from the config.

OKX, Kraken, Coinbase and Hyperliquid have a feed and no order gateway here, so the engine runs
them in ``paper`` mode (the config refuses ``live``). :func:`market_data_feed` builds the venue's
feed on ``<ws host><path>`` (an empty host is the venue's production one);
:func:`apply_reconnect_rules` gives any :class:`~engine.venues.stream_feed.StreamFeed` the
configured cap on connection attempts per minute and turns its link alerts (five failures in a
row, then the link holding again) into OMS alerts the UI shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.core.events import AlertLevel
from engine.venues.coinbase.feed import CoinbaseFeed
from engine.venues.hyperliquid.feed import HyperliquidFeed
from engine.venues.kraken.feed import KrakenFeed
from engine.venues.okx.feed import OkxFeed
from engine.venues.reconnect import ReconnectPolicy
from engine.venues.stream_feed import StreamFeed

if TYPE_CHECKING:
    from engine.engine import Engine
    from engine.venues.base import Feed

MARKET_WS = {
    "okx": "wss://ws.okx.com:8443",
    "kraken": "wss://ws.kraken.com",
    "coinbase": "wss://advanced-trade-ws.coinbase.com",
    "hyperliquid": "wss://api.hyperliquid.xyz",
}
"""Each market-data-only venue's WebSocket host, when the config names none."""
WS_PATH = {"okx": "/ws/v5/public", "kraken": "/v2", "coinbase": "", "hyperliquid": "/ws"}
"""The public stream's path under the host."""
MARKET_REST = {"okx": "https://www.okx.com"}
"""REST hosts for book snapshots (OKX's 2026 procedure), when the config names none."""


def market_data_feed(engine: Engine, ws_url: str, rest_url: str) -> StreamFeed | None:
    """The feed of a market-data-only venue, or None for any other venue."""
    name = engine.config.venue.name
    if name not in WS_PATH:
        return None
    url = (ws_url or MARKET_WS[name]).rstrip("/") + WS_PATH[name]
    args = (engine.instruments, engine.books, engine)
    clock = engine.clock
    if name == "okx":
        rest = rest_url or MARKET_REST["okx"]
        return OkxFeed(*args, ws_url=url, rest_url=rest, venue=name, clock=clock)
    if name == "kraken":
        return KrakenFeed(*args, ws_url=url, venue=name, clock=clock)
    if name == "coinbase":
        return CoinbaseFeed(*args, ws_url=url, venue=name, clock=clock)
    return HyperliquidFeed(*args, ws_url=url, venue=name, clock=clock)


def apply_reconnect_rules(engine: Engine, feed: Feed) -> None:
    """The configured reconnect cap, and link alerts raised through the OMS."""
    if not isinstance(feed, StreamFeed):
        return
    venue = engine.config.venue
    feed.reconnect = ReconnectPolicy(
        feed.reconnect.backoff, max_per_minute=venue.max_reconnects_per_minute
    )

    def alert(text: str, failing: bool) -> None:
        level = AlertLevel.WARNING if failing else AlertLevel.INFO
        engine.oms.alert(level, f"feed:{venue.name}", text)

    feed.on_alert = alert
