"""Keeping one Kraken ``book`` in sync (venues.md §4.2 to §4.4, v2 and v1), with no IO.

Kraken sends no sequence numbers; integrity is the checksum. For each
:class:`~engine.venues.kraken.protocol.KrakenBook` of one pair, :class:`KrakenBookSync`:

1. A **snapshot** replaces the book; the book is live.
2. An **update** applies every level in order (0 deletes) to a live book; while *syncing*
   (before the first snapshot, or after a failure) updates are skipped, since only a new
   snapshot (resubscribe) can rebuild the book.
3. Then each side is **truncated to the subscribed depth**: Kraken sends no deletes for levels
   that fall off the bottom (v1 names the depth in its channel, ``book-1000``).
4. Then the **checksum** is verified when the message carries one (every v2 message, every v1
   update): CRC32, unsigned, of ``price + qty`` for the top 10 asks ascending then the top 10
   bids descending, each written at the pair's precision with the ``.`` removed and leading
   zeros stripped. A mismatch is :class:`~engine.errors.ChecksumMismatch`.
5. The book must not be crossed (:class:`~engine.errors.CrossedBook`).

Whatever raises throws the book away first and records :attr:`KrakenBookSync.resync_cause`.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from engine.core.events import BookDelta, BookSnapshot
from engine.errors import ChecksumMismatch, CrossedBook
from engine.venues.book_sync import BookPhase, ResyncCause, check_uncrossed, truncate
from engine.venues.book_sync import unsigned_crc32 as crc32
from engine.venues.level_text import LevelTexts, StyledGrid

if TYPE_CHECKING:
    from engine.book.order_book import OrderBook
    from engine.core.instruments import Instrument
    from engine.venues.kraken.protocol import KrakenBook

CHECKSUM_DEPTH = 10
"""Levels per side the Kraken checksum covers, whatever the subscribed depth."""


class KrakenOutcome(enum.Enum):
    """What became of one message."""

    SNAPSHOT = "snapshot"
    """A snapshot replaced the book; it is live."""
    APPLIED = "applied"
    """An update was applied and verified."""
    SKIPPED = "skipped"
    """An update for a book waiting for its snapshot."""


def _digits(text: str) -> str:
    """A number's checksum form: no ``.``, no leading zeros (``0.00100000`` -> ``100000``)."""
    return text.replace(".", "").lstrip("0")


class KrakenBookSync:
    """Runs the Kraken ``book`` rules for one pair's book.

    Args:
        instrument: the pair, for errors.
        book: the book kept in sync; it is cleared whenever it cannot be trusted.
        price: the tick grid in Kraken's fixed-decimals style (from the parser).
        size: the lot grid in Kraken's fixed-decimals style.
        depth: the subscribed depth (10, 25, 100, 500 or 1000); a v1 message's own depth wins.
        venue: venue name, for errors.
    """

    def __init__(
        self,
        instrument: Instrument,
        book: OrderBook,
        price: StyledGrid,
        size: StyledGrid,
        *,
        depth: int = 10,
        venue: str = "kraken",
    ) -> None:
        self.instrument = instrument
        self.book = book
        self.venue = venue
        self.depth = depth
        self.texts = LevelTexts(price, size)
        self.phase = BookPhase.SYNCING
        self.resync_cause: ResyncCause | None = None
        """Why the book was last thrown away; None until it first is."""
        self.checksums_verified = 0
        self.messages = 0
        """Messages applied since the book was last rebuilt: the book's ``update_id``."""

    @property
    def snapshot_wanted(self) -> bool:
        """True while the book waits for a snapshot (resubscribe to get one)."""
        return self.phase is BookPhase.SYNCING

    def reset(self, cause: ResyncCause = ResyncCause.RECONNECT) -> None:
        """Throw the book away; it waits for a new snapshot."""
        self.book.clear()
        self.texts.clear()
        self.phase = BookPhase.SYNCING
        self.resync_cause = cause

    def on_message(self, msg: KrakenBook) -> KrakenOutcome:
        """Take one ``book`` message.

        Raises:
            ChecksumMismatch: the venue's checksum disagrees with the book's.
            CrossedBook: the book crossed after the message.
        """
        event = msg.event
        if isinstance(event, BookSnapshot):
            self.messages = 1
            self.book.apply_snapshot(event.bid_px, event.bid_sz, event.ask_px, event.ask_sz, 1)
            self.texts.clear()
            if msg.odd:
                self.texts.note(msg.odd)
            self.phase = BookPhase.LIVE
            outcome = KrakenOutcome.SNAPSHOT
        elif self.phase is BookPhase.SYNCING:
            return KrakenOutcome.SKIPPED
        else:
            assert isinstance(event, BookDelta)
            self.messages += 1
            self.book.apply_delta(
                event.bid_px, event.bid_sz, event.ask_px, event.ask_sz, self.messages
            )
            if msg.odd or not self.texts.empty:
                self.texts.update(event.bid_px.tolist(), event.ask_px.tolist(), msg.odd)
            outcome = KrakenOutcome.APPLIED
        self._truncate(msg.depth or self.depth)
        if msg.checksum is not None:
            computed = self.checksum()
            if computed != msg.checksum:
                self.reset(ResyncCause.CHECKSUM)
                raise ChecksumMismatch(self.venue, self.instrument.symbol, msg.checksum, computed)
            self.checksums_verified += 1
        try:
            check_uncrossed(self.book)
        except CrossedBook:
            self.reset(ResyncCause.CROSSED)
            raise
        return outcome

    def check_text(self) -> str:
        """The checksum string of the book now: top 10 asks ascending, then top 10 bids."""
        bids, asks = self.book.top(CHECKSUM_DEPTH)
        texts = self.texts
        parts: list[str] = []
        for side, levels in ((1, asks), (0, bids)):
            for ticks, lots in levels:
                parts.append(_digits(texts.price_text(side, ticks)))
                parts.append(_digits(texts.size_text(side, ticks, lots)))
        return "".join(parts)

    def checksum(self) -> int:
        """The unsigned CRC32 of :meth:`check_text`, as Kraken computes it."""
        return crc32(self.check_text())

    def _truncate(self, depth: int) -> None:
        gone_bids, gone_asks = truncate(self.book, depth)
        if not self.texts.empty:
            for ticks in gone_bids:
                self.texts.forget(0, ticks)
            for ticks in gone_asks:
                self.texts.forget(1, ticks)
