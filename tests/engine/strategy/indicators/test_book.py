"""Book features against their definitions, on hand-made books and any book hypothesis makes."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.book.order_book import OrderBook
from engine.core.events import BookDelta
from engine.strategy.context import BookReader
from engine.strategy.indicators import EMA, BookImbalance, DepthWeightedMid, Microprice
from engine.venues.binance.protocol import BinanceSpotParser
from engine.venues.binance.sync import DeltaOutcome, SpotBookSync
from tests.engine.venues.binance.captures import SPOT_INSTRUMENTS, hftbacktest_lines

_APPLIED = (DeltaOutcome.APPLIED, DeltaOutcome.WENT_LIVE)


def book(bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> BookReader:
    """A read-only view of a book holding exactly these levels."""
    b = OrderBook("BTCUSDT")
    cols = [np.array(c, dtype=np.int64) for c in ([p for p, _ in bids], [s for _, s in bids])]
    cols += [np.array(c, dtype=np.int64) for c in ([p for p, _ in asks], [s for _, s in asks])]
    b.apply_snapshot(*cols, update_id=1)
    return BookReader(b)


def test_features_of_a_hand_made_book():
    """Microprice leans to the thin ask; imbalance and the depth-weighted mid over two levels."""
    view = book([(100, 30), (99, 10)], [(102, 10), (103, 50)])
    assert Microprice().update(view) == (100 * 10 + 102 * 30) / 40
    assert BookImbalance(1).update(view) == (30 - 10) / 40
    assert BookImbalance(2).update(view) == (40 - 60) / 100
    bid_avg = Fraction(100 * 30 + 99 * 10, 40)
    ask_avg = Fraction(102 * 10 + 103 * 50, 60)
    assert DepthWeightedMid(2).update(view) == (bid_avg + ask_avg) / 2
    assert DepthWeightedMid(1).update(view) == Fraction(101)


def test_one_sided_books_give_none_and_none_propagates():
    """No ask: every feature is None, and an EMA of it stays unready."""
    view = book([(100, 3)], [])
    ema = EMA(5)
    for feature in (Microprice(), BookImbalance(3), DepthWeightedMid(3)):
        assert ema.update(feature.update(view)) is None
        assert feature.update(None) is None
    with pytest.raises(ValueError, match="BookImbalance: window 0"):
        BookImbalance(0)


sides = st.lists(st.tuples(st.integers(1, 500), st.integers(1, 10**6)), min_size=1, max_size=12)


@settings(max_examples=80, deadline=None)
@given(sides, sides, st.integers(1, 15))
def test_features_match_reference_on_any_book(raw_bids, raw_asks, depth):
    """Bids below 1000, asks above: each feature equals its formula over the best levels."""
    bids = sorted({1000 - p: s for p, s in raw_bids}.items(), reverse=True)
    asks = sorted({1000 + p: s for p, s in raw_asks}.items())
    view = book(bids, asks)
    top_b, top_a = bids[:depth], asks[:depth]
    sb, sa = sum(s for _, s in top_b), sum(s for _, s in top_a)
    assert BookImbalance(depth).update(view) == pytest.approx((sb - sa) / (sb + sa))
    expected = (
        Fraction(sum(p * s for p, s in top_b), sb) + Fraction(sum(p * s for p, s in top_a), sa)
    ) / 2
    assert DepthWeightedMid(depth).update(view) == expected
    (bp, bs), (ap, as_) = bids[0], asks[0]
    assert Microprice().update(view) == pytest.approx((bp * as_ + ap * bs) / (bs + as_))
    assert bp <= Microprice().update(view) <= ap


@pytest.mark.shared_data
def test_features_match_numpy_on_the_real_spot_book(shared_data: Path):
    """The spot BTCUSDT book replayed diff by diff: each feature equals numpy over its levels."""
    inst = SPOT_INSTRUMENTS["btcusdt"]
    parser = BinanceSpotParser([inst])
    live = OrderBook(inst.symbol)
    sync = SpotBookSync(inst, live)
    view = BookReader(live)
    micro, imb, dwm = Microprice(), BookImbalance(10), DepthWeightedMid(10)
    checked = 0
    for recv_ns, payload in hftbacktest_lines(shared_data, "btcusdt"):
        if payload.startswith(b'{"lastUpdateId"'):
            sync.on_snapshot(parser.parse_snapshot(payload, inst, recv_ns))
            continue
        event = parser.parse_frame(payload, recv_ns)
        if not isinstance(event, BookDelta) or sync.on_delta(event) not in _APPLIED:
            continue
        bids, asks = (np.array(side, dtype=np.int64).reshape(-1, 2) for side in live.top(10))
        (bp, bs), (ap, as_) = bids[0], asks[0]
        assert micro.update(view) == pytest.approx((bp * as_ + ap * bs) / (bs + as_), rel=1e-15)
        sb, sa = int(bids[:, 1].sum()), int(asks[:, 1].sum())
        assert imb.update(view) == pytest.approx((sb - sa) / (sb + sa), abs=1e-15)
        bid_avg = Fraction(int((bids[:, 0] * bids[:, 1]).sum()), sb)
        ask_avg = Fraction(int((asks[:, 0] * asks[:, 1]).sum()), sa)
        assert dwm.update(view) == (bid_avg + ask_avg) / 2
        checked += 1
    assert checked > 1000
