"""Real Binance futures sessions replayed through the futures parser and book sync.

USD-M (hftbacktest, both day files of a pair concatenated, the REST snapshot in-stream with the
diffs before it buffered; cryptofeed BINANCE_FUTURES) and COIN-M (cryptofeed BINANCE_DELIVERY,
same rules): every frame parses, each book syncs from its snapshot by ``U <= L <= u``, no diff
afterwards breaks ``pu`` continuity or crosses the book, and wherever a bookTicker carries the
``u`` of the last applied diff its best bid and ask, prices and sizes, equal the rebuilt book's.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from engine.book.order_book import OrderBook
from engine.core.events import BookDelta, Trade
from engine.core.instruments import Instrument
from engine.venues.binance.protocol import BookTop, use_compiled_readers
from engine.venues.binance.sync import DeltaOutcome, SnapshotOutcome, SyncPhase
from engine.venues.binance_usdm.protocol import BinanceUsdmParser
from engine.venues.binance_usdm.sync import FuturesBookSync
from tests.engine.venues.binance_usdm.captures import (
    COINM_SESSIONS,
    USDM_INSTRUMENTS,
    USDM_SESSIONS,
    cryptofeed_instruments,
    cryptofeed_session,
    hftbacktest_lines,
)

pytestmark = pytest.mark.shared_data

_APPLIED = (DeltaOutcome.APPLIED, DeltaOutcome.WENT_LIVE)


@pytest.fixture(autouse=True, scope="module")
def _compiled() -> None:
    """The captures go through the compiled readers, the engine's hot path."""
    use_compiled_readers()


class _Replay:
    """One symbol's book and futures sync, what became of each diff, and the ticker checks."""

    def __init__(self, instrument: Instrument, parser: BinanceUsdmParser) -> None:
        self.instrument = instrument
        self.parser = parser
        self.book = OrderBook(instrument.symbol)
        self.sync = FuturesBookSync(instrument, self.book, venue="binance-usdm")
        self.outcomes: Counter[DeltaOutcome] = Counter()
        self.snapshot_id: int | None = None
        self.ids: list[tuple[int, int]] = []  # (U, u) of every diff, in arrival order
        self.ticker_checks = 0
        self.ticker_matches = 0

    def snapshot(self, body: bytes, recv_ts: int) -> SnapshotOutcome:
        snap = self.parser.parse_snapshot(body, self.instrument, recv_ts)
        self.snapshot_id = snap.update_id
        outcome = self.sync.on_snapshot(snap)  # SnapshotError here: the first-diff rule failed
        assert not self.book.is_crossed()
        return outcome

    def delta(self, delta: BookDelta) -> None:
        assert delta.prev_id >= 0
        self.ids.append((delta.first_id, delta.last_id))
        outcome = self.sync.on_delta(delta)  # SequenceGap or CrossedBook here fail the test
        self.outcomes[outcome] += 1
        if outcome in _APPLIED:
            assert not self.book.is_crossed()

    def first_diff_kept(self) -> tuple[int, int]:
        """(U, u) of the first diff, buffered or later, the snapshot does not drop (u >= L)."""
        assert self.snapshot_id is not None
        return next(ids for ids in self.ids if ids[1] >= self.snapshot_id)

    def ticker(self, top: BookTop) -> None:
        """A bookTicker at the last applied ``u`` must be the book's top, exactly."""
        agrees = self.sync.top_agrees(top)
        if agrees is not None:
            self.ticker_checks += 1
            self.ticker_matches += agrees


_TICKERS = {
    "btcusdt_20240718": 106,
    "ethusdt_20240718": 90,
    "btcusdt_20240808": 126,
    "ethusdt_20240808": 80,
}
"""bookTickers at the ``u`` of the last applied diff, per session (../shared/data/README.md)."""


