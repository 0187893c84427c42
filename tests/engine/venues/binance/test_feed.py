"""The Binance spot feed against the local venue over real sockets on 127.0.0.1.

The venue runs a fast market (2000 events/s, 20 ms diffs) so a few seconds cover many diffs.
"Equal" always means: pause the venue, let the last diffs arrive, and compare every level of the
feed's book with the venue's true book.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from engine.core.instruments import Instrument
from engine.ipc.protocol import LinkState, ResyncReason
from engine.sim.server import SimVenue
from engine.venues.binance.feed import BinanceSpotFeed
from tests.engine.venues.feed_harness import OnSimVenue, quick_backoff, until

pytestmark = pytest.mark.integration

BTC = Instrument(
    venue="sim", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001", instrument_id=0
)
ETH = Instrument(
    venue="sim", symbol="ETHUSDT", tick_size="0.01", lot_size="0.0001", instrument_id=1
)
INSTRUMENTS = [BTC, ETH]
DEPTH_MS = 20


class Running(OnSimVenue[BinanceSpotFeed]):
    """The spot feed running against the venue."""

    more_updates = 20

    def __init__(self, venue: SimVenue, stale_after_s: float) -> None:
        super().__init__(
            venue,
            INSTRUMENTS,
            lambda books, listener: BinanceSpotFeed(
                INSTRUMENTS,
                books,
                listener,
                ws_url=venue.ws_url,
                rest_url=venue.rest_url,
                depth_interval_ms=DEPTH_MS,
                venue="sim",
                backoff=quick_backoff(),
                stale_after_s=stale_after_s,
            ),
        )


@pytest.fixture
async def venue() -> AsyncIterator[SimVenue]:
    """A busy local venue listing BTCUSDT and ETHUSDT."""
    sim = SimVenue(INSTRUMENTS, seed=11, events_per_second=2000.0, depth_interval_ms=DEPTH_MS)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def start_feed(venue: SimVenue) -> AsyncIterator[Callable[..., Awaitable[Running]]]:
    """Starts a feed on the venue when called (faults can be armed first); stops it afterwards."""
    started: list[Running] = []

    async def start(stale_after_s: float = 60.0) -> Running:
        running = Running(venue, stale_after_s)
        started.append(running)
        return running

    yield start
    for running in started:
        await running.close()


async def test_books_equal_the_venues_true_books(start_feed: Any):
    """After syncing and many diffs both books equal the venue's, with no gap or resync."""
    running = await start_feed()
    await running.wait_all_live(25)
    await running.assert_books_equal_the_venue()
    stats = running.feed.stats
    assert (stats.gaps, stats.resyncs, stats.malformed, stats.reconnects) == (0, 0, 0, 0)
    assert stats.snapshots == len(INSTRUMENTS)
    assert stats.link is LinkState.LIVE
    assert running.listener.links[:4] == [
        LinkState.CONNECTING,
        LinkState.SUBSCRIBING,
        LinkState.SYNCING,
        LinkState.LIVE,
    ]
    assert running.listener.trades
    assert running.listener.crossed_seen == 0


async def test_injected_gap_resyncs_only_that_book(start_feed: Any, venue: SimVenue):
    """A skipped update id on BTCUSDT is caught, only BTCUSDT resnapshots, and both end equal."""
    running = await start_feed()
    await running.wait_all_live()
    venue.faults.gap_next("BTCUSDT", missing=1)
    await until(lambda: running.feed.stats.gaps >= 1, "the gap to be detected")
    await running.wait_all_live()
    await running.assert_books_equal_the_venue()
    assert running.listener.reasons(BTC.instrument_id) == [ResyncReason.GAP]
    assert running.listener.reasons(ETH.instrument_id) == []
    assert running.feed.stats.snapshots == len(INSTRUMENTS) + 1
    assert running.feed.stats.reconnects == 0


async def test_malformed_frames_are_counted_logged_and_survived(
    start_feed: Any, venue: SimVenue, caplog: pytest.LogCaptureFixture
):
    """Garbage frames are counted and logged with venue and stream; the feed resyncs and goes on."""
    caplog.set_level(logging.WARNING, logger="engine.venues.binance")
    running = await start_feed()
    await running.wait_all_live()
    venue.faults.malformed_next(count=4)
    await until(lambda: running.feed.stats.malformed >= 4, "four malformed frames")
    await running.wait_all_live()
    await running.assert_books_equal_the_venue()
    seen = running.listener.malformed
    assert len(seen) == running.feed.stats.malformed
    assert all(err.venue == "sim" and err.stream == stream for stream, err in seen)
    logged = [r for r in caplog.records if r.getMessage() == "malformed frame"]
    assert len(logged) == len(seen)
    assert {(r.venue, r.stream) for r in logged} == {("sim", s) for s, _ in seen}  # type: ignore[attr-defined]
    depth_hits = sum("@depth" in s for s, _ in seen)
    resynced = sum(len(running.listener.reasons(i.instrument_id)) for i in INSTRUMENTS)
    assert resynced <= depth_hits  # a hit while already resyncing needs no second resync
    assert running.feed.stats.reconnects == 0


