"""The Kraken v2 feed against the local Kraken stream (engine.sim.kraken_stream) on 127.0.0.1.

Every message the feed applies has its CRC32 checksum verified against the venue's book, so "in
sync" is checked on every message; the faults show each book thrown away alone and rebuilt.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from engine.book.order_book import OrderBook
from engine.core.instruments import Instrument
from engine.ipc.protocol import LinkState, ResyncReason
from engine.sim.kraken_stream import KrakenStreamVenue
from engine.venues.book_sync import BookPhase
from engine.venues.kraken.feed import KrakenFeed
from tests.engine.venues.feed_harness import Recorder, RunningFeed, quick_backoff, until

pytestmark = pytest.mark.integration

BTC = Instrument(venue="kraken", symbol="BTC/USD", tick_size="0.1", lot_size="0.00000001")
ETH = Instrument(
    venue="kraken", symbol="ETH/USD", tick_size="0.01", lot_size="0.00000001", instrument_id=1
)
INSTRUMENTS = [BTC, ETH]


class Running(RunningFeed[KrakenFeed]):
    """The Kraken feed running against the venue."""

    def __init__(self, venue: KrakenStreamVenue, **kwargs: Any) -> None:
        super().__init__(
            INSTRUMENTS,
            lambda books, listener: KrakenFeed(
                INSTRUMENTS, books, listener, ws_url=venue.url, backoff=quick_backoff(), **kwargs
            ),
        )


@pytest.fixture
async def venue() -> AsyncIterator[KrakenStreamVenue]:
    """A busy local Kraken stream (20 ms updates) listing BTC/USD and ETH/USD at depth 10."""
    sim = KrakenStreamVenue(INSTRUMENTS, seed=5, events_per_second=1000.0, interval_ms=20)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def running(venue: KrakenStreamVenue) -> AsyncIterator[Running]:
    """A feed on the venue."""
    feed = Running(venue)
    yield feed
    await feed.close()


async def test_books_go_live_and_every_checksum_matches(running: Running, venue: KrakenStreamVenue):
    """Both books sync from snapshots; every update (truncated to 10) matches the venue's CRC32."""
    for inst in INSTRUMENTS:
        await running.wait_verified(inst.instrument_id, more=30)
    await until(lambda: LinkState.LIVE in running.listener.links, "link live")
    await until(lambda: len(running.listener.trades) > 0, "a trade")
    assert running.feed.checksum_mismatches == 0
    assert running.listener.crossed_seen == 0
    assert running.listener.deltas[0] > 0
    assert max(running.books[0].depth()) <= 10
    subscribe = [json.loads(r) for r in venue.requests[:2]]
    assert [r["params"]["channel"] for r in subscribe] == ["book", "trade"]
    assert subscribe[0]["params"]["symbol"] == ["BTC/USD", "ETH/USD"]  # one request, many pairs
    trade = running.listener.trades[0]
    assert trade.exch_ts > 0
    assert trade.recv_ts > 0


async def test_deltas_carry_the_books_message_count(running: Running):
    """Kraken has no sequence: each delta's id is its book's message count since the snapshot."""
    await running.wait_verified(0, more=10)
    assert running.feed.sync_of(0).messages == running.books[0].update_id
    assert running.books[0].update_id > 10


async def test_a_bad_checksum_resubscribes_only_that_book(
    running: Running, venue: KrakenStreamVenue
):
    """A wrong checksum: that book alone is thrown away and rebuilt by resubscribing."""
    await running.wait_verified(0)
    await running.wait_verified(1)
    venue.inject_bad_checksum("ETH/USD")
    await until(lambda: running.feed.checksum_mismatches == 1, "the mismatch")
    await running.wait_verified(1)
    assert running.listener.reasons(1) == [ResyncReason.GAP]
    assert running.listener.reasons(0) == []
    unsubscribed = [json.loads(r) for r in venue.requests if '"unsubscribe"' in r]
    assert [u["params"]["symbol"] for u in unsubscribed] == [["ETH/USD"]]


async def test_a_lost_update_is_caught_by_the_checksum(running: Running, venue: KrakenStreamVenue):
    """No sequence numbers: an update never sent shows as a mismatch on the next, and resyncs."""
    await running.wait_verified(0)
    venue.inject_lost_update("BTC/USD")
    await until(lambda: running.feed.checksum_mismatches == 1, "the mismatch")
    await running.wait_verified(0, more=10)
    assert running.listener.crossed_seen == 0


