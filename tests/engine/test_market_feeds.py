"""Market-data-only venues get their own feeds, and every feed the configured reconnect rules."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from engine.book.order_book import OrderBook
from engine.core.config import load_config
from engine.core.events import AlertLevel
from engine.engine import Engine
from engine.feeds import make_feed
from engine.market_feeds import apply_reconnect_rules
from engine.venues.coinbase.feed import CoinbaseFeed
from engine.venues.hyperliquid.feed import HyperliquidFeed
from engine.venues.kraken.feed import KrakenFeed
from engine.venues.okx.feed import OkxFeed

SYMBOLS = {"okx": "BTC-USDT", "kraken": "BTC/USD", "coinbase": "BTC-USD", "hyperliquid": "BTC"}


class Alerts:
    """An OMS stand-in that keeps alerts."""

    def __init__(self) -> None:
        self.raised: list[tuple[AlertLevel, str, str]] = []

    def alert(self, level: AlertLevel, source: str, message: str) -> None:
        """Keep the alert."""
        self.raised.append((level, source, message))


def _engine(venue: str, folder: Path, extra: str = "") -> Engine:
    path = folder / "engine.toml"
    path.write_text(
        f'[engine]\nmode = "paper"\n[venue]\nname = "{venue}"\n{extra}'
        f'[[instruments]]\nvenue = "{venue}"\nsymbol = "{SYMBOLS[venue]}"\n'
        'tick_size = "0.1"\nlot_size = "0.00000001"\n'
    )
    config = load_config(path, {})
    instruments = config.instrument_list()
    fake: Any = SimpleNamespace(
        config=config,
        instruments=instruments,
        books={i.instrument_id: OrderBook(i.symbol) for i in instruments},
        clock=None,
        oms=Alerts(),
    )
    return cast(Engine, fake)


@pytest.mark.parametrize(
    ("venue", "kind", "url", "path"),
    [
        ("okx", OkxFeed, "wss://ws.okx.com:8443/ws/v5/public", "/ws/v5/public"),
        ("kraken", KrakenFeed, "wss://ws.kraken.com/v2", "/v2"),
        ("coinbase", CoinbaseFeed, "wss://advanced-trade-ws.coinbase.com", ""),
        ("hyperliquid", HyperliquidFeed, "wss://api.hyperliquid.xyz/ws", "/ws"),
    ],
)
def test_market_data_venues_get_their_feed_on_their_host(
    venue: str, kind: type, url: str, path: str, tmp_path: Path
):
    """Each venue's production stream by default; a configured host keeps the venue's path."""
    feed = make_feed(_engine(venue, tmp_path), "", "")
    assert type(feed) is kind
    assert cast(Any, feed).url == url
    local = make_feed(_engine(venue, tmp_path), "ws://127.0.0.1:9/", "http://127.0.0.1:9")
    assert cast(Any, local).url == f"ws://127.0.0.1:9{path}"


def test_reconnect_rules_come_from_the_config_and_alerts_reach_the_oms(tmp_path: Path):
    """max_reconnects_per_minute caps the feed; its link alerts become OMS alerts."""
    engine = _engine("kraken", tmp_path, "max_reconnects_per_minute = 4\n")
    feed = make_feed(engine, "", "")
    apply_reconnect_rules(engine, feed)
    stream = cast(KrakenFeed, feed)
    assert stream.reconnect.max_per_minute == 4
    assert stream.on_alert is not None
    stream.on_alert("kraken market data: 5 connection failures in a row", True)
    stream.on_alert("kraken market data: connection holds again", False)
    oms = cast(Any, engine).oms
    assert [(level, source) for level, source, _ in oms.raised] == [
        (AlertLevel.WARNING, "feed:kraken"),
        (AlertLevel.INFO, "feed:kraken"),
    ]
