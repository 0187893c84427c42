"""Which market-data feed keeps the engine's books: one choice per venue, made once at start.

``sim`` (the local venue) and ``binance`` speak Binance spot
(:class:`~engine.venues.binance.feed.BinanceSpotFeed`); ``binance-usdm`` is USD-M futures
(:class:`~engine.venues.binance_usdm.feed.BinanceUsdmFeed`, on the ``/public`` route of the
configured host); ``bybit-linear`` is Bybit v5's public linear stream
(:class:`~engine.venues.bybit.feed.BybitPublicFeed`, ``<host>/v5/public/linear``). The local
venue serves all of them from one market, so every venue's feed runs against it too.
``okx``, ``kraken``, ``coinbase`` and ``hyperliquid`` (market data only) come from
:func:`~engine.market_feeds.market_data_feed`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.market_feeds import market_data_feed
from engine.venues.binance.feed import BinanceSpotFeed
from engine.venues.binance_usdm.feed import BinanceUsdmFeed
from engine.venues.bybit.feed import BybitPublicFeed

if TYPE_CHECKING:
    from engine.engine import Engine
    from engine.venues.base import Feed

USDM_DEPTH_INTERVAL_MS = 100
"""USD-M's documented fastest diff cadence (``@depth@100ms``)."""
BYBIT_DEPTH = 50
"""Bybit's ``orderbook.50``: 20 ms pushes, deep enough for the ladder and the strategies."""
MARKET_WS = {
    "binance": "wss://stream.binance.com:9443",
    "binance-usdm": "wss://fstream.binance.com",
    "bybit-linear": "wss://stream.bybit.com",
}
"""Each real venue's market-data WebSocket host, when the config names none."""
SNAPSHOT_REST = {"binance": "https://api.binance.com", "binance-usdm": "https://fapi.binance.com"}
"""Each Binance venue's REST host for depth snapshots, when the config names none."""


def make_feed(engine: Engine, ws_url: str, rest_url: str) -> Feed:
    """The feed for the engine's venue, over ``ws_url`` (the venue's WebSocket host).

    Empty URLs (a real venue configured without them) are the venue's production hosts.
    """
    cfg = engine.config
    venue = cfg.venue
    market_only = market_data_feed(engine, ws_url, rest_url)  # OKX, Kraken, Coinbase, Hyperliquid
    if market_only is not None:
        return market_only
    ws_url = ws_url or MARKET_WS.get(venue.name, "")
    rest_url = rest_url or SNAPSHOT_REST.get(venue.name, "")
    if venue.name == "bybit-linear":
        return BybitPublicFeed(
            engine.instruments,
            engine.books,
            engine,
            ws_url=ws_url,
            category="linear",
            depth=BYBIT_DEPTH,
            venue=venue.name,
            clock=engine.clock,
        )
    if venue.name == "binance-usdm":
        return BinanceUsdmFeed(
            engine.instruments,
            engine.books,
            engine,
            ws_url=ws_url,
            rest_url=rest_url,
            depth_limit=venue.depth_limit,
            depth_interval_ms=USDM_DEPTH_INTERVAL_MS,
            venue=venue.name,
            clock=engine.clock,
        )
    return BinanceSpotFeed(
        engine.instruments,
        engine.books,
        engine,
        ws_url=ws_url,
        rest_url=rest_url,
        depth_limit=venue.depth_limit,
        depth_interval_ms=cfg.sim.depth_interval_ms if venue.name == "sim" else 100,
        venue=venue.name,
        clock=engine.clock,
    )
