"""The real OKX v5 session (cryptofeed ``OKX.ws.1.0``) through the parser and the book sync.

Every ``books`` message parses on the chosen grids, every one of the 290 carries a checksum and
all 290 match the rebuilt book, and no book is ever crossed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.core.events import Trade
from engine.venues.okx.protocol import OkxBook, OkxParser
from engine.venues.okx.replay import OkxReplay
from tests.engine.venues.okx.captures import OKX_INSTRUMENTS, okx_frames

pytestmark = pytest.mark.shared_data


def test_every_checksum_of_the_capture_matches_and_no_book_crosses(shared_data: Path):
    """290 of 290 books messages are applied with their checksum verified, never crossed."""
    replay = OkxReplay(OKX_INSTRUMENTS)
    applied = 0
    for recv_ns, raw in okx_frames(shared_data):
        for update in replay.feed(recv_ns, raw):
            applied += 1
            assert not update.book.is_crossed()
            assert update.recv_ts == recv_ns
    stats = replay.stats
    assert applied == stats.applied == 290
    assert stats.checksums_verified == 290
    assert stats.malformed == 0
    assert not stats.resyncs
    assert stats.trades == 74
    assert replay.parser.ignored == {"tickers": 28, "event:subscribe": 18}
    assert sum(sync.checksums_verified for sync in replay.syncs.values()) == 290
    # OKX writes the shortest form of every number: no level text had to be kept
    assert all(sync.texts.kept == 0 for sync in replay.syncs.values())


def test_every_value_of_the_capture_fits_the_chosen_grids(shared_data: Path):
    """Each book level and trade is a whole number of ticks and lots (the parser would refuse)."""
    parser = OkxParser(OKX_INSTRUMENTS)
    books = trades = 0
    for recv_ns, raw in okx_frames(shared_data):
        for item in parser.parse(raw, recv_ns):
            if isinstance(item, OkxBook):
                books += 1
                event = item.event
                assert (event.bid_px > 0).all()
                assert (event.ask_px > 0).all()
                assert item.seq_id == -1  # 2022 messages: no seqId/prevSeqId
            else:
                assert isinstance(item, Trade)
                trades += 1
                assert item.price > 0
                assert item.size > 0
    assert (books, trades) == (290, 74)
