"""Shared helpers for the backtest tests: the BTCUSDT capture, short runs, in-memory sources."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from backtest.capture import CaptureSource
from backtest.config import BacktestConfig
from backtest.source import MarketEvent, TimeBase, replay_ts
from engine.core.events import BookDelta, BookSnapshot, Side, Trade
from engine.core.instruments import Instrument

S = 1_000_000_000
MM_PARAMS = {
    "half_spread_ticks": 50,
    "size_lots": 1000,
    "max_inventory_lots": 10000,
    "skew_ticks": 20,
    "requote_ticks": 5,
}
"""A market maker that trades a few hundred times over the BTCUSDT capture."""


def btc_capture(shared: Path) -> Path:
    """The BTCUSDT spot capture stem (both day files)."""
    return shared / "hftbacktest" / "spot" / "btcusdt"


def short_config(source: CaptureSource, seconds: int = 120, **fields: object) -> BacktestConfig:
    """The market maker over the first ``seconds`` of the source."""
    first, _ = source.span()
    doc: dict[str, object] = {"params": dict(MM_PARAMS), "end_ns": first + seconds * S}
    doc.update(fields)
    import msgspec

    return msgspec.convert(doc, BacktestConfig)


INST = Instrument(venue="sim", symbol="BTCUSDT", tick_size="0.01", lot_size="0.001")


def levels(*pairs: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Price and size arrays."""
    px = np.array([p for p, _ in pairs], dtype=np.int64)
    sz = np.array([s for _, s in pairs], dtype=np.int64)
    return px, sz


def snapshot(ts: int, bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> BookSnapshot:
    """A book snapshot at ``ts``."""
    bp, bs = levels(*bids)
    ap, as_ = levels(*asks)
    return BookSnapshot(
        instrument=0,
        update_id=1,
        bid_px=bp,
        bid_sz=bs,
        ask_px=ap,
        ask_sz=as_,
        exch_ts=ts,
        recv_ts=ts,
    )


def delta(ts: int, uid: int, bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> BookDelta:
    """A book delta at ``ts``."""
    bp, bs = levels(*bids) if bids else (np.zeros(0, np.int64), np.zeros(0, np.int64))
    ap, as_ = levels(*asks) if asks else (np.zeros(0, np.int64), np.zeros(0, np.int64))
    return BookDelta(
        instrument=0,
        first_id=uid,
        last_id=uid,
        prev_id=-1,
        bid_px=bp,
        bid_sz=bs,
        ask_px=ap,
        ask_sz=as_,
        exch_ts=ts,
        recv_ts=ts,
    )


def trade(ts: int, price: int, size: int, aggressor: Side) -> Trade:
    """A public trade at ``ts``."""
    return Trade(
        instrument=0,
        trade_id=ts,
        price=price,
        size=size,
        aggressor=aggressor,
        exch_ts=ts,
        recv_ts=ts,
    )


class ListSource:
    """A source over a list of events (one instrument)."""

    def __init__(self, events: list[MarketEvent], instrument: Instrument = INST) -> None:
        self._events = events
        self._instrument = instrument

    @property
    def instruments(self) -> list[Instrument]:
        """The one instrument."""
        return [self._instrument]

    @property
    def name(self) -> str:
        """For reports."""
        return "list"

    def span(self) -> tuple[int, int]:
        """First and last stamp."""
        return self._events[0].recv_ts, self._events[-1].recv_ts

    def missing(self, start_ns: int, end_ns: int) -> list[str]:
        """Nothing is missing inside the list's span."""
        first, last = self.span()
        return ["before"] if start_ns < first else (["after"] if end_ns > last + 1 else [])

    def events(self, end_ns: int, time: TimeBase) -> Iterator[tuple[int, MarketEvent]]:
        """The events up to ``end_ns``."""
        for e in self._events:
            ts = replay_ts(e, time)
            if ts < end_ns:
                yield ts, e
