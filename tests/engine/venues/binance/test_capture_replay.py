"""Real Binance spot sessions replayed through the parser and the book sync.

Every frame parses, the book syncs from the captured snapshot, and no diff afterwards shows a gap
or crosses the book.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from engine.book.order_book import OrderBook
from engine.core.events import BookDelta, Trade
from engine.core.instruments import Instrument
from engine.errors import MalformedMessage
from engine.venues.binance.protocol import BinanceSpotParser
from engine.venues.binance.sync import DeltaOutcome, SnapshotOutcome, SpotBookSync, SyncPhase
from tests.engine.venues.binance.captures import (
    CRYPTOFEED_INSTRUMENTS,
    SPOT_INSTRUMENTS,
    cryptofeed_session,
    hftbacktest_lines,
)

pytestmark = pytest.mark.shared_data

_APPLIED = (DeltaOutcome.APPLIED, DeltaOutcome.WENT_LIVE)


class _Replay:
    """One symbol's parser, book and sync, with what happened to each diff."""

    def __init__(self, instrument: Instrument, parser: BinanceSpotParser) -> None:
        self.instrument = instrument
        self.parser = parser
        self.book = OrderBook(instrument.symbol)
        self.sync = SpotBookSync(instrument, self.book)
        self.outcomes: Counter[DeltaOutcome] = Counter()
        self.ids: list[tuple[int, int]] = []  # (U, u) of every diff, in arrival order
        self.snapshot_id: int | None = None
        self.last_id = 0

    def snapshot(self, body: bytes, recv_ts: int) -> SnapshotOutcome:
        snap = self.parser.parse_snapshot(body, self.instrument, recv_ts)
        self.snapshot_id = snap.update_id
        outcome = self.sync.on_snapshot(snap)  # SnapshotError here: the first-diff rule failed
        assert not self.book.is_crossed()
        return outcome

    def delta(self, delta: BookDelta) -> None:
        self.ids.append((delta.first_id, delta.last_id))
        outcome = self.sync.on_delta(delta)  # SequenceGap or CrossedBook here fail the test
        self.outcomes[outcome] += 1
        if outcome in _APPLIED:
            assert not self.book.is_crossed()
            self.last_id = delta.last_id

    def first_diff_after_snapshot(self) -> tuple[int, int]:
        """(U, u) of the first diff, buffered or later, that the snapshot does not cover."""
        assert self.snapshot_id is not None
        return next(ids for ids in self.ids if ids[1] > self.snapshot_id)


@pytest.mark.parametrize("symbol", ["btcusdt", "ethusdt"])
def test_hftbacktest_spot_session_has_no_gaps_and_never_crosses(shared_data: Path, symbol: str):
    """Both day files of a spot capture parse fully and every diff applies with no gap or cross."""
    inst = SPOT_INSTRUMENTS[symbol]
    replay = _Replay(inst, BinanceSpotParser([inst]))
    trade_frames = trades = ignored = 0
    for recv_ns, payload in hftbacktest_lines(shared_data, symbol):
        if payload.startswith(b'{"lastUpdateId"'):
            assert replay.snapshot(payload, recv_ns) is SnapshotOutcome.LIVE
            continue
        trade_frames += payload.startswith(b'{"stream":"' + symbol.encode() + b'@trade"')
        event = replay.parser.parse_frame(payload, recv_ns)
        if isinstance(event, BookDelta):
            replay.delta(event)
        elif isinstance(event, Trade):
            trades += 1
        else:
            ignored += 1  # bookTicker
    assert replay.sync.phase is SyncPhase.LIVE
    assert replay.outcomes[DeltaOutcome.APPLIED] > 1000
    assert replay.book.update_id == replay.last_id
    assert trades == trade_frames
    assert ignored > 0
    # diffs arrived before the snapshot; the first one past it obeys U <= L + 1 <= u
    first_id, last_id = replay.first_diff_after_snapshot()
    assert replay.snapshot_id is not None
    assert first_id <= replay.snapshot_id + 1 <= last_id


def test_hftbacktest_ethusdt_first_diff_starts_right_after_the_snapshot(shared_data: Path):
    """ETHUSDT's first usable diff has U == lastUpdateId + 1, which U <= L <= u would reject."""
    inst = SPOT_INSTRUMENTS["ethusdt"]
    replay = _Replay(inst, BinanceSpotParser([inst]))
    for recv_ns, payload in hftbacktest_lines(shared_data, "ethusdt"):
        if payload.startswith(b'{"lastUpdateId"'):
            replay.snapshot(payload, recv_ns)
            continue
        event = replay.parser.parse_frame(payload, recv_ns)
        if isinstance(event, BookDelta):
            replay.delta(event)
            if replay.snapshot_id is not None and event.last_id > replay.snapshot_id:
                break
    assert replay.snapshot_id is not None
    assert replay.first_diff_after_snapshot()[0] == replay.snapshot_id + 1


def test_listed_btcusdt_lot_is_too_coarse_for_the_capture(shared_data: Path):
    """With the listed 0.00001 lot some far BTCUSDT levels are off grid and refused, not rounded."""
    listed = Instrument(venue="binance", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001")
    parser = BinanceSpotParser([listed])
    refused: list[MalformedMessage] = []
    for recv_ns, payload in hftbacktest_lines(shared_data, "btcusdt"):
        if b"depthUpdate" not in payload[:80]:
            continue
        try:
            parser.parse_frame(payload, recv_ns)
        except MalformedMessage as exc:
            refused.append(exc)
    assert refused
    assert all("is not a multiple of 0.00001" in str(e) for e in refused)
    assert {e.stream for e in refused} == {"btcusdt@depth@100ms"}


def test_cryptofeed_binance_session_syncs_all_four_symbols(shared_data: Path):
    """The 2021 capture syncs all four books, each first diff at exactly lastUpdateId + 1."""
    parser = BinanceSpotParser(CRYPTOFEED_INSTRUMENTS)
    replays = {i.instrument_id: _Replay(i, parser) for i in CRYPTOFEED_INSTRUMENTS}
    by_symbol = {i.symbol: i.instrument_id for i in CRYPTOFEED_INSTRUMENTS}
    ignored = 0
    for stamp, source, body in cryptofeed_session(shared_data):
        recv_ns = int(stamp * 1e9)
        if source != "ws":
            replays[by_symbol[source]].snapshot(body, recv_ns)
            continue
        event = parser.parse_frame(body, recv_ns)
        if isinstance(event, BookDelta):
            replays[event.instrument].delta(event)
        else:
            ignored += event is None  # bookTicker, kline and aggTrade: not subscribed by us
    assert ignored > 0
    for replay in replays.values():
        assert replay.sync.phase is SyncPhase.LIVE, replay.instrument.symbol
        assert replay.outcomes[DeltaOutcome.APPLIED] > 0
        assert replay.snapshot_id is not None
        assert replay.first_diff_after_snapshot()[0] == replay.snapshot_id + 1
