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
from engine.errors import FeedError
from engine.venues.book_sync import ResyncCause
from engine.venues.okx.protocol import VENUE, OkxBook, OkxParser
from engine.venues.okx.sync import OkxBookSync, OkxOutcome
from engine.venues.replaying import AppliedUpdate, BookReplay

__all__ = ["VENUE", "OkxReplay"]

_APPLIED = (OkxOutcome.SNAPSHOT, OkxOutcome.APPLIED, OkxOutcome.WENT_LIVE)


class OkxReplay(BookReplay[OkxBook]):
    """OKX parser and one book sync per instrument, fed frame by frame.

    Args:
        instruments: the capture's instruments, ``symbol`` being the OKX ``instId``.
    """

    def __init__(self, instruments: list[Instrument]) -> None:
        super().__init__()
        self.parser = OkxParser(instruments)
        self.syncs: dict[str, OkxBookSync] = {}
        for inst in instruments:
            price, size = self.parser.grids(inst.symbol)
            self.syncs[inst.symbol] = OkxBookSync(inst, OrderBook(inst.symbol), price, size)

    def _parse(self, raw: bytes, recv_ns: int) -> list[OkxBook | Trade]:
        return self.parser.parse(raw, recv_ns)

    def _apply(self, msg: OkxBook, recv_ns: int) -> AppliedUpdate | None:
        sync = self.syncs[msg.symbol]
        before = sync.checksums_verified
        try:
            outcome = sync.on_message(msg)
        except FeedError:
            self.stats.resyncs[(sync.resync_cause or ResyncCause.GAP).value] += 1
            return None
        self.stats.checksums_verified += sync.checksums_verified - before
        if outcome not in _APPLIED:
            return None
        return AppliedUpdate(
            sync.instrument, sync.book.update_id, recv_ns, msg.event.exch_ts, sync.book
        )