@pytest.mark.parametrize("session", list(USDM_SESSIONS))
def test_hftbacktest_usdm_session_keeps_pu_continuity_and_matches_book_ticker(
    shared_data: Path, session: str
):
    """A USD-M capture: 0 gaps, never crossed, every same-``u`` bookTicker equals the book."""
    symbol = USDM_SESSIONS[session][0]
    inst = USDM_INSTRUMENTS[symbol]
    parser = BinanceUsdmParser([inst])
    replay = _Replay(inst, parser)
    trade_frames = trades = 0
    for recv_ns, payload in hftbacktest_lines(shared_data, session):
        if payload.startswith(b'{"lastUpdateId"'):
            assert replay.snapshot(payload, recv_ns) is SnapshotOutcome.LIVE
            continue
        trade_frames += payload.startswith(b'{"stream":"' + symbol.encode() + b'@trade"')
        event = parser.parse_frame(payload, recv_ns)
        if isinstance(event, BookDelta):
            replay.delta(event)
        elif isinstance(event, Trade):
            trades += 1
        elif isinstance(event, BookTop):
            replay.ticker(event)
    assert replay.sync.phase is SyncPhase.LIVE
    assert replay.outcomes[DeltaOutcome.APPLIED] > 5000
    assert trades > 0.99 * trade_frames  # the rest: zero-price prints of unfilled trade ids
    # diffs arrived before the snapshot; the first one applied obeys U <= L <= u
    first_id, last_id = replay.first_diff_kept()
    assert replay.snapshot_id is not None
    assert first_id <= replay.snapshot_id <= last_id
    assert (replay.ticker_matches, replay.ticker_checks) == (_TICKERS[session],) * 2


def test_hftbacktest_coinm_session_keeps_pu_continuity(shared_data: Path):
    """COIN-M BTCUSD_PERP across the day boundary: 0 gaps, never crossed, by the same rules."""
    (session,) = COINM_SESSIONS
    inst = USDM_INSTRUMENTS["btcusd_perp"]
    parser = BinanceUsdmParser([inst], venue="binance-coinm")
    replay = _Replay(inst, parser)
    for recv_ns, payload in hftbacktest_lines(shared_data, session):
        if payload.startswith(b'{"lastUpdateId"'):
            assert replay.snapshot(payload, recv_ns) is SnapshotOutcome.LIVE
            continue
        event = parser.parse_frame(payload, recv_ns)
        if isinstance(event, BookDelta):
            replay.delta(event)
    assert replay.sync.phase is SyncPhase.LIVE
    assert replay.outcomes[DeltaOutcome.APPLIED] > 44_000
    first_id, last_id = replay.first_diff_kept()
    assert replay.snapshot_id is not None
    assert first_id <= replay.snapshot_id <= last_id


@pytest.mark.parametrize("name", ["BINANCE_FUTURES", "BINANCE_DELIVERY"])
def test_cryptofeed_futures_sessions_sync_every_symbol(shared_data: Path, name: str):
    """USD-M and COIN-M (same rules): every book syncs by U <= L <= u and stays continuous."""
    instruments = cryptofeed_instruments(name)
    parser = BinanceUsdmParser(instruments)
    replays = {i.instrument_id: _Replay(i, parser) for i in instruments}
    by_symbol = {i.symbol: i.instrument_id for i in instruments}
    trades = 0
    for stamp, source, body in cryptofeed_session(shared_data, name):
        recv_ns = int(stamp * 1e9)
        if source != "ws":
            replays[by_symbol[source]].snapshot(body, recv_ns)
            continue
        event = parser.parse_frame(body, recv_ns)
        if isinstance(event, BookDelta):
            replays[event.instrument].delta(event)
        elif isinstance(event, Trade):
            trades += 1  # aggTrade
        elif isinstance(event, BookTop):
            replays[event.instrument].ticker(event)
    assert trades > 0
    assert parser.unknown > 0  # kline
    for replay in replays.values():
        assert replay.sync.phase is SyncPhase.LIVE, replay.instrument.symbol
        assert replay.outcomes[DeltaOutcome.APPLIED] > 0
        first_id, last_id = replay.first_diff_kept()
        assert replay.snapshot_id is not None
        assert first_id <= replay.snapshot_id <= last_id
        assert replay.ticker_matches == replay.ticker_checks
    if name == "BINANCE_DELIVERY":
        assert replays[by_symbol["XRPUSD_PERP"]].ticker_checks >= 3
