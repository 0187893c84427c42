"""Coinbase level2 rules on hand-made frames: sequence gaps, snapshots, crossed books."""

from __future__ import annotations

import json

import pytest

from engine.book.order_book import OrderBook
from engine.core.instruments import Instrument
from engine.errors import CrossedBook, SequenceGap
from engine.venues.book_sync import BookPhase, ResyncCause
from engine.venues.coinbase.protocol import CoinbaseParser
from engine.venues.coinbase.sync import CoinbaseBookSync, CoinbaseConnectionSync, CoinbaseOutcome

BTC = Instrument(venue="coinbase", symbol="BTC-USD", tick_size="0.01", lot_size="0.00000001")
ETH = Instrument(
    venue="coinbase", symbol="ETH-USD", tick_size="0.01", lot_size="0.00000001", instrument_id=1
)


def l2(seq: int, kind: str, product: str, *levels: tuple[str, str, str]) -> bytes:
    """An l2_data frame with (side, price, size) levels."""
    updates = [
        {
            "side": s,
            "event_time": "2026-08-09T21:05:48.170326Z",
            "price_level": p,
            "new_quantity": q,
        }
        for s, p, q in levels
    ]
    return json.dumps(
        {
            "channel": "l2_data",
            "timestamp": "2026-08-09T21:05:48.48Z",
            "sequence_num": seq,
            "events": [{"type": kind, "product_id": product, "updates": updates}],
        }
    ).encode()


def heartbeat(seq: int) -> bytes:
    """A heartbeats frame."""
    return json.dumps(
        {"channel": "heartbeats", "sequence_num": seq, "events": [{"heartbeat_counter": seq}]}
    ).encode()


def setup() -> tuple[CoinbaseParser, CoinbaseConnectionSync]:
    """A parser and a connection sync for BTC-USD and ETH-USD."""
    books = {i.symbol: CoinbaseBookSync(i, OrderBook(i.symbol)) for i in (BTC, ETH)}
    return CoinbaseParser([BTC, ETH]), CoinbaseConnectionSync(books)


def test_snapshot_then_updates_across_channels():
    """The number counts every frame; updates apply absolutely, 0 deletes."""
    parser, conn = setup()
    snap = l2(
        0,
        "snapshot",
        "BTC-USD",
        ("bid", "100.00", "1"),
        ("bid", "99.99", "2"),
        ("offer", "100.01", "3"),
    )
    ((_, outcome),) = conn.on_frame(parser.parse(snap, 1))
    assert outcome is CoinbaseOutcome.SNAPSHOT
    assert conn.on_frame(parser.parse(heartbeat(1), 2)) == []
    upd = l2(2, "update", "BTC-USD", ("bid", "100.00", "0"), ("offer", "100.02", "0.5"))
    ((sync, outcome),) = conn.on_frame(parser.parse(upd, 3))
    assert outcome is CoinbaseOutcome.APPLIED
    assert sync.book.levels() == ([(9999, 200000000)], [(10001, 300000000), (10002, 50000000)])
    assert sync.book.update_id == 2


def test_a_jump_in_sequence_num_throws_every_book_away():
    """Frame 0 then frame 2: SequenceGap naming both numbers; all books reset with cause GAP."""
    parser, conn = setup()
    conn.on_frame(parser.parse(l2(0, "snapshot", "BTC-USD", ("bid", "1.00", "1")), 1))
    with pytest.raises(SequenceGap) as caught:
        conn.on_frame(parser.parse(heartbeat(2), 2))
    assert (caught.value.expected, caught.value.received) == (1, 2)
    for sync in conn.books.values():
        assert sync.phase is BookPhase.SYNCING
        assert sync.resync_cause is ResyncCause.GAP
        assert sync.book.depth() == (0, 0)
    # later updates wait for new snapshots
    ((_, outcome),) = conn.on_frame(
        parser.parse(l2(3, "update", "BTC-USD", ("bid", "1.00", "2")), 3)
    )
    assert outcome is CoinbaseOutcome.SKIPPED


def test_a_repeated_or_older_number_is_a_gap_too():
    """Duplicated or reordered frames are lost order: the same resync."""
    parser, conn = setup()
    conn.on_frame(parser.parse(heartbeat(5), 1))
    with pytest.raises(SequenceGap):
        conn.on_frame(parser.parse(heartbeat(5), 2))
    conn.reset()
    conn.on_frame(parser.parse(heartbeat(0), 3))  # a new connection starts its own numbering
    assert conn.sequence_num == 0


def test_a_snapshot_replaces_the_book():
    """A second snapshot of a product drops every earlier level."""
    parser, conn = setup()
    conn.on_frame(
        parser.parse(
            l2(0, "snapshot", "ETH-USD", ("bid", "10.00", "1"), ("offer", "11.00", "1")), 1
        )
    )
    conn.on_frame(parser.parse(l2(1, "snapshot", "ETH-USD", ("bid", "9.00", "2")), 2))
    assert conn.books["ETH-USD"].book.levels() == ([(900, 200000000)], [])


def test_a_crossed_book_is_thrown_away_alone():
    """A bid at the ask: CrossedBook; that book resets with cause CROSSED, the other stays live."""
    parser, conn = setup()
    conn.on_frame(
        parser.parse(l2(0, "snapshot", "BTC-USD", ("bid", "1.00", "1"), ("offer", "1.01", "1")), 1)
    )
    conn.on_frame(parser.parse(l2(1, "snapshot", "ETH-USD", ("bid", "1.00", "1")), 2))
    with pytest.raises(CrossedBook):
        conn.on_frame(parser.parse(l2(2, "update", "BTC-USD", ("bid", "1.01", "1")), 3))
    assert conn.books["BTC-USD"].resync_cause is ResyncCause.CROSSED
    assert conn.books["ETH-USD"].phase is BookPhase.LIVE
