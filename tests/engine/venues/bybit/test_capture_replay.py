"""Real Bybit v5 sessions replayed through the public parser and the book sync.

Every frame parses, each book goes live on its snapshot, no delta breaks ``u`` continuity, no
book is ever crossed, and the trades parse; tickers and klines are counted and ignored.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.book.order_book import OrderBook
from engine.core.events import BookDelta, BookSnapshot
from engine.venues.binance.protocol import use_compiled_readers
from engine.venues.binance.sync import DeltaOutcome, SyncPhase
from engine.venues.bybit.protocol import BybitPublicParser, OpAnswer
from engine.venues.bybit.sync import BybitBookSync
from tests.engine.venues.bybit.captures import XRPUSDT, BybitSession, xrpusdt_ob500

pytestmark = pytest.mark.shared_data

_SYMBOLS = {
    "linear": ["BTCUSDT", "ETHUSDT", "SOLUSDT", "DOGEUSDT"],
    "spot": ["BTCUSDT", "ETHUSDT"],
}


@pytest.fixture(autouse=True, scope="module")
def _compiled() -> None:
    """The captures go through the compiled level reader, the engine's hot path."""
    use_compiled_readers()


@pytest.mark.parametrize("category", ["linear", "spot"])
def test_cryptofeed_bybit_socket_keeps_u_continuous_and_never_crosses(
    shared_data: Path, category: str
):
    """Both sockets: 6 books live, every delta u == prev u + 1, never crossed, trades parsed."""
    session = BybitSession(shared_data)
    conn = next(c for c, cat in session.category.items() if cat == category)
    instruments = session.instruments(category, _SYMBOLS[category])
    parser = BybitPublicParser(instruments, venue=f"bybit-{category}")
    syncs = {
        i.instrument_id: BybitBookSync(i, OrderBook(i.symbol), venue=parser.venue)
        for i in instruments
    }
    applied = trades = acks = 0
    for recv_ns, frame in session.frames[conn]:
        event = parser.parse_frame(frame, recv_ns)
        if isinstance(event, BookSnapshot):
            syncs[event.instrument].on_snapshot(event)
        elif isinstance(event, BookDelta):
            outcome = syncs[event.instrument].on_delta(event)  # SequenceGap fails the test
            applied += outcome is DeltaOutcome.APPLIED
            assert not syncs[event.instrument].book.is_crossed()
        elif isinstance(event, list):
            trades += len(event)
        elif isinstance(event, OpAnswer):
            acks += event.success
    for sync in syncs.values():
        if sync.instrument.symbol in ("BTCUSDT", "ETHUSDT"):  # the books subscribed
            assert sync.phase is SyncPhase.LIVE, sync.instrument.symbol
    assert applied == {"linear": 1594, "spot": 548}[category]
    assert trades > 0
    assert acks > 0
    assert parser.unknown > 0  # tickers, kline


def test_nautilus_xrpusdt_ob500_file_keeps_u_continuous(shared_data: Path):
    """The historical ob500 file: one snapshot, 49 deltas u-continuous, never crossed."""
    parser = BybitPublicParser([XRPUSDT])
    sync = BybitBookSync(XRPUSDT, OrderBook("XRPUSDT"), venue="bybit-linear")
    ids = []
    for n, line in enumerate(xrpusdt_ob500(shared_data)):
        event = parser.parse_frame(line, n)
        if isinstance(event, BookSnapshot):
            assert sync.on_snapshot(event)
        else:
            assert isinstance(event, BookDelta)
            assert sync.on_delta(event) is DeltaOutcome.APPLIED
        ids.append(sync.update_id)
        assert not sync.book.is_crossed()
    assert ids == list(range(20254869, 20254919))
    assert sync.book.depth()[0] >= 500
