"""The Hyperliquid feed against the local stream (engine.sim.hyperliquid_stream) on 127.0.0.1.

Every ``l2Book`` is the whole book, so "in sync" means the book equals the venue's top 20 once
the venue pauses and the feed has taken the last message; deltas passed on must rebuild it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest

from engine.book.order_book import OrderBook
from engine.core.events import BookDelta
from engine.core.instruments import Instrument
from engine.ipc.protocol import LinkState, ResyncReason
from engine.sim.hyperliquid_stream import BOOK_DEPTH, HyperliquidStreamVenue
from engine.venues.book_sync import BookPhase
from engine.venues.hyperliquid.feed import HyperliquidFeed
from tests.engine.venues.feed_harness import Recorder, RunningFeed, quick_backoff, until

pytestmark = pytest.mark.integration

BTC = Instrument(venue="hyperliquid", symbol="BTC", tick_size="1", lot_size="0.00001")
ETH = Instrument(
    venue="hyperliquid", symbol="ETH", tick_size="0.1", lot_size="0.0001", instrument_id=1
)
INSTRUMENTS = [BTC, ETH]


class DeltaRecorder(Recorder):
    """Also rebuilds each book from the deltas it is given, as the paper core does."""

    def __init__(self) -> None:
        super().__init__()
        self.rebuilt: dict[int, OrderBook] = {}
        self.books: dict[int, OrderBook] = {}

    def on_book_state(self, instrument: int, state: str, reason: ResyncReason | None) -> None:
        """Start the rebuilt book over from the feed's book when it goes live."""
        super().on_book_state(instrument, state, reason)
        if state == "live":
            copy = OrderBook("copy")
            bids, asks = self.books[instrument].levels()
            copy.apply_snapshot(*_arrays(bids), *_arrays(asks), 0)
            self.rebuilt[instrument] = copy

    def on_book_delta(self, delta: BookDelta) -> None:
        """Apply the delta to the rebuilt book."""
        super().on_book_delta(delta)
        book = self.rebuilt[delta.instrument]
        book.apply_delta(delta.bid_px, delta.bid_sz, delta.ask_px, delta.ask_sz, delta.last_id)


def _arrays(levels: list[tuple[int, int]]) -> tuple[Any, Any]:
    return (
        np.array([p for p, _ in levels], dtype=np.int64),
        np.array([s for _, s in levels], dtype=np.int64),
    )


class Running(RunningFeed[HyperliquidFeed]):
    """The Hyperliquid feed running against the venue, its deltas rebuilding a second book."""

    def __init__(self, venue: HyperliquidStreamVenue, **kwargs: Any) -> None:
        self.venue = venue
        listener = DeltaRecorder()
        super().__init__(
            INSTRUMENTS,
            lambda books, listener: HyperliquidFeed(
                INSTRUMENTS, books, listener, ws_url=venue.url, backoff=quick_backoff(), **kwargs
            ),
            listener,
        )
        listener.books = self.books

    async def assert_in_sync(self) -> None:
        """Pause the venue, let the feed take the last books, compare them and the rebuilt ones."""
        self.venue.paused = True
        try:
            await asyncio.sleep(0)
            (sock,) = self.venue.sockets.values()
            await until(lambda: sock.out.empty(), "the venue to send everything")
            for inst in INSTRUMENTS:
                market = self.venue.books[inst.symbol].market
                want = market.bids(BOOK_DEPTH), market.asks(BOOK_DEPTH)
                await until(
                    lambda i=inst.instrument_id, w=want: self.books[i].levels() == w,
                    f"book {inst.symbol} equal to the venue's",
                )
                assert self.listener.rebuilt[inst.instrument_id].levels() == want
        finally:
            self.venue.paused = False


@pytest.fixture
async def venue() -> AsyncIterator[HyperliquidStreamVenue]:
    """A busy local Hyperliquid stream (a book every 20 ms) listing BTC and ETH."""
    sim = HyperliquidStreamVenue(INSTRUMENTS, seed=5, events_per_second=1000.0, interval_ms=20)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def running(venue: HyperliquidStreamVenue) -> AsyncIterator[Running]:
    """A feed on the venue."""
    feed = Running(venue)
    yield feed
    await feed.close()


