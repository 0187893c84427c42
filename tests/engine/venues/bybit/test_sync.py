"""The Bybit book procedure: snapshots replace, u continuity, u == 1 restarts."""

from __future__ import annotations

import numpy as np
import pytest

from engine.book.order_book import OrderBook
from engine.core.events import BookDelta, BookSnapshot
from engine.core.instruments import Instrument
from engine.errors import CrossedBook, SequenceGap
from engine.venues.binance.sync import DeltaOutcome, SyncPhase
from engine.venues.bybit.sync import BybitBookSync

INST = Instrument(venue="bybit-linear", symbol="BTCUSDT", tick_size="0.1", lot_size="0.001")


def _a(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def delta(u: int, bid: int = 100, size: int = 1) -> BookDelta:
    """A delta at ``u`` setting one bid."""
    return BookDelta(
        instrument=0,
        first_id=u,
        last_id=u,
        prev_id=-1,
        bid_px=_a(bid),
        bid_sz=_a(size),
        ask_px=_a(),
        ask_sz=_a(),
        exch_ts=0,
        recv_ts=0,
    )


def snapshot(u: int, bid: int = 99, ask: int = 101) -> BookSnapshot:
    """A one-level-a-side snapshot at ``u``."""
    return BookSnapshot(
        instrument=0, update_id=u, bid_px=_a(bid), bid_sz=_a(5), ask_px=_a(ask), ask_sz=_a(5)
    )


@pytest.fixture
def sync() -> BybitBookSync:
    """A sync on an empty book."""
    return BybitBookSync(INST, OrderBook("BTCUSDT"), venue="bybit-linear")


def test_deltas_before_the_snapshot_are_dropped_then_u_must_follow(sync: BybitBookSync):
    """Waiting: deltas skipped; live: u + 1 applies, a repeat is stale, a jump is a gap."""
    assert sync.on_delta(delta(5)) is DeltaOutcome.STALE
    assert sync.on_snapshot(snapshot(10))
    assert sync.on_delta(delta(11)) is DeltaOutcome.APPLIED
    assert sync.on_delta(delta(11)) is DeltaOutcome.STALE
    with pytest.raises(SequenceGap) as caught:
        sync.on_delta(delta(13))
    assert (caught.value.expected, caught.value.received) == (12, 13)
    assert sync.phase is SyncPhase.SYNCING
    assert sync.book.best_bid() is None


def test_a_snapshot_mid_stream_replaces_the_book(sync: BybitBookSync):
    """A second snapshot is not a gap: it replaces every level."""
    sync.on_snapshot(snapshot(10, bid=99))
    sync.on_delta(delta(11, bid=98))
    assert not sync.on_snapshot(snapshot(500, bid=90, ask=95))
    assert sync.book.levels() == ([(90, 5)], [(95, 5)])
    assert (sync.update_id, sync.snapshots) == (500, 2)
    assert sync.on_delta(delta(501, bid=91)) is DeltaOutcome.APPLIED


def test_u_of_one_is_a_restart_snapshot(sync: BybitBookSync):
    """A message with u == 1 overwrites the book, whatever its type."""
    sync.on_snapshot(snapshot(10))
    assert sync.on_delta(delta(1, bid=97, size=3)) is DeltaOutcome.APPLIED
    assert sync.book.levels() == ([(97, 3)], [])
    assert sync.on_delta(delta(2, bid=96)) is DeltaOutcome.APPLIED


def test_crossed_book_is_thrown_away(sync: BybitBookSync):
    """A delta that crosses the book resets it."""
    sync.on_snapshot(snapshot(10))
    with pytest.raises(CrossedBook):
        sync.on_delta(delta(11, bid=102))
    assert sync.phase is SyncPhase.SYNCING
