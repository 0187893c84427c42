"""Replaying a Hyperliquid capture: frames in, the book after each ``l2Book`` snapshot out.

:class:`HyperliquidReplay` takes received frames in order and yields one
:class:`~engine.venues.replaying.AppliedUpdate` per ``l2Book`` snapshot that replaced a coin's
book (``seq`` is the venue's ``time`` in ms, the only ordering it sends). Trades are counted and
kept; a crossed snapshot is counted and its book stays empty until the next one.
"""

from __future__ import annotations

from engine.book.order_book import OrderBook
from engine.core.events import Trade
from engine.core.instruments import Instrument
from engine.errors import CrossedBook
from engine.venues.book_sync import ResyncCause
from engine.venues.hyperliquid.protocol import VENUE, HyperliquidBook, HyperliquidParser
from engine.venues.hyperliquid.sync import HyperliquidBookSync, HyperliquidOutcome
from engine.venues.replaying import AppliedUpdate, BookReplay

__all__ = ["VENUE", "HyperliquidReplay"]


class HyperliquidReplay(BookReplay[HyperliquidBook]):
    """Hyperliquid parser and one book per coin, fed frame by frame.

    Args:
        instruments: the capture's coins, ``symbol`` being the coin name.
    """

    def __init__(self, instruments: list[Instrument]) -> None:
        super().__init__()
        self.parser = HyperliquidParser(instruments)
        self.syncs = {
            inst.symbol: HyperliquidBookSync(inst, OrderBook(inst.symbol)) for inst in instruments
        }

    def _parse(self, raw: bytes, recv_ns: int) -> list[HyperliquidBook | Trade]:
        return self.parser.parse(raw, recv_ns)

    def _apply(self, msg: HyperliquidBook, recv_ns: int) -> AppliedUpdate | None:
        sync = self.syncs[msg.symbol]
        try:
            outcome = sync.on_book(msg)
        except CrossedBook:
            self.stats.resyncs[ResyncCause.CROSSED.value] += 1
            return None
        if outcome is not HyperliquidOutcome.REPLACED:
            return None
        snap = msg.event
        return AppliedUpdate(sync.instrument, snap.update_id, recv_ns, snap.exch_ts, sync.book)
