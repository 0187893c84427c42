"""The Binance USD-M feed against the local venue's USD-M streams over real sockets on 127.0.0.1.

The venue serves ``/public/stream?streams=`` with ``pu`` on every diff and ``/fapi/v1/depth``
from the same fast market the spot streams come from. "Equal" means: pause the venue, let the
last diffs arrive, and compare every level with the venue's true book.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from engine.core.instruments import Instrument
from engine.ipc.protocol import LinkState, ResyncReason
from engine.sim.server import SimVenue
from engine.venues.binance_usdm.feed import BinanceUsdmFeed
from tests.engine.venues.feed_harness import OnSimVenue, quick_backoff, until

pytestmark = pytest.mark.integration

BTC = Instrument(
    venue="binance-usdm", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001", instrument_id=0
)
ETH = Instrument(
    venue="binance-usdm", symbol="ETHUSDT", tick_size="0.01", lot_size="0.0001", instrument_id=1
)
INSTRUMENTS = [BTC, ETH]


class Running(OnSimVenue[BinanceUsdmFeed]):
    """The USD-M feed running against the venue."""

    def __init__(self, venue: SimVenue) -> None:
        super().__init__(
            venue,
            INSTRUMENTS,
            lambda books, listener: BinanceUsdmFeed(
                INSTRUMENTS,
                books,
                listener,
                ws_url=venue.ws_url,
                rest_url=venue.rest_url,
                depth_limit=1000,
                depth_interval_ms=100,
                backoff=quick_backoff(),
            ),
        )


@pytest.fixture
async def venue() -> AsyncIterator[SimVenue]:
    """A busy local venue listing BTCUSDT and ETHUSDT."""
    sim = SimVenue(INSTRUMENTS, seed=13, events_per_second=2000.0, depth_interval_ms=20)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def running(venue: SimVenue) -> AsyncIterator[Running]:
    """A USD-M feed on the venue, stopped afterwards."""
    run = Running(venue)
    yield run
    await run.close()


async def test_books_go_live_on_pu_diffs_and_equal_the_venue(running: Running):
    """Snapshots from /fapi/v1/depth, pu-continuous diffs, bookTickers agree: books equal."""
    await running.wait_all_live()
    await until(lambda: running.feed.stats.top_checks >= 3, "bookTickers at the book's own u")
    await running.assert_books_equal_the_venue()
    stats = running.feed.stats
    assert (stats.gaps, stats.resyncs, stats.malformed) == (0, 0, 0)  # every top agreed
    assert stats.snapshots == len(INSTRUMENTS)
    assert stats.link is LinkState.LIVE
    assert running.feed.url.startswith(f"{running.venue.ws_url}/public/stream?streams=")
    assert running.listener.trades
    assert running.listener.crossed_seen == 0


async def test_lost_diff_shows_as_a_pu_gap_and_only_that_book_resyncs(
    running: Running, venue: SimVenue
):
    """A gap on BTCUSDT breaks pu continuity; BTCUSDT resnapshots and both end equal."""
    await running.wait_all_live()
    venue.faults.gap_next("BTCUSDT", missing=1)
    await until(lambda: running.feed.stats.gaps >= 1, "the gap to be detected")
    await running.wait_all_live()
    await running.assert_books_equal_the_venue()
    assert running.listener.reasons(0) == [ResyncReason.GAP]
    assert running.listener.reasons(1) == []
    assert running.feed.stats.reconnects == 0


async def test_duplicate_and_malformed_frames_change_nothing(running: Running, venue: SimVenue):
    """A repeated diff is stale under pu rules; a broken frame is counted and resynced."""
    await running.wait_all_live()
    venue.faults.duplicate_next(2)
    venue.faults.malformed_next(2)
    await until(lambda: running.feed.stats.malformed >= 2, "the broken frames")
    await running.wait_all_live()
    await running.assert_books_equal_the_venue()
    assert running.feed.stats.gaps == 0
    assert {s for s, _ in running.listener.malformed} <= {
        "btcusdt@depth@100ms",
        "ethusdt@depth@100ms",
        "btcusdt@trade",
        "ethusdt@trade",
        "unknown",
    }


async def test_disconnect_reconnects_and_resyncs(running: Running, venue: SimVenue):
    """Every socket cut: the feed reconnects, resnapshots both books and they end equal."""
    await running.wait_all_live()
    assert venue.drop_connections() >= 1
    await until(lambda: running.feed.stats.reconnects >= 1, "a reconnect")
    await running.wait_all_live()
    await running.assert_books_equal_the_venue()


async def test_stale_and_rate_limited_snapshots_are_fetched_again(venue: SimVenue):
    """An old /fapi/v1/depth is refused by U <= L <= u; a 429 waits; both books go live."""
    venue.faults.stale_snapshot_next()
    venue.faults.rate_limit_next(1, retry_after_s=0)
    run: Any = Running(venue)
    try:
        await run.wait_all_live()
        assert run.feed.stats.snapshots >= 2
    finally:
        await run.feed.stop()
        await asyncio.wait_for(run.task, 5.0)
