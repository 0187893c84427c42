"""The engine's feed is chosen by the configured venue, with the venue's hosts by default."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from engine.book.order_book import OrderBook
from engine.core.config import load_config
from engine.engine import Engine
from engine.feeds import make_feed
from engine.venues.binance.feed import BinanceSpotFeed
from engine.venues.binance_usdm.feed import BinanceUsdmFeed
from engine.venues.bybit.feed import BybitPublicFeed


def _engine(venue: str, folder: Path) -> Engine:
    """Just what make_feed reads of an engine configured for ``venue`` (paper: no keys)."""
    path = folder / "engine.toml"
    path.write_text(
        f'[engine]\nmode = "paper"\n[venue]\nname = "{venue}"\n'
        f'[[instruments]]\nvenue = "{venue}"\nsymbol = "BTCUSDT"\n'
        'tick_size = "0.1"\nlot_size = "0.001"\n'
    )
    config = load_config(path, {})
    instruments = config.instrument_list()
    fake: Any = SimpleNamespace(
        config=config,
        instruments=instruments,
        books={i.instrument_id: OrderBook(i.symbol) for i in instruments},
        clock=None,
    )
    return cast(Engine, fake)


@pytest.mark.parametrize(
    ("venue", "kind", "url"),
    [
        ("binance", BinanceSpotFeed, "wss://stream.binance.com:9443/stream?streams="),
        ("binance-usdm", BinanceUsdmFeed, "wss://fstream.binance.com/public/stream?streams="),
        ("bybit-linear", BybitPublicFeed, "wss://stream.bybit.com/v5/public/linear"),
    ],
)
def test_each_venue_gets_its_own_feed_on_its_own_host(
    venue: str, kind: type, url: str, tmp_path: Path
):
    """binance-usdm and bybit-linear no longer read the spot protocol."""
    feed = make_feed(_engine(venue, tmp_path), "", "")
    assert type(feed) is kind
    assert cast(Any, feed).url.startswith(url)


def test_the_local_venue_speaks_spot_on_its_own_address(tmp_path: Path):
    """``sim`` keeps the spot feed on the URL the engine found for the local venue."""
    feed = make_feed(_engine("sim", tmp_path), "ws://127.0.0.1:9", "http://127.0.0.1:9")
    assert type(feed) is BinanceSpotFeed
    assert cast(Any, feed).url.startswith("ws://127.0.0.1:9/stream?streams=btcusdt@depth@100ms")
