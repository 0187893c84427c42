"""The real Kraken v1 sessions (cryptofeed ``KRAKEN.ws.50.0`` book, ``KRAKEN.ws.48.0`` trades).

All 4269 book updates of the ten pairs carry a checksum and every one matches the rebuilt book
(truncated to depth 1000); no book crosses; every value fits the chosen grids; trades parse.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.core.events import Side
from engine.venues.kraken.protocol import KrakenBook, KrakenParser
from engine.venues.kraken.replay import KrakenReplay
from tests.engine.venues.kraken.captures import KRAKEN_V1_INSTRUMENTS, cryptofeed_frames

pytestmark = pytest.mark.shared_data


def test_every_v1_checksum_of_the_book_capture_matches(shared_data: Path):
    """10 snapshots and 4269 updates apply; 4269/4269 checksums match; never crossed."""
    replay = KrakenReplay(KRAKEN_V1_INSTRUMENTS)
    applied = 0
    for recv_ns, raw in cryptofeed_frames(shared_data / "cryptofeed" / "KRAKEN.ws.50.0"):
        for update in replay.feed(recv_ns, raw):
            applied += 1
            assert not update.book.is_crossed()
            assert max(update.book.depth()) <= 1000
    stats = replay.stats
    assert applied == stats.applied == 10 + 4269
    assert stats.checksums_verified == 4269
    assert sum(sync.checksums_verified for sync in replay.syncs.values()) == 4269
    assert stats.malformed == 0
    assert not stats.resyncs
    assert replay.parser.ignored == {
        "event:heartbeat": 31,
        "event:subscriptionStatus": 10,
        "event:systemStatus": 1,
    }
    # Kraken v1 writes every number at the pair's precision: no level text had to be kept
    assert all(sync.texts.kept == 0 for sync in replay.syncs.values())


def test_every_book_value_fits_the_chosen_grids(shared_data: Path):
    """Every level of every book message is a whole number of ticks and lots (else: refused)."""
    parser = KrakenParser(KRAKEN_V1_INSTRUMENTS)
    books = 0
    for recv_ns, raw in cryptofeed_frames(shared_data / "cryptofeed" / "KRAKEN.ws.50.0"):
        for item in parser.parse(raw, recv_ns):
            assert isinstance(item, KrakenBook)
            assert item.depth == 1000
            assert not item.odd
            books += 1
    assert books == 4279


def test_the_trade_capture_parses(shared_data: Path):
    """8 trade messages give 10 trades with exact prices, sizes, sides and times."""
    replay = KrakenReplay(KRAKEN_V1_INSTRUMENTS)
    for recv_ns, raw in cryptofeed_frames(shared_data / "cryptofeed" / "KRAKEN.ws.48.0"):
        assert replay.feed(recv_ns, raw) == []
    assert replay.stats.malformed == 0
    assert replay.stats.trades == len(replay.trades) == 10
    first = replay.trades[0]
    assert (first.price, first.size, first.aggressor) == (35411000000, 89594024, Side.SELL)
    assert first.exch_ts == 1618678142557535000
    assert all(t.price > 0 and t.size > 0 for t in replay.trades)