async def test_disconnect_reconnects_resnapshots_and_recovers(start_feed: Any, venue: SimVenue):
    """Cutting the socket marks the books stale, reconnects, resnapshots both and ends equal."""
    running = await start_feed()
    await running.wait_all_live()
    assert venue.faults.disconnect_all() == 1
    await until(lambda: running.feed.stats.reconnects >= 1, "a reconnect")
    await running.wait_all_live()
    await running.assert_books_equal_the_venue()
    listener = running.listener
    for inst in INSTRUMENTS:
        assert (inst.instrument_id, "stale", None) in listener.states
        assert listener.reasons(inst.instrument_id) == [ResyncReason.RECONNECT]
    assert running.feed.stats.snapshots == 2 * len(INSTRUMENTS)
    after_drop = listener.links[listener.links.index(LinkState.DISCONNECTED) :]
    assert after_drop[:5] == [
        LinkState.DISCONNECTED,
        LinkState.CONNECTING,
        LinkState.SUBSCRIBING,
        LinkState.SYNCING,
        LinkState.LIVE,
    ]


async def test_rate_limited_snapshot_waits_for_retry_after(
    start_feed: Any, venue: SimVenue, caplog: pytest.LogCaptureFixture
):
    """A 429 on the snapshot holds every REST request for Retry-After seconds, then syncs."""
    caplog.set_level(logging.WARNING, logger="engine.venues.binance")
    venue.faults.rate_limit_next(count=len(INSTRUMENTS), retry_after_s=1)
    running = await start_feed()
    await running.wait_all_live(1)
    limited = [r for r in caplog.records if r.getMessage() == "snapshot rate limited; waiting"]
    assert limited
    assert {(r.status, r.retry_after_s) for r in limited} == {(429, 1.0)}  # type: ignore[attr-defined]
    first_429 = min(r.created for r in limited)
    assert min(running.listener.live_at) >= first_429 + 1.0
    await running.assert_books_equal_the_venue()


async def test_stale_snapshot_is_fetched_again(
    start_feed: Any, venue: SimVenue, caplog: pytest.LogCaptureFixture
):
    """A snapshot older than the buffered diffs is refused and fetched again."""
    caplog.set_level(logging.INFO, logger="engine.venues.binance")
    start_id = venue.true_book("BTCUSDT")[2]
    await until(lambda: venue.true_book("BTCUSDT")[2] > start_id + 50, "the market to move")
    venue.faults.stale_snapshot_next()
    running = await start_feed()
    await running.wait_all_live()
    await running.assert_books_equal_the_venue()
    assert any(r.getMessage() == "snapshot too old; fetching another" for r in caplog.records)
    assert running.feed.stats.snapshots == len(INSTRUMENTS) + 1


async def test_slow_snapshot_buffers_diffs_meanwhile(start_feed: Any, venue: SimVenue):
    """Snapshots that take a while still sync: the diffs received meanwhile are replayed."""
    venue.faults.slow_rest(0.3, count=len(INSTRUMENTS))
    running = await start_feed()
    await running.wait_all_live()
    await running.assert_books_equal_the_venue()
    assert running.feed.stats.gaps == 0


async def test_silent_link_is_declared_stale_and_reconnected(start_feed: Any, venue: SimVenue):
    """With no frame for stale_after_s the feed marks its books stale, reconnects and resyncs."""
    running = await start_feed(stale_after_s=1.0)
    await running.wait_all_live()
    venue.pause()  # the socket stays open but goes quiet
    try:
        await until(lambda: running.feed.stats.reconnects >= 1, "a reconnect after silence")
    finally:
        venue.resume()
    await running.wait_all_live()
    await running.assert_books_equal_the_venue()
    for inst in INSTRUMENTS:
        assert (inst.instrument_id, "stale", None) in running.listener.states
        assert ResyncReason.RECONNECT in running.listener.reasons(inst.instrument_id)


async def test_stop_ends_the_feed(start_feed: Any):
    """stop() closes the link and run() returns."""
    running = await start_feed()
    await running.wait_all_live(1)
    await running.feed.stop()
    await asyncio.wait_for(running.task, 5.0)
    assert running.feed.stats.link is LinkState.DISCONNECTED
    assert running.listener.links[-1] is LinkState.DISCONNECTED
