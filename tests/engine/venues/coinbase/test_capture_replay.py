"""The real Coinbase Advanced Trade session (cryptofeed-v3 ``COINBASE.jsonl.zst``) replayed.

``sequence_num`` runs 0..1029 with no gap, both books sync from their snapshots (46,000 and
23,334 levels) and never cross, BTC-USD's ticker best bid/ask equals the book 70 of 70 times,
and every value fits the products' grids.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.core.events import BookSnapshot, Side, Trade
from engine.venues.coinbase.protocol import CoinbaseBook, CoinbaseParser, CoinbaseTicker
from engine.venues.coinbase.replay import CoinbaseReplay
from tests.conftest import SHARED_DATA
from tests.engine.venues.coinbase.captures import COINBASE_INSTRUMENTS, cryptofeed_v3_frames

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def frames() -> list[tuple[int, bytes]]:
    """The session's frames in receive order (read once for the module)."""
    path = SHARED_DATA / "cryptofeed-v3" / "COINBASE.jsonl.zst"
    if not path.is_file():
        pytest.skip(f"captured exchange data not found at {path} (../shared is absent)")
    return cryptofeed_v3_frames(path)


def test_sequence_has_no_gap_and_books_never_cross(shared_data: Path, frames):
    """1030 frames numbered 0..1029; 2 snapshots + 773 updates applied; never crossed."""
    replay = CoinbaseReplay(COINBASE_INSTRUMENTS)
    seqs = []
    for recv_ns, raw in frames:
        for update in replay.feed(recv_ns, raw):
            assert not update.book.is_crossed()
            seqs.append(update.seq)
        assert replay.connection.sequence_num == replay.stats.frames - 1
    stats = replay.stats
    assert stats.frames == 1030
    assert replay.connection.gaps == 0
    assert not stats.resyncs
    assert stats.malformed == 0
    assert stats.applied == 2 + 773
    assert seqs == sorted(seqs)
    assert replay.parser.ignored == {"heartbeats": 25, "candles": 6, "subscriptions": 5}


def test_btc_ticker_equals_the_book_every_time(shared_data: Path, frames):
    """BTC-USD: 70/70 tickers show the book's best bid and ask; ETH-USD 62/84 (unsynchronised)."""
    replay = CoinbaseReplay(COINBASE_INSTRUMENTS)
    for recv_ns, raw in frames:
        replay.feed(recv_ns, raw)
    assert replay.ticker_matches["BTC-USD"] == 70
    assert replay.ticker_mismatches["BTC-USD"] == 0
    assert (replay.ticker_matches["ETH-USD"], replay.ticker_mismatches["ETH-USD"]) == (62, 22)


def test_every_value_fits_the_grids_and_trades_take_the_book(shared_data: Path, frames):
    """Every level, trade and ticker fits the grids; buys print at the ask, sells at the bid."""
    parser = CoinbaseParser(COINBASE_INSTRUMENTS)
    replay = CoinbaseReplay(COINBASE_INSTRUMENTS)
    snapshots = {}
    at_touch = {Side.BUY: 0, Side.SELL: 0}
    trades = tickers = 0
    for recv_ns, raw in frames:
        frame = parser.parse(raw, recv_ns)
        for item in frame.items:
            if isinstance(item, CoinbaseBook) and isinstance(item.event, BookSnapshot):
                snapshots[item.symbol] = len(item.event.bid_px) + len(item.event.ask_px)
            elif isinstance(item, Trade):
                trades += 1
                book = replay.connection.books[COINBASE_INSTRUMENTS[item.instrument].symbol].book
                bid, ask = book.best_bid(), book.best_ask()
                if item.aggressor is Side.BUY and ask and item.price >= ask[0]:
                    at_touch[Side.BUY] += 1
                if item.aggressor is Side.SELL and bid and item.price <= bid[0]:
                    at_touch[Side.SELL] += 1
            elif isinstance(item, CoinbaseTicker):
                tickers += 1
        replay.feed(recv_ns, raw)
    assert snapshots == {"BTC-USD": 46000, "ETH-USD": 23334}
    assert trades == 79
    assert tickers == 160
    assert parser.history_trades == 200
    # the venue's side is the maker's: as parsed, 71 of the 79 trades print at the taker's touch
    assert at_touch == {Side.BUY: 48, Side.SELL: 23}


def test_one_product_alone_replays_with_no_gap(shared_data: Path, frames):
    """Replaying BTC-USD alone: ETH-USD events are ignored, yet their frames keep the count."""
    replay = CoinbaseReplay(COINBASE_INSTRUMENTS[:1])
    for recv_ns, raw in frames:
        replay.feed(recv_ns, raw)
    assert replay.connection.gaps == 0
    assert not replay.stats.resyncs
    assert replay.connection.sequence_num == 1029
    assert replay.ticker_matches["BTC-USD"] == 70
    assert replay.parser.ignored["unsubscribed:ETH-USD"] > 0
