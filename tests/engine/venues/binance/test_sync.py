"""The Binance spot local-book procedure (venues.md §1.4) on a real OrderBook, without sockets."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from engine.book.order_book import OrderBook
from engine.core.events import BookDelta, BookSnapshot
from engine.core.instruments import Instrument
from engine.errors import CrossedBook, SequenceGap, SnapshotError
from engine.venues.binance.sync import DeltaOutcome, SnapshotOutcome, SpotBookSync, SyncPhase

BTC = Instrument(venue="binance", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001")
Levels = Sequence[tuple[int, int]]


def _arrays(levels: Levels) -> tuple[np.ndarray, np.ndarray]:
    px = np.array([p for p, _ in levels], dtype=np.int64)
    sz = np.array([s for _, s in levels], dtype=np.int64)
    return px, sz


def diff(first: int, last: int, bids: Levels = (), asks: Levels = ()) -> BookDelta:
    """A diff covering update ids ``first..last``."""
    bid_px, bid_sz = _arrays(bids)
    ask_px, ask_sz = _arrays(asks)
    return BookDelta(
        instrument=0,
        first_id=first,
        last_id=last,
        prev_id=-1,
        bid_px=bid_px,
        bid_sz=bid_sz,
        ask_px=ask_px,
        ask_sz=ask_sz,
        exch_ts=0,
        recv_ts=0,
    )


def snapshot(
    update_id: int, bids: Levels = ((100, 5),), asks: Levels = ((101, 7),)
) -> BookSnapshot:
    """A snapshot at ``update_id`` (by default one bid at 100 and one ask at 101)."""
    bid_px, bid_sz = _arrays(bids)
    ask_px, ask_sz = _arrays(asks)
    return BookSnapshot(
        instrument=0,
        update_id=update_id,
        bid_px=bid_px,
        bid_sz=bid_sz,
        ask_px=ask_px,
        ask_sz=ask_sz,
    )


@pytest.fixture
def sync() -> SpotBookSync:
    """A fresh sync unit over an empty book."""
    return SpotBookSync(BTC, OrderBook("BTCUSDT"))


def test_diffs_are_buffered_until_a_snapshot_arrives(sync: SpotBookSync):
    """While syncing every diff is kept and the book stays empty."""
    assert sync.snapshot_wanted
    assert sync.on_delta(diff(10, 12, bids=[(99, 1)])) is DeltaOutcome.BUFFERED
    assert sync.on_delta(diff(13, 13)) is DeltaOutcome.BUFFERED
    assert sync.buffered == 2
    assert sync.book.levels() == ([], [])


def test_snapshot_drops_covered_diffs_and_replays_the_rest(sync: SpotBookSync):
    """Diffs with u <= lastUpdateId are dropped; the first remaining straddles L + 1 and applies."""
    sync.on_delta(diff(8, 9, bids=[(50, 1)]))  # covered by the snapshot: must not apply
    sync.on_delta(diff(10, 12, bids=[(99, 3)]))
    sync.on_delta(diff(13, 14, asks=[(101, 0), (102, 4)]))
    assert sync.on_snapshot(snapshot(11)) is SnapshotOutcome.LIVE
    assert sync.phase is SyncPhase.LIVE
    assert sync.update_id == 14
    assert sync.book.levels() == ([(100, 5), (99, 3)], [(102, 4)])
    assert not sync.snapshot_wanted


def test_first_diff_starting_exactly_after_the_snapshot_is_accepted(sync: SpotBookSync):
    """U == lastUpdateId + 1 is the usual real case; a ``U <= L <= u`` check would reject it."""
    sync.on_delta(diff(12, 15, bids=[(99, 2)]))
    assert sync.on_snapshot(snapshot(11)) is SnapshotOutcome.LIVE
    assert sync.update_id == 15
    assert sync.book.best_bid() == (100, 5)


def test_snapshot_older_than_the_buffer_is_refused_and_kept_wanted(sync: SpotBookSync):
    """A snapshot whose lastUpdateId + 1 is below the first buffered U is too old: fetch again."""
    sync.on_delta(diff(20, 22))
    with pytest.raises(SnapshotError, match="too old"):
        sync.on_snapshot(snapshot(18))
    assert sync.snapshot_wanted
    assert sync.buffered == 1
    assert sync.on_snapshot(snapshot(21)) is SnapshotOutcome.LIVE
    assert sync.update_id == 22


def test_snapshot_ending_where_a_buffered_diff_ends_is_live_at_once(sync: SpotBookSync):
    """When a buffered diff ends at lastUpdateId the stream is known to continue right after it."""
    sync.on_delta(diff(5, 11))
    assert sync.on_snapshot(snapshot(11)) is SnapshotOutcome.LIVE
    assert sync.update_id == 11
    assert sync.on_delta(diff(12, 12)) is DeltaOutcome.APPLIED


def test_snapshot_before_any_diff_waits_for_the_first_one(sync: SpotBookSync):
    """With nothing buffered the book holds the snapshot and goes live with a bridging diff."""
    assert sync.on_snapshot(snapshot(30)) is SnapshotOutcome.BRIDGING
    assert sync.phase is SyncPhase.BRIDGING
    assert not sync.snapshot_wanted
    assert sync.on_delta(diff(25, 30)) is DeltaOutcome.STALE
    assert sync.on_delta(diff(29, 33, asks=[(103, 1)])) is DeltaOutcome.WENT_LIVE
    assert sync.phase is SyncPhase.LIVE
    assert sync.book.levels() == ([(100, 5)], [(101, 7), (103, 1)])


def test_first_diff_past_a_waiting_snapshot_that_skips_ids_refuses_the_snapshot(sync: SpotBookSync):
    """A first diff that starts beyond lastUpdateId + 1 means the snapshot predates the stream."""
    sync.on_snapshot(snapshot(30))
    with pytest.raises(SnapshotError, match="older than the stream"):
        sync.on_delta(diff(35, 36))
    assert sync.snapshot_wanted
    assert sync.book.levels() == ([], [])
    assert sync.first_buffered_id == 35  # the diff starts the new buffer


def test_live_book_applies_continuous_diffs_and_skips_stale_ones(sync: SpotBookSync):
    """Live: U == previous u + 1 applies, u <= local id is skipped, a size of 0 deletes."""
    sync.on_snapshot(snapshot(10))
    sync.on_delta(diff(11, 11))
    assert sync.on_delta(diff(12, 14, bids=[(100, 0), (98, 2)])) is DeltaOutcome.APPLIED
    assert sync.on_delta(diff(13, 14, bids=[(97, 9)])) is DeltaOutcome.STALE
    assert sync.book.levels() == ([(98, 2)], [(101, 7)])
    assert sync.book.update_id == 14


def test_gap_throws_the_book_away_and_keeps_the_diff(sync: SpotBookSync):
    """U > local id + 1 raises SequenceGap naming expected and received ids, then resyncs."""
    sync.on_snapshot(snapshot(10))
    sync.on_delta(diff(11, 12))
    with pytest.raises(SequenceGap) as caught:
        sync.on_delta(diff(14, 15))
    assert (caught.value.expected, caught.value.received) == (13, 14)
    assert caught.value.venue == "binance"
    assert caught.value.symbol == "BTCUSDT"
    assert sync.phase is SyncPhase.SYNCING
    assert sync.book.levels() == ([], [])
    assert sync.on_snapshot(snapshot(14)) is SnapshotOutcome.LIVE
    assert sync.update_id == 15


def test_crossed_book_after_a_diff_is_thrown_away(sync: SpotBookSync):
    """A diff that leaves best bid at or above best ask means a missed delete: resync."""
    sync.on_snapshot(snapshot(10))
    sync.on_delta(diff(11, 11))
    with pytest.raises(CrossedBook) as caught:
        sync.on_delta(diff(12, 12, bids=[(101, 1)]))
    assert (caught.value.best_bid, caught.value.best_ask) == (101, 101)
    assert sync.snapshot_wanted
    assert sync.book.levels() == ([], [])


def test_crossed_snapshot_is_refused(sync: SpotBookSync):
    """A snapshot that is crossed in itself never goes live."""
    with pytest.raises(CrossedBook):
        sync.on_snapshot(snapshot(10, bids=[(105, 1)], asks=[(101, 1)]))
    assert sync.snapshot_wanted


def test_a_skip_in_the_buffer_restarts_it(sync: SpotBookSync):
    """While syncing, a diff that does not follow the buffer makes the older diffs useless."""
    sync.on_delta(diff(10, 12))
    sync.on_delta(diff(20, 21))
    assert sync.first_buffered_id == 20
    assert sync.buffered == 1
    assert sync.on_delta(diff(15, 21)) is DeltaOutcome.STALE


def test_buffer_keeps_the_newest_diffs_when_full():
    """A full buffer drops its oldest diffs, which can only make a snapshot look too old."""
    sync = SpotBookSync(BTC, OrderBook("BTCUSDT"), max_buffered=3)
    for n in range(10, 15):
        sync.on_delta(diff(n, n))
    assert (sync.buffered, sync.first_buffered_id) == (3, 12)
    with pytest.raises(SnapshotError):
        sync.on_snapshot(snapshot(10))


def test_snapshot_is_ignored_unless_one_is_wanted(sync: SpotBookSync):
    """A late snapshot does not disturb a live book."""
    sync.on_snapshot(snapshot(10))
    sync.on_delta(diff(11, 11))
    assert sync.on_snapshot(snapshot(5, bids=[(1, 1)])) is SnapshotOutcome.IGNORED
    assert sync.book.best_bid() == (100, 5)


def test_reset_clears_book_and_buffer(sync: SpotBookSync):
    """After a reset the procedure starts again from step 1."""
    sync.on_snapshot(snapshot(10))
    sync.reset()
    assert sync.phase is SyncPhase.SYNCING
    assert (sync.buffered, sync.update_id) == (0, 0)
    assert sync.book.levels() == ([], [])
