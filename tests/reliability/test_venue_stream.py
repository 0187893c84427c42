"""Market-data faults from the venue: the book is thrown away and rebuilt, never left wrong.

Each test injects one fault into the local venue's streams while orders rest, waits for the
engine to notice and for the book to be live again, then checks that the book equals the venue's
own book and that orders, fills and the position still equal the venue's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from tests.reliability.conftest import SYMBOL, Desk, FaultLog, until

pytestmark = pytest.mark.integration


async def _resting(desk: Desk) -> list[str]:
    """Two orders far from the touch, resting at the venue through the fault."""
    bid, ask = desk.touch()
    ids = [
        desk.place(side="buy", size="0.001", price=desk.price(bid - 2000)),
        desk.place(side="sell", size="0.001", price=desk.price(ask + 2000)),
    ]
    await desk.settled("both orders to rest at the venue")
    return ids


async def _book_is_true(desk: Desk) -> int:
    """Freeze the market, wait for the last diff, compare; levels that differ (0 when right)."""
    venue, engine = desk.venue, desk.engine
    venue.pause()
    try:
        _, _, true_id = venue.true_book(SYMBOL)
        await until(lambda: engine.books[0].update_id == true_id, "the venue's last diff")
        bids, asks, _ = venue.true_book(SYMBOL)
        ours = engine.books[0].levels()
        return len(set(ours[0]) ^ set(bids)) + len(set(ours[1]) ^ set(asks))
    finally:
        venue.resume()


async def _back_live(desk: Desk, fault: FaultLog, resyncs: int) -> None:
    engine = desk.engine
    assert engine.feed is not None
    await until(lambda: engine.feed.stats.resyncs > resyncs, "a resync")
    await until(lambda: engine.book_states[0] == "live", "the book to be live again")
    fault.recovered()


async def _nothing_lost(desk: Desk, fault: FaultLog) -> None:
    """Once the orders settle: orders, fills and position as the venue's, the book its own."""
    await desk.settled()
    fault.lost(len(desk.mismatches()), await _book_is_true(desk))


async def _gap_resyncs(
    desk: Desk, fault: FaultLog, name: str, arm: Callable[[], None], seen: str
) -> None:
    """The fault ``name``, armed at the venue by ``arm``, is a gap: seen, resynced, all right."""
    engine = desk.engine
    await _resting(desk)
    assert engine.feed is not None
    gaps, resyncs = engine.feed.stats.gaps, engine.feed.stats.resyncs
    fault.inject(name)
    arm()
    await until(lambda: engine.feed.stats.gaps > gaps, seen)
    fault.detected("feed: sequence check (gap counter)")
    await _back_live(desk, fault, resyncs)
    await _nothing_lost(desk, fault)


async def test_disconnect_mid_stream(desk, fault):
    """Every socket cut without a close frame: reconnect, resync, orders untouched."""
    engine = desk.engine
    await _resting(desk)
    assert engine.feed is not None
    reconnects, resyncs = engine.feed.stats.reconnects, engine.feed.stats.resyncs
    fault.inject("venue disconnect mid-stream")
    assert desk.venue.faults.disconnect_all() >= 1
    await until(lambda: engine.feed.stats.reconnects > reconnects, "a reconnect")
    fault.detected("feed: connection lost, reconnected")
    await _back_live(desk, fault, resyncs)
    await _nothing_lost(desk, fault)


async def test_stall_without_close(desk, fault):
    """The venue goes silent with the socket open: the link is declared stale and reopened."""
    engine = desk.engine
    await _resting(desk)
    feed = engine.feed
    assert feed is not None
    feed.stale_after_s = 1.0  # read by each connection's liveness watch
    reconnects = feed.stats.reconnects
    desk.venue.faults.disconnect_all()  # the next connection watches with the short limit
    await until(lambda: feed.stats.reconnects > reconnects, "the short-limit connection")
    await until(lambda: engine.book_states[0] == "live", "the book to be live")
    reconnects, resyncs = feed.stats.reconnects, feed.stats.resyncs
    fault.inject("venue stall without close")
    desk.venue.pause()  # streams stay open; no diff or trade follows
    await until(lambda: engine.book_states[0] == "stale", "the book to be marked stale", 5)
    fault.detected("feed: liveness watch (no frame for stale_after_s)")
    await until(lambda: feed.stats.reconnects > reconnects, "the reconnect")
    desk.venue.resume()
    await _back_live(desk, fault, resyncs)
    await _nothing_lost(desk, fault)


async def test_sequence_gap(desk, fault):
    """Diffs skip update ids: the gap is seen, the symbol resnapshots, the book is right."""
    await _gap_resyncs(
        desk,
        fault,
        "sequence gap",
        lambda: desk.venue.faults.gap_next(SYMBOL, missing=3),
        "the gap to be seen",
    )


async def test_duplicate_diffs(desk, fault):
    """Diffs sent twice change nothing the second time: no resync needed, the book is right."""
    engine = desk.engine
    await _resting(desk)
    assert engine.feed is not None
    frames = engine.feed.stats.frames
    fault.inject("duplicate messages")
    desk.venue.faults.duplicate_next(5)
    await until(lambda: desk.venue.faults.armed().duplicated == 0, "the duplicates to go out")
    await until(lambda: engine.feed.stats.frames >= frames + 10, "the duplicates to arrive")
    fault.detected("book sync: update ids already applied are ignored")
    await asyncio.sleep(0.2)
    assert engine.book_states[0] == "live"
    fault.recovered()
    await _nothing_lost(desk, fault)


async def test_out_of_order_diffs(desk, fault):
    """A diff that arrives after its successor is a gap: resync, and the late one is ignored."""
    await _gap_resyncs(
        desk,
        fault,
        "out-of-order messages",
        lambda: desk.venue.faults.reorder_next(1),
        "the early diff to be seen as a gap",
    )


async def test_malformed_json(desk, fault):
    """Cut-off and wrong-shaped frames are counted and dropped; the book stays (or gets) right.

    A broken frame that names a depth stream resyncs that book at once; one that names no
    stream, or the trade stream, is dropped, and the real frame behind it keeps the book whole.
    """
    engine = desk.engine
    await _resting(desk)
    assert engine.feed is not None
    malformed = engine.malformed
    fault.inject("malformed JSON")
    desk.venue.faults.malformed_next(4)
    await until(lambda: engine.malformed >= malformed + 4, "four malformed frames counted")
    fault.detected("feed: parser (malformed counter)")
    await asyncio.sleep(0.1)  # a depth frame's resync starts at once
    await until(lambda: engine.book_states[0] == "live", "the book to be live")
    fault.recovered()
    await _nothing_lost(desk, fault)


async def test_oversized_frame(desk, fault):
    """A frame over the 16 MiB limit ends the connection; reconnect and resync, nothing lost."""
    engine = desk.engine
    await _resting(desk)
    assert engine.feed is not None
    reconnects, resyncs = engine.feed.stats.reconnects, engine.feed.stats.resyncs
    fault.inject("oversized frame")
    desk.venue.faults.oversized_next()
    await until(lambda: engine.feed.stats.reconnects > reconnects, "a reconnect")
    fault.detected("feed: message size limit (connection closed 1009)")
    await _back_live(desk, fault, resyncs)
    await _nothing_lost(desk, fault)
