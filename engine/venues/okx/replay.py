"""Replaying an OKX v5 public capture: frames in, applied ``books`` updates out.

:class:`OkxReplay` takes received frames in order and yields one
:class:`~engine.venues.replaying.AppliedUpdate` per ``books`` snapshot or update applied to a live
book, after the checksum (when non-zero) and the uncrossed check passed; ``seq`` is the message's
``seqId``, or the book's message count when the capture predates ``seqId``. Trades are counted.
A gap, a checksum mismatch or a crossed book throws that book away until the capture's next
snapshot; each is counted in :attr:`OkxReplay.stats`.
"""

from __future__ import annotations

from engine.book.order_book import OrderBook
from engine.core.events import Trade
from engine.core.instruments import Instrument
from engine.errors import FeedError, MalformedMessage
from engine.venues.book_sync import ResyncCause
from engine.venues.okx.protocol import VENUE, OkxParser
from engine.venues.okx.sync import OkxBookSync, OkxOutcome
from engine.venues.replaying import AppliedUpdate, ReplayStats

__all__ = ["VENUE", "OkxReplay"]

_APPLIED = (OkxOutcome.SNAPSHOT, OkxOutcome.APPLIED, OkxOutcome.WENT_LIVE)


class OkxReplay:
    """OKX parser and one book sync per instrument, fed frame by frame.

    Args:
        instruments: the capture's instruments, ``symbol`` being the OKX ``instId``.
    """

    def __init__(self, instruments: list[Instrument]) -> None:
        self.parser = OkxParser(instruments)
        self.syncs: dict[str, OkxBookSync] = {}
        for inst in instruments:
            price, size = self.parser.grids(inst.symbol)
            self.syncs[inst.symbol] = OkxBookSync(inst, OrderBook(inst.symbol), price, size)
        self.stats = ReplayStats()
        self.trades: list[Trade] = []
        """Every trade parsed, in order."""

    def feed(self, recv_ns: int, raw: bytes) -> list[AppliedUpdate]:
        """Take one received frame; the book updates it applied."""
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
            before = sync.checksums_verified
            try:
                outcome = sync.on_message(item)
            except FeedError:
                self.stats.resyncs[(sync.resync_cause or ResyncCause.GAP).value] += 1
                continue
            self.stats.checksums_verified += sync.checksums_verified - before
            if outcome in _APPLIED:
                self.stats.applied += 1
                out.append(
                    AppliedUpdate(
                        sync.instrument, sync.book.update_id, recv_ns, item.event.exch_ts, sync.book
                    )
                )
        return out
