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
from engine.errors import FeedError, MalformedMessage
from engine.venues.book_sync import ResyncCause
from engine.venues.kraken.protocol import VENUE, KrakenParser
from engine.venues.kraken.sync import KrakenBookSync, KrakenOutcome
from engine.venues.replaying import AppliedUpdate, ReplayStats

__all__ = ["VENUE", "KrakenReplay"]


class KrakenReplay:
    """Kraken parser and one book sync per pair, fed frame by frame.

    Args:
        instruments: the capture's pairs, ``symbol`` as the protocol writes the pair.
        depth: the subscribed depth, for v2 captures (v1 frames name their own).
    """

    def __init__(self, instruments: list[Instrument], *, depth: int = 10) -> None:
        self.parser = KrakenParser(instruments)
        self.syncs: dict[str, KrakenBookSync] = {}
        for inst in instruments:
            price, size = self.parser.grids(inst.symbol)
            book = OrderBook(inst.symbol)
            self.syncs[inst.symbol] = KrakenBookSync(inst, book, price, size, depth=depth)
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
            try:
                outcome = sync.on_message(item)
            except FeedError:
                self.stats.resyncs[(sync.resync_cause or ResyncCause.CHECKSUM).value] += 1
                continue
            if outcome is KrakenOutcome.SKIPPED:
                continue
            self.stats.applied += 1
            if item.checksum is not None:
                self.stats.checksums_verified += 1
            out.append(
                AppliedUpdate(
                    sync.instrument, sync.messages, recv_ns, item.event.exch_ts, sync.book
                )
            )
        return out