async def test_a_malformed_frame_is_counted_and_survived(
    running: Running, venue: KrakenStreamVenue
):
    """A broken frame is counted and reported; the books go on verified."""
    await running.wait_verified(0)
    venue.inject_malformed()
    await until(lambda: running.feed.stats.malformed == 1, "the malformed frame")
    assert running.listener.malformed_streams() == ["frame"]
    await running.wait_verified(0)
    await running.wait_verified(1)


async def test_a_dropped_connection_reconnects_and_resyncs(
    running: Running, venue: KrakenStreamVenue
):
    """The venue closes the socket: the feed reconnects, resubscribes and both books go live."""
    await running.wait_verified(0)
    await venue.drop_connections()
    await until(lambda: running.feed.stats.reconnects == 1, "a reconnect")
    for inst in INSTRUMENTS:
        await running.wait_verified(inst.instrument_id)
        assert ResyncReason.RECONNECT in running.listener.reasons(inst.instrument_id)
    assert venue.connections == 2


async def test_a_quiet_link_is_pinged_and_heartbeats_are_counted():
    """No book traffic: heartbeats arrive and are ignored; quiet spells get a ping and a pong."""
    quiet = KrakenStreamVenue(INSTRUMENTS, seed=5, interval_ms=50, heartbeat_ms=50)
    await quiet.start()
    feed = Running(quiet, ping_after_s=0.02)
    try:
        await until(lambda: feed.feed.ignored["channel:heartbeat"] > 0, "a heartbeat")
        await until(lambda: feed.feed.ignored["method:pong"] > 0, "the pong")
        assert feed.feed.pings > 0
    finally:
        await feed.close()
        await quiet.stop()


async def test_a_pair_the_venue_refuses_is_logged_and_the_others_go_live(
    venue: KrakenStreamVenue, caplog: pytest.LogCaptureFixture
):
    """An unlisted pair: its subscription is refused and logged; the listed pairs still sync."""
    odd = Instrument(
        venue="kraken", symbol="XYZ/USD", tick_size="0.1", lot_size="0.1", instrument_id=2
    )
    books = {i.instrument_id: OrderBook(i.symbol) for i in [*INSTRUMENTS, odd]}
    listener = Recorder()
    feed = KrakenFeed([*INSTRUMENTS, odd], books, listener, ws_url=venue.url)
    task = asyncio.create_task(feed.run())
    try:
        with caplog.at_level("WARNING", logger="engine.venues.kraken"):
            await until(lambda: feed.refused == 2, "book and trade refused for XYZ/USD")
        await until(lambda: feed.sync_of(0).phase is BookPhase.LIVE, "BTC/USD live")
        await until(lambda: feed.sync_of(1).phase is BookPhase.LIVE, "ETH/USD live")
        assert feed.sync_of(2).phase is BookPhase.SYNCING
        assert LinkState.LIVE not in listener.links  # not every book is live
        assert any("refused" in r.getMessage() for r in caplog.records)
    finally:
        await feed.stop()
        await asyncio.wait_for(task, 5.0)


async def test_a_stalled_venue_is_declared_stale_and_reconnected(venue: KrakenStreamVenue):
    """No frame at all (not even heartbeats) for stale_after_s: the feed reconnects and resyncs."""
    feed = Running(venue, stale_after_s=0.3, ping_after_s=30.0)
    try:
        await feed.wait_verified(0)
        venue.paused = True
        await until(lambda: feed.feed.stats.reconnects == 1, "the stale link replaced")
        venue.paused = False
        await feed.wait_verified(0)
        assert ResyncReason.RECONNECT in feed.listener.reasons(0)
    finally:
        await feed.close()


async def test_a_deeper_subscription_truncates_to_its_own_depth():
    """At depth 25 the book keeps 25 levels a side; the checksum still covers the top 10."""
    deep = KrakenStreamVenue(
        INSTRUMENTS, seed=8, events_per_second=1000.0, interval_ms=20, depth=25
    )
    await deep.start()
    feed = Running(deep, depth=25)
    try:
        await feed.wait_verified(0, more=30)
        assert max(feed.books[0].depth()) <= 25
        assert min(feed.books[0].depth()) > 10
        assert feed.feed.checksum_mismatches == 0
        assert json.loads(deep.requests[0])["params"]["depth"] == 25
    finally:
        await feed.close()
        await deep.stop()