async def test_books_follow_the_venue_and_deltas_rebuild_them(
    running: Running, venue: HyperliquidStreamVenue
):
    """Both books replace on every message; the deltas passed on rebuild the same books."""
    for inst in INSTRUMENTS:
        await running.wait_live(inst.instrument_id, updates=20)
    await until(lambda: LinkState.LIVE in running.listener.links, "link live")
    await until(lambda: len(running.listener.trades) > 0, "a trade")
    await running.assert_in_sync()
    assert running.feed.ignored["banner"] == 1
    assert running.listener.crossed_seen == 0
    subs = [json.loads(r)["subscription"] for r in venue.requests[:4]]
    assert subs == [
        {"type": "l2Book", "coin": "BTC"},
        {"type": "trades", "coin": "BTC"},
        {"type": "l2Book", "coin": "ETH"},
        {"type": "trades", "coin": "ETH"},
    ]


async def test_a_crossed_book_is_dropped_until_the_next(
    running: Running, venue: HyperliquidStreamVenue
):
    """A crossed snapshot: the book goes syncing (CROSSED), the next one makes it live again."""
    await running.wait_live(0)
    venue.inject_crossed("BTC")
    await until(lambda: running.feed.crossed_books == 1, "the crossed book")
    assert running.listener.reasons(0) == [ResyncReason.CROSSED]
    await running.wait_live(0)
    assert running.listener.reasons(1) == []
    assert running.listener.crossed_seen == 0
    await running.assert_in_sync()


async def test_an_older_book_after_a_newer_is_skipped(
    running: Running, venue: HyperliquidStreamVenue
):
    """Reordered frames: the older book is counted and skipped, the book stays the newer one."""
    await running.wait_live(1)
    venue.inject_reordered("ETH")
    await until(lambda: running.feed.stale_books == 1, "the older book")
    await running.assert_in_sync()


async def test_a_malformed_frame_is_counted_and_the_next_book_replaces(
    running: Running, venue: HyperliquidStreamVenue
):
    """A broken frame is reported; books go on with the next snapshot."""
    await running.wait_live(0)
    venue.inject_malformed()
    await until(lambda: running.feed.stats.malformed == 1, "the malformed frame")
    assert running.listener.malformed_streams() == ["frame"]
    await running.wait_live(0)
    await running.assert_in_sync()


async def test_a_dropped_connection_reconnects(running: Running, venue: HyperliquidStreamVenue):
    """The venue closes the socket: reconnect, resubscribe every coin, books go live."""
    await running.wait_live(0)
    await venue.drop_connections()
    await until(lambda: running.feed.stats.reconnects == 1, "a reconnect")
    for inst in INSTRUMENTS:
        await running.wait_live(inst.instrument_id)
        assert ResyncReason.RECONNECT in running.listener.reasons(inst.instrument_id)
    assert venue.connections == 2


async def test_pings_go_out_and_pongs_are_counted():
    """The feed pings every ping_every_s; the venue answers and the pong is ignored."""
    venue = HyperliquidStreamVenue(INSTRUMENTS, seed=5, interval_ms=50)
    await venue.start()
    feed = Running(venue, ping_every_s=0.05)
    try:
        await until(lambda: venue.pings > 0, "a ping at the venue")
        await until(lambda: feed.feed.ignored["pong"] > 0, "the pong")
    finally:
        await feed.close()
        await venue.stop()


async def test_a_coin_the_venue_refuses_is_counted(venue: HyperliquidStreamVenue):
    """An unlisted coin: both its subscriptions are refused and counted; the others go live."""
    odd = Instrument(
        venue="hyperliquid", symbol="XYZ", tick_size="1", lot_size="1", instrument_id=2
    )
    books = {i.instrument_id: OrderBook(i.symbol) for i in [*INSTRUMENTS, odd]}
    feed = HyperliquidFeed([*INSTRUMENTS, odd], books, Recorder(), ws_url=venue.url)
    task = asyncio.create_task(feed.run())
    try:
        await until(lambda: feed.refused == 2, "l2Book and trades refused for XYZ")
        await until(lambda: feed.sync_of(0).phase is BookPhase.LIVE, "BTC live")
        assert feed.sync_of(2).phase is BookPhase.SYNCING
    finally:
        await feed.stop()
        await asyncio.wait_for(task, 5.0)
