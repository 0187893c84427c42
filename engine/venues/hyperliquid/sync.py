"""Keeping one Hyperliquid ``l2Book`` book, with no IO: every message replaces the whole book.

Hyperliquid sends full snapshots (up to 20 levels a side) with no sequence numbers or checksums
(venues.md §7.1), so there is nothing to resync from: each
:class:`~engine.venues.hyperliquid.protocol.HyperliquidBook` replaces the book. Two checks remain:
the venue's ``time`` must not go backwards (an older snapshot than the book is skipped, which
can only happen with reordered frames) and the book must not be crossed
(:class:`~engine.errors.CrossedBook`: the book is thrown away until the next snapshot).
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from engine.errors import CrossedBook
from engine.venues.book_sync import BookPhase, ResyncCause, check_uncrossed

if TYPE_CHECKING:
    from engine.book.order_book import OrderBook
    from engine.core.instruments import Instrument
    from engine.venues.hyperliquid.protocol import HyperliquidBook


class HyperliquidOutcome(enum.Enum):
    """What became of one ``l2Book`` message."""

    REPLACED = "replaced"
    """The snapshot replaced the book."""
    STALE = "stale"
    """Older than the book: skipped."""


class HyperliquidBookSync:
    """One coin's book, replaced by each snapshot.

    Args:
        instrument: the coin, for errors.
        book: the book kept; cleared when a snapshot is crossed.
    """

    def __init__(self, instrument: Instrument, book: OrderBook) -> None:
        self.instrument = instrument
        self.book = book
        self.phase = BookPhase.SYNCING
        self.resync_cause: ResyncCause | None = None
        """Why the book was last thrown away; None until it first is."""
        self.time_ms = -1
        """The venue ``time`` of the book's snapshot."""

    def reset(self, cause: ResyncCause = ResyncCause.RECONNECT) -> None:
        """Throw the book away until the next snapshot."""
        self.book.clear()
        self.phase = BookPhase.SYNCING
        self.resync_cause = cause
        self.time_ms = -1

    def on_book(self, msg: HyperliquidBook) -> HyperliquidOutcome:
        """Take one ``l2Book`` message.

        Raises:
            CrossedBook: the snapshot is crossed; the book was thrown away.
        """
        snap = msg.event
        if snap.update_id < self.time_ms:
            return HyperliquidOutcome.STALE
        self.book.apply_snapshot(snap.bid_px, snap.bid_sz, snap.ask_px, snap.ask_sz, snap.update_id)
        self.time_ms = snap.update_id
        try:
            check_uncrossed(self.book)
        except CrossedBook:
            self.reset(ResyncCause.CROSSED)
            raise
        self.phase = BookPhase.LIVE
        return HyperliquidOutcome.REPLACED
