"""The OKX feed against the local OKX stream (engine.sim.okx_stream) over real sockets on 127.0.0.1.

Every update the feed applies has its checksum verified against the venue's book, so "in sync"
is checked on every message; the faults show each book thrown away alone and rebuilt.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from engine.core.instruments import Instrument
from engine.ipc.protocol import LinkState, ResyncReason
from engine.sim.okx_stream import OkxStreamVenue
from engine.venues.okx.feed import OkxFeed
from tests.engine.venues.feed_harness import RunningFeed, quick_backoff, until

pytestmark = pytest.mark.integration

BTC = Instrument(venue="okx", symbol="BTC-USDT", tick_size="0.1", lot_size="0.00001")
ETH = Instrument(
    venue="okx", symbol="ETH-USDT", tick_size="0.01", lot_size="0.0001", instrument_id=1
)
INSTRUMENTS = [BTC, ETH]


class Running(RunningFeed[OkxFeed]):
    """The OKX feed running against the venue."""

    def __init__(self, venue: OkxStreamVenue, **kwargs: Any) -> None:
        super().__init__(
            INSTRUMENTS,
            lambda books, listener: OkxFeed(
                INSTRUMENTS,
                books,
                listener,
                ws_url=venue.ws_url,
                backoff=quick_backoff(),
                **kwargs,
            ),
        )


@pytest.fixture
async def venue() -> AsyncIterator[OkxStreamVenue]:
    """A busy local OKX stream (20 ms updates) listing BTC-USDT and ETH-USDT."""
    sim = OkxStreamVenue(INSTRUMENTS, seed=5, events_per_second=1000.0, interval_ms=20)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def running(venue: OkxStreamVenue) -> AsyncIterator[Running]:
    """A feed on the venue."""
    feed = Running(venue)
    yield feed
    await feed.close()


async def test_books_go_live_and_every_checksum_matches(running: Running):
    """Both books sync from their snapshots; updates keep matching the venue's checksums."""
    for inst in INSTRUMENTS:
        await running.wait_verified(inst.instrument_id, more=20)
    await until(lambda: LinkState.LIVE in running.listener.links, "link live")
    await until(lambda: len(running.listener.trades) > 0, "a trade")
    assert running.feed.stats.gaps == 0
    assert running.feed.checksum_mismatches == 0
    assert running.listener.crossed_seen == 0
    assert running.listener.deltas[0] > 0


async def test_a_gap_resubscribes_only_that_book(running: Running, venue: OkxStreamVenue):
    """A skipped seqId: that book resyncs (GAP) from a new snapshot; the other never stops."""
    await running.wait_verified(0)
    await running.wait_verified(1)
    venue.inject_gap("BTC-USDT")
    await until(lambda: running.feed.stats.gaps == 1, "the gap")
    assert running.listener.reasons(0) == [ResyncReason.GAP]
    await running.wait_verified(0)
    assert running.listener.reasons(1) == []
    assert running.listener.crossed_seen == 0


async def test_a_bad_checksum_resubscribes_that_book(running: Running, venue: OkxStreamVenue):
    """A wrong checksum: the book is thrown away and rebuilt; counted as a checksum mismatch."""
    await running.wait_verified(1)
    venue.inject_bad_checksum("ETH-USDT")
    await until(lambda: running.feed.checksum_mismatches == 1, "the mismatch")
    assert running.feed.sync_of(1).resync_cause is not None
    await running.wait_verified(1)
    assert running.listener.reasons(1) == [ResyncReason.GAP]


async def test_a_malformed_frame_is_counted_and_survived(running: Running, venue: OkxStreamVenue):
    """A broken frame is counted and reported; the books carry on (or resync) and stay verified."""
    await running.wait_verified(0)
    venue.inject_malformed()
    await until(lambda: running.feed.stats.malformed == 1, "the malformed frame")
    assert running.listener.malformed_streams() == ["frame"]
    await running.wait_verified(0)
    await running.wait_verified(1)


async def test_a_dropped_connection_reconnects_and_resyncs(running: Running, venue: OkxStreamVenue):
    """The venue closes the socket: the feed reconnects with backoff, resubscribes, goes live."""
    await running.wait_verified(0)
    await venue.drop_connections()
    await until(lambda: running.feed.stats.reconnects == 1, "a reconnect")
    for inst in INSTRUMENTS:
        await running.wait_verified(inst.instrument_id)
        assert ResyncReason.RECONNECT in running.listener.reasons(inst.instrument_id)
    assert venue.connections == 2


async def test_a_quiet_link_is_pinged():
    """Nothing received for ping_after_s: the feed sends ``ping``; the venue's pong is counted."""
    quiet = OkxStreamVenue(INSTRUMENTS, seed=5, interval_ms=60_000)  # snapshots, then silence
    await quiet.start()
    feed = Running(quiet, ping_after_s=0.05)
    try:
        await until(lambda: feed.feed.pings > 0, "a ping")
        await until(lambda: feed.feed.ignored["pong"] > 0, "the pong")
    finally:
        await feed.close()
        await quiet.stop()


async def test_without_ws_snapshots_books_sync_from_rest():
    """2026: the stream sends updates only; each book buffers, takes a REST snapshot and goes on."""
    venue = OkxStreamVenue(
        INSTRUMENTS, seed=7, events_per_second=1000.0, interval_ms=20, ws_snapshots=False
    )
    await venue.start()
    feed = Running(venue, rest_url=venue.rest_url, snapshot_wait_s=0.2)
    try:
        for inst in INSTRUMENTS:
            await feed.wait_verified(inst.instrument_id, more=10)
        assert venue.rest_snapshots >= 2
        assert feed.feed.stats.snapshots >= 2
        venue.inject_gap("ETH-USDT")  # a gap resyncs from REST again
        await until(lambda: feed.feed.stats.gaps == 1, "the gap")
        await feed.wait_verified(1, more=10)
        assert feed.listener.crossed_seen == 0
    finally:
        await feed.close()
        await venue.stop()
