"""The futures book procedure: u < L dropped, U <= L <= u to start, pu == prev u afterwards."""

from __future__ import annotations

import numpy as np
import pytest

from engine.book.order_book import OrderBook
from engine.core.events import BookDelta, BookSnapshot
from engine.core.instruments import Instrument
from engine.errors import SequenceGap, SnapshotError
from engine.venues.binance.sync import DeltaOutcome, SnapshotOutcome, SyncPhase
from engine.venues.binance_usdm.sync import FuturesBookSync

INST = Instrument(venue="binance-usdm", symbol="BTCUSDT", tick_size="0.1", lot_size="0.001")


def _a(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def diff(first: int, last: int, prev: int, bid: int = 100, size: int = 1) -> BookDelta:
    """A futures diff ``[first, last]`` after ``prev`` setting one bid."""
    return BookDelta(
        instrument=0,
        first_id=first,
        last_id=last,
        prev_id=prev,
        bid_px=_a(bid),
        bid_sz=_a(size),
        ask_px=_a(),
        ask_sz=_a(),
        exch_ts=0,
        recv_ts=0,
    )


def snapshot(update_id: int) -> BookSnapshot:
    """A one-level-a-side snapshot at ``update_id``."""
    return BookSnapshot(
        instrument=0,
        update_id=update_id,
        bid_px=_a(99),
        bid_sz=_a(5),
        ask_px=_a(101),
        ask_sz=_a(5),
    )


@pytest.fixture
def sync() -> FuturesBookSync:
    """A futures sync on an empty book."""
    return FuturesBookSync(INST, OrderBook("BTCUSDT"), venue="binance-usdm")


def test_diff_ending_at_the_snapshot_is_kept_and_older_ones_dropped(sync: FuturesBookSync):
    """Diffs with u < L are dropped; u == L (spot drops it) applies, as U <= L <= u."""
    assert sync.on_delta(diff(10, 20, 5, bid=90)) is DeltaOutcome.BUFFERED
    assert sync.on_delta(diff(22, 30, 20, bid=95)) is DeltaOutcome.BUFFERED
    assert sync.on_snapshot(snapshot(30)) is SnapshotOutcome.LIVE
    assert sync.phase is SyncPhase.LIVE
    assert sync.update_id == 30
    assert sync.book.best_bid() == (99, 5)
    assert (95, 1) in sync.book.top(5)[0]
    assert (90, 1) not in sync.book.top(5)[0]


def test_first_diff_spanning_the_snapshot_goes_live(sync: FuturesBookSync):
    """After the snapshot: u < L is stale, U <= L <= u live, then pu continuity."""
    assert sync.on_snapshot(snapshot(25)) is SnapshotOutcome.BRIDGING
    assert sync.on_delta(diff(10, 24, 5)) is DeltaOutcome.STALE
    assert sync.on_delta(diff(22, 30, 24)) is DeltaOutcome.WENT_LIVE
    assert sync.on_delta(diff(33, 40, 30)) is DeltaOutcome.APPLIED  # ids need not be contiguous
    assert sync.on_delta(diff(33, 40, 30)) is DeltaOutcome.STALE  # a repeat


def test_first_diff_after_the_snapshot_means_it_is_too_old(sync: FuturesBookSync):
    """A first diff with U > L: the snapshot is too old, fetch another."""
    sync.on_snapshot(snapshot(25))
    with pytest.raises(SnapshotError):
        sync.on_delta(diff(26, 30, 25))
    assert sync.snapshot_wanted
    assert sync.buffered == 1


def test_pu_mismatch_is_a_gap_and_the_diff_starts_a_new_buffer(sync: FuturesBookSync):
    """A pu other than the previous u throws the book away and keeps the diff."""
    sync.on_snapshot(snapshot(25))
    sync.on_delta(diff(20, 30, 19))
    with pytest.raises(SequenceGap) as caught:
        sync.on_delta(diff(41, 50, 40))
    assert (caught.value.expected, caught.value.received) == (30, 40)
    assert sync.phase is SyncPhase.SYNCING
    assert sync.book.best_bid() is None
    assert sync.first_buffered_id == 41


def test_buffer_restarts_when_pu_does_not_follow(sync: FuturesBookSync):
    """While syncing, the buffer stays pu-continuous."""
    sync.on_delta(diff(10, 20, 5))
    sync.on_delta(diff(31, 40, 30))  # pu 30 != 20: the buffer restarts here
    assert (sync.buffered, sync.first_buffered_id) == (1, 31)
