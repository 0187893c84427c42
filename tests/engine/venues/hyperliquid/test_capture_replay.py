"""The real Hyperliquid session (hftbacktest ``hyperliquid/btcusd_20250126.gz``) replayed.

All 46 ``l2Book`` snapshots (20 levels a side) and 9 ``trades`` frames (64 trades) parse on the
chosen grid, each snapshot replaces the book, and no book is ever crossed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.venues.hyperliquid.replay import HyperliquidReplay
from tests.engine.venues.hyperliquid.captures import HYPERLIQUID_BTC, hftbacktest_frames

pytestmark = pytest.mark.shared_data


def test_snapshots_and_trades_parse_and_books_never_cross(shared_data: Path):
    """46 snapshots of 20x20 replace the book in time order; 64 trades; nothing malformed."""
    replay = HyperliquidReplay([HYPERLIQUID_BTC])
    times = []
    for recv_ns, raw in hftbacktest_frames(
        shared_data / "hftbacktest" / "hyperliquid" / "btcusd_20250126.gz"
    ):
        for update in replay.feed(recv_ns, raw):
            assert not update.book.is_crossed()
            assert update.book.depth() == (20, 20)
            times.append(update.seq)
    stats = replay.stats
    assert (stats.frames, stats.applied, stats.trades) == (55, 46, 64)
    assert stats.malformed == 0
    assert not stats.resyncs
    assert times == sorted(times)
    assert len({t.trade_id for t in replay.trades}) == 64
    assert all(t.price > 0 and t.size > 0 for t in replay.trades)
