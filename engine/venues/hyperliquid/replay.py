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
from engine.errors import CrossedBook, MalformedMessage
from engine.venues.book_sync import ResyncCause
from engine.venues.hyperliquid.protocol import VENUE, HyperliquidParser
from engine.venues.hyperliquid.sync import HyperliquidBookSync, HyperliquidOutcome
from engine.venues.replaying import AppliedUpdate, ReplayStats

__all__ = ["VENUE", "HyperliquidReplay"]


class HyperliquidReplay:
    """Hyperliquid parser and one book per coin, fed frame by frame.

    Args:
        instruments: the capture's coins, ``symbol`` being the coin name.
    """

    def __init__(self, instruments: list[Instrument]) -> None:
        self.parser = HyperliquidParser(instruments)
        self.syncs = {
            inst.symbol: HyperliquidBookSync(inst, OrderBook(inst.symbol)) for inst in instruments
        }
        self.stats = ReplayStats()
        self.trades: list[Trade] = []
        """Every trade parsed, in order."""

    def feed(self, recv_ns: int, raw: bytes) -> list[AppliedUpdate]:
        """Take one received frame; the book replacements it made."""
        self.stats.frames += 1
        try:
            items = self.parser.parse(raw, recv_ns)
        except MalformedMessage:
            self.stats.malformed += 1
            return []
        if not items:
            self.stats.ignored += 1
        out: list[AppliedUpdate] = []
        for item in items:
            if isinstance(item, Trade):
                self.stats.trades += 1
                self.trades.append(item)
                continue
            sync = self.syncs[item.symbol]
            try:
                outcome = sync.on_book(item)
            except CrossedBook:
                self.stats.resyncs[ResyncCause.CROSSED.value] += 1
                continue
            if outcome is HyperliquidOutcome.REPLACED:
                self.stats.applied += 1
                snap = item.event
                out.append(
                    AppliedUpdate(sync.instrument, snap.update_id, recv_ns, snap.exch_ts, sync.book)
                )
        return out
