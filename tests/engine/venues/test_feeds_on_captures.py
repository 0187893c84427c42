"""The Kraken, Coinbase and Hyperliquid feeds' own frame paths on the real captures.

Each captured frame goes through the feed exactly as a received frame does (``_parse`` then
``_dispatch``, no socket): acks, heartbeats, tickers and candles are ignored and counted, every
book goes live and stays in sync by the venue's rule, and nothing is malformed or crossed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.book.order_book import OrderBook
from engine.venues.book_sync import BookPhase
from engine.venues.coinbase.feed import CoinbaseFeed
from engine.venues.hyperliquid.feed import HyperliquidFeed
from engine.venues.kraken.feed import KrakenFeed
from tests.engine.venues.coinbase.captures import COINBASE_INSTRUMENTS, cryptofeed_v3_frames
from tests.engine.venues.feed_harness import Recorder
from tests.engine.venues.hyperliquid.captures import HYPERLIQUID_BTC, hftbacktest_frames
from tests.engine.venues.kraken.captures import KRAKEN_V1_INSTRUMENTS, cryptofeed_frames

pytestmark = pytest.mark.shared_data


def _feed_all(feed: Any, frames: list[tuple[int, bytes]]) -> None:
    for recv_ts, raw in frames:
        event = feed._parse(raw, recv_ts)
        if event is None:
            feed._on_unknown()
        else:
            feed._dispatch(event)


def test_coinbase_capture_through_the_feed(shared_data: Path):
    """1030 frames numbered without a gap; both books live; every update and trade passed on."""
    frames = cryptofeed_v3_frames(shared_data / "cryptofeed-v3" / "COINBASE.jsonl.zst")
    books = {i.instrument_id: OrderBook(i.symbol) for i in COINBASE_INSTRUMENTS}
    listener = Recorder()
    feed = CoinbaseFeed(COINBASE_INSTRUMENTS, books, listener, ws_url="ws://unused")
    _feed_all(feed, frames)
    assert feed.stats.gaps == 0
    assert feed.connection.sequence_num == 1029
    for inst in COINBASE_INSTRUMENTS:
        assert feed.sync_of(inst.instrument_id).phase is BookPhase.LIVE
    assert sum(listener.deltas.values()) > 700
    assert listener.trades
    assert listener.crossed_seen == 0
    assert listener.malformed == []
    assert feed.ignored["heartbeats"] > 0


def test_hyperliquid_capture_through_the_feed(shared_data: Path):
    """Every l2Book replaces the book; each replacement after the first is passed on as a delta."""
    frames = hftbacktest_frames(shared_data / "hftbacktest" / "hyperliquid" / "btcusd_20250126.gz")
    listener = Recorder()
    feed = HyperliquidFeed([HYPERLIQUID_BTC], {0: OrderBook("BTC")}, listener, ws_url="ws://x")
    _feed_all(feed, frames)
    books = sum(1 for _, raw in frames if b'"l2Book"' in raw[:40])
    assert feed.sync_of(0).phase is BookPhase.LIVE
    assert listener.deltas[0] + feed.stale_books == books - 1
    assert feed.crossed_books == 0
    assert listener.trades
    assert listener.malformed == []


def test_kraken_v1_capture_through_the_feed(shared_data: Path):
    """Legacy v1 frames through the v2 feed's path: every checksum matches, nothing resyncs."""
    frames = cryptofeed_frames(shared_data / "cryptofeed" / "KRAKEN.ws.50.0")
    books = {i.instrument_id: OrderBook(i.symbol) for i in KRAKEN_V1_INSTRUMENTS}
    listener = Recorder()
    feed = KrakenFeed(KRAKEN_V1_INSTRUMENTS, books, listener, ws_url="ws://x", depth=1000)
    _feed_all(feed, frames)
    verified = sum(feed.sync_of(i.instrument_id).checksums_verified for i in KRAKEN_V1_INSTRUMENTS)
    assert verified == 4269
    assert feed.checksum_mismatches == 0
    assert feed.stats.resyncs == 0
    assert listener.crossed_seen == 0
