"""The Coinbase Advanced Trade feed against the local stream (engine.sim.coinbase_stream).

Real sockets on 127.0.0.1. "In sync" is checked by pausing the venue's markets, waiting until
the feed has taken the connection's last ``sequence_num``, and comparing every level of every
book with the venue's own book.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from engine.core.events import Side
from engine.core.instruments import Instrument
from engine.ipc.protocol import LinkState, ResyncReason
from engine.sim.coinbase_stream import CoinbaseStreamVenue
from engine.venues.coinbase.feed import CoinbaseFeed
from tests.engine.venues.feed_harness import RunningFeed, quick_backoff, until

pytestmark = pytest.mark.integration

BTC = Instrument(venue="coinbase", symbol="BTC-USD", tick_size="0.01", lot_size="0.00000001")
ETH = Instrument(
    venue="coinbase", symbol="ETH-USD", tick_size="0.01", lot_size="0.00000001", instrument_id=1
)
INSTRUMENTS = [BTC, ETH]


class Running(RunningFeed[CoinbaseFeed]):
    """The Coinbase feed running against the venue."""

    def __init__(self, venue: CoinbaseStreamVenue) -> None:
        self.venue = venue
        super().__init__(
            INSTRUMENTS,
            lambda books, listener: CoinbaseFeed(
                INSTRUMENTS, books, listener, ws_url=venue.url, backoff=quick_backoff()
            ),
        )

    async def assert_in_sync(self) -> None:
        """Pause the venue, let the feed catch up, and compare every level of every book."""
        self.venue.paused = True
        try:
            (sock,) = self.venue.sockets.values()
            await until(
                lambda: self.feed.connection.sequence_num == sock.sequence - 1,
                "the feed to take the last frame",
            )
            for inst in INSTRUMENTS:
                assert self.live(inst.instrument_id)
                market = self.venue.books[inst.symbol].market
                bids, asks = self.books[inst.instrument_id].levels()
                assert bids == market.bids()
                assert asks == market.asks()
        finally:
            self.venue.paused = False


@pytest.fixture
async def venue() -> AsyncIterator[CoinbaseStreamVenue]:
    """A busy local Coinbase stream (20 ms updates, heartbeats every 100 ms)."""
    sim = CoinbaseStreamVenue(
        INSTRUMENTS, seed=5, events_per_second=1000.0, interval_ms=20, heartbeat_ms=100
    )
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def running(venue: CoinbaseStreamVenue) -> AsyncIterator[Running]:
    """A feed on the venue."""
    feed = Running(venue)
    yield feed
    await feed.close()


async def test_books_go_live_and_match_the_venue(running: Running, venue: CoinbaseStreamVenue):
    """Snapshots then updates keep both full books equal to the venue's; trades are taker-side."""
    for inst in INSTRUMENTS:
        await running.wait_live(inst.instrument_id, updates=30)
    await until(lambda: LinkState.LIVE in running.listener.links, "link live")
    await until(lambda: len(running.listener.trades) > 0, "a trade")
    await until(lambda: running.feed.ignored["heartbeats"] > 0, "a heartbeat")
    await running.assert_in_sync()
    assert running.feed.stats.gaps == 0
    assert running.listener.crossed_seen == 0
    channels = [json.loads(r)["channel"] for r in venue.requests[:3]]
    assert channels == ["level2", "market_trades", "heartbeats"]  # one channel a message
    assert json.loads(venue.requests[0])["product_ids"] == ["BTC-USD", "ETH-USD"]
    trade = running.listener.trades[0]
    assert trade.aggressor in (Side.BUY, Side.SELL)
    assert trade.exch_ts > 0


async def test_a_sequence_gap_resubscribes_every_book_on_the_same_socket(
    running: Running, venue: CoinbaseStreamVenue
):
    """A skipped sequence_num: all books resync from new snapshots without a reconnect."""
    for inst in INSTRUMENTS:
        await running.wait_live(inst.instrument_id)
    venue.inject_gap()
    await until(lambda: running.feed.stats.gaps == 1, "the gap")
    for inst in INSTRUMENTS:
        await running.wait_live(inst.instrument_id)
        assert running.listener.reasons(inst.instrument_id) == [ResyncReason.GAP]
    assert venue.connections == 1
    assert running.feed.stats.reconnects == 0
    await running.assert_in_sync()


async def test_a_malformed_frame_is_counted_and_its_missing_number_resyncs(
    running: Running, venue: CoinbaseStreamVenue
):
    """A broken frame is reported; the number it used is missing, so the books resync."""
    await running.wait_live(0)
    await running.wait_live(1)
    venue.inject_malformed()
    await until(lambda: running.feed.stats.malformed == 1, "the malformed frame")
    assert running.listener.malformed_streams() == ["frame"]
    await until(lambda: running.feed.stats.gaps == 1, "the gap after it")
    await running.wait_live(0)
    await running.wait_live(1)
    await running.assert_in_sync()


async def test_a_dropped_connection_reconnects_and_resyncs(
    running: Running, venue: CoinbaseStreamVenue
):
    """The venue closes the socket: reconnect, numbering starts again, books go live."""
    await running.wait_live(0)
    await venue.drop_connections()
    await until(lambda: running.feed.stats.reconnects == 1, "a reconnect")
    for inst in INSTRUMENTS:
        await running.wait_live(inst.instrument_id)
        assert ResyncReason.RECONNECT in running.listener.reasons(inst.instrument_id)
    assert venue.connections == 2
    assert running.feed.stats.gaps == 0
    await running.assert_in_sync()


async def test_a_crossed_book_resubscribes_only_that_product(
    running: Running, venue: CoinbaseStreamVenue
):
    """An update crossing ETH-USD: that book alone is resubscribed and rebuilt; BTC-USD goes on."""
    for inst in INSTRUMENTS:
        await running.wait_live(inst.instrument_id)
    venue.inject_crossed("ETH-USD")
    await until(lambda: running.listener.reasons(1) == [ResyncReason.CROSSED], "the crossed book")
    await running.wait_live(1)
    assert running.listener.reasons(0) == []
    assert running.listener.crossed_seen == 0
    unsubscribed = [json.loads(r) for r in venue.requests if '"unsubscribe"' in r]
    assert [u["product_ids"] for u in unsubscribed] == [["ETH-USD"]]


async def test_stopped_heartbeats_make_the_link_stale(venue: CoinbaseStreamVenue):
    """The venue goes silent (heartbeats too): after stale_after_s the feed reconnects."""
    feed = Running(venue)
    feed.feed.stale_after_s = 0.3
    try:
        await feed.wait_live(0)
        venue.paused = True
        await until(lambda: feed.feed.stats.reconnects == 1, "the stale link replaced")
        venue.paused = False
        await feed.wait_live(0)
        assert venue.connections == 2
    finally:
        await feed.close()
