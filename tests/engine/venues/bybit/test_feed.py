"""The Bybit v5 public feed against the local venue's ``/v5/public/*`` over real sockets.

"Equal" means: pause the venue, push the last deltas, and compare the feed's book with the
venue's top ``depth`` levels.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from engine.core.instruments import Instrument
from engine.ipc.protocol import LinkState, ResyncReason
from engine.sim.server import SimVenue
from engine.venues.bybit.feed import BybitPublicFeed
from tests.engine.venues.feed_harness import OnSimVenue, quick_backoff, until

pytestmark = pytest.mark.integration

BTC = Instrument(
    venue="bybit-linear", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001", instrument_id=0
)
ETH = Instrument(
    venue="bybit-linear", symbol="ETHUSDT", tick_size="0.01", lot_size="0.0001", instrument_id=1
)
INSTRUMENTS = [BTC, ETH]
DEPTH = 50


class Running(OnSimVenue[BybitPublicFeed]):
    """A Bybit public feed running against the venue."""

    def __init__(self, venue: SimVenue, category: str, ping_interval_s: float = 20.0) -> None:
        super().__init__(
            venue,
            INSTRUMENTS,
            lambda books, listener: BybitPublicFeed(
                INSTRUMENTS,
                books,
                listener,
                ws_url=venue.ws_url,
                category=category,
                depth=DEPTH,
                backoff=quick_backoff(),
                ping_interval_s=ping_interval_s,
            ),
        )

    async def assert_books_equal_the_venue(self) -> None:
        """Pause, push the last deltas, and compare each book with the venue's top levels."""
        await until(self.all_live, "every book live")
        self.venue.pause()
        try:
            for inst in INSTRUMENTS:
                bids, asks, _ = self.venue.true_book(inst.symbol)
                book = self.books[inst.instrument_id]
                want = (bids[:DEPTH], asks[:DEPTH])
                await until(lambda b=book, w=want: b.top(DEPTH) == w, f"{inst.symbol} equal")
        finally:
            self.venue.resume()


@pytest.fixture
async def venue() -> AsyncIterator[SimVenue]:
    """A busy local venue listing BTCUSDT and ETHUSDT."""
    sim = SimVenue(INSTRUMENTS, seed=17, events_per_second=2000.0, depth_interval_ms=20)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.mark.parametrize("category", ["linear", "spot"])
async def test_books_go_live_on_snapshots_and_follow_deltas(venue: SimVenue, category: str):
    """Subscribed on either category: snapshot, u-continuous deltas, trades, books equal."""
    run = Running(venue, category)
    try:
        await run.wait_all_live()
        await run.assert_books_equal_the_venue()
        stats = run.feed.stats
        assert (stats.gaps, stats.resyncs, stats.malformed) == (0, 0, 0)
        assert stats.link is LinkState.LIVE
        assert run.feed.url == f"{venue.ws_url}/v5/public/{category}"
        await until(lambda: bool(run.listener.trades), "a trade")
        assert run.listener.crossed_seen == 0
    finally:
        await run.close()


async def test_lost_delta_is_a_gap_and_the_topic_is_resubscribed(venue: SimVenue):
    """A u jump on BTCUSDT: only BTCUSDT resubscribes, gets a snapshot and ends equal."""
    run = Running(venue, "linear")
    try:
        await run.wait_all_live()
        venue.faults.gap_next("BTCUSDT", missing=1)
        await until(lambda: run.feed.stats.gaps >= 1, "the gap to be detected")
        await run.wait_all_live()
        await run.assert_books_equal_the_venue()
        assert run.listener.reasons(0) == [ResyncReason.GAP]
        assert run.listener.reasons(1) == []
        assert run.feed.stats.reconnects == 0
        assert run.feed.sync_of(0).snapshots == 2
    finally:
        await run.close()


async def test_a_snapshot_mid_stream_replaces_the_book_without_a_resync(venue: SimVenue):
    """A fresh snapshot while live replaces the book: no gap, no resync, still equal."""
    run = Running(venue, "linear")
    try:
        await run.wait_all_live()
        assert venue.bybit_market.snapshot_now("BTCUSDT") == 1
        await until(lambda: run.feed.sync_of(0).snapshots == 2, "the second snapshot")
        await run.wait_all_live()
        await run.assert_books_equal_the_venue()
        stats = run.feed.stats
        assert (stats.gaps, stats.resyncs, stats.snapshots) == (0, 0, 3)
    finally:
        await run.close()


async def test_duplicates_malformed_frames_and_disconnects_are_survived(
    venue: SimVenue, caplog: pytest.LogCaptureFixture
):
    """Repeated deltas are skipped, broken frames counted and logged, a cut socket reconnects."""
    run = Running(venue, "linear")
    try:
        await run.wait_all_live()
        venue.faults.duplicate_next(2)
        with caplog.at_level(logging.WARNING, logger="engine.venues"):
            venue.faults.malformed_next(2)
            await until(lambda: run.feed.stats.malformed >= 2, "the broken frames")
        logged = [r for r in caplog.records if r.getMessage() == "malformed frame"]
        assert len(logged) >= 2
        for record in logged:
            assert record.venue == "bybit-linear"  # type: ignore[attr-defined]
            assert record.stream.split(".")[-1] in {"BTCUSDT", "ETHUSDT", "unknown"}  # type: ignore[attr-defined]
            assert 0 < len(record.frame) <= 120  # type: ignore[attr-defined]
        await run.wait_all_live()
        await run.assert_books_equal_the_venue()
        assert run.feed.stats.gaps == 0
        assert venue.drop_connections() >= 1
        await until(lambda: run.feed.stats.reconnects >= 1, "a reconnect")
        await run.wait_all_live()
        await run.assert_books_equal_the_venue()
    finally:
        await run.close()


async def test_heartbeat_pings_are_answered(venue: SimVenue):
    """With the market paused, only pongs to the feed's {"op":"ping"} arrive: the link lives."""
    run = Running(venue, "spot", ping_interval_s=0.05)
    try:
        await run.wait_all_live()
        venue.pause()
        await asyncio.sleep(0.1)  # the last deltas land
        frames = run.feed.stats.frames
        await until(lambda: run.feed.stats.frames >= frames + 5, "five pongs")
        assert run.feed.stats.reconnects == 0
        assert run.feed.stats.link is LinkState.LIVE
    finally:
        venue.resume()
        await run.close()
