"""Hyperliquid books on hand-made snapshots: replacement, time order, crossed books."""

from __future__ import annotations

import json

import pytest

from engine.book.order_book import OrderBook
from engine.core.instruments import Instrument
from engine.errors import CrossedBook
from engine.venues.book_sync import BookPhase, ResyncCause
from engine.venues.hyperliquid.protocol import HyperliquidBook, HyperliquidParser
from engine.venues.hyperliquid.sync import HyperliquidBookSync, HyperliquidOutcome

BTC = Instrument(
    venue="hyperliquid", symbol="BTC", tick_size="1", lot_size="0.00001", instrument_id=4
)


def l2(time: int, bids, asks) -> bytes:
    """An l2Book frame from (px, sz) pairs."""

    def side(levels):
        return [{"px": p, "sz": s, "n": 1} for p, s in levels]

    return json.dumps(
        {
            "channel": "l2Book",
            "data": {"coin": "BTC", "time": time, "levels": [side(bids), side(asks)]},
        }
    ).encode()


def book(parser: HyperliquidParser, raw: bytes) -> HyperliquidBook:
    """The one book of a frame."""
    (msg,) = parser.parse(raw, 1)
    assert isinstance(msg, HyperliquidBook)
    return msg


def test_each_snapshot_replaces_the_book_and_older_ones_are_skipped():
    """Every message is the whole book; a snapshot older than the book is stale."""
    parser = HyperliquidParser([BTC])
    sync = HyperliquidBookSync(BTC, OrderBook("BTC"))
    assert (
        sync.on_book(book(parser, l2(10, [("100.0", "1")], [("101.0", "2")])))
        is HyperliquidOutcome.REPLACED
    )
    assert sync.phase is BookPhase.LIVE
    sync.on_book(book(parser, l2(20, [("99.0", "0.5")], [("102.0", "0.00001")])))
    assert sync.book.levels() == ([(99, 50000)], [(102, 1)])
    assert sync.book.update_id == 20
    assert sync.on_book(book(parser, l2(15, [("1.0", "1")], []))) is HyperliquidOutcome.STALE
    assert sync.book.best_bid() == (99, 50000)


def test_a_crossed_snapshot_throws_the_book_away():
    """Bid at the ask: CrossedBook, empty book, cause CROSSED; the next snapshot rebuilds."""
    parser = HyperliquidParser([BTC])
    sync = HyperliquidBookSync(BTC, OrderBook("BTC"))
    with pytest.raises(CrossedBook):
        sync.on_book(book(parser, l2(10, [("101.0", "1")], [("101.0", "2")])))
    assert sync.resync_cause is ResyncCause.CROSSED
    assert sync.book.depth() == (0, 0)
    sync.on_book(book(parser, l2(11, [("100.0", "1")], [("101.0", "2")])))
    assert sync.phase is BookPhase.LIVE
