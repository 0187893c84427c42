"""Replaying a Kraken WebSocket capture (v1 or v2): frames in, applied ``book`` updates out.

:class:`KrakenReplay` takes received frames in order and yields one
:class:`~engine.venues.replaying.AppliedUpdate` per ``book`` snapshot or update applied to a live
book, after truncation to the subscribed depth, the checksum and the uncrossed check; ``seq`` is
the book's message count since its snapshot (Kraken has no sequence numbers). Trades are counted
and kept. A checksum mismatch or a crossed book throws that book away until the capture's next
snapshot; each is counted in :attr:`KrakenReplay.stats`.
"""

from __future__ import annotations

from engine.book.order_book import OrderBook
from engine.core.events import Trade
from engine.core.instruments import Instrument
from engine.errors import FeedError
from engine.venues.book_sync import ResyncCause
from engine.venues.kraken.protocol import VENUE, KrakenBook, KrakenParser
from engine.venues.kraken.sync import KrakenBookSync, KrakenOutcome
from engine.venues.replaying import AppliedUpdate, BookReplay

__all__ = ["VENUE", "KrakenReplay"]


class KrakenReplay(BookReplay[KrakenBook]):
    """Kraken parser and one book sync per pair, fed frame by frame.

    Args:
        instruments: the capture's pairs, ``symbol`` as the protocol writes the pair.
        depth: the subscribed depth, for v2 captures (v1 frames name their own).
    """

    def __init__(self, instruments: list[Instrument], *, depth: int = 10) -> None:
        super().__init__()
        self.parser = KrakenParser(instruments)
        self.syncs: dict[str, KrakenBookSync] = {}
        for inst in instruments:
            price, size = self.parser.grids(inst.symbol)
            book = OrderBook(inst.symbol)
            self.syncs[inst.symbol] = KrakenBookSync(inst, book, price, size, depth=depth)

    def _parse(self, raw: bytes, recv_ns: int) -> list[KrakenBook | Trade]:
        return self.parser.parse(raw, recv_ns)

    def _apply(self, msg: KrakenBook, recv_ns: int) -> AppliedUpdate | None:
        sync = self.syncs[msg.symbol]
        try:
            outcome = sync.on_message(msg)
        except FeedError:
            self.stats.resyncs[(sync.resync_cause or ResyncCause.CHECKSUM).value] += 1
            return None
        if outcome is KrakenOutcome.SKIPPED:
            return None
        if msg.checksum is not None:
            self.stats.checksums_verified += 1
        return AppliedUpdate(sync.instrument, sync.messages, recv_ns, msg.event.exch_ts, sync.book)
