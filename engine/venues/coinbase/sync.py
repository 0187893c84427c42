"""Keeping Coinbase Advanced Trade ``level2`` books in sync (venues.md §5.1), with no IO.

Coinbase numbers every message of a connection, across all its channels, with ``sequence_num``
(0, 1, 2, ... *observed*). :class:`CoinbaseConnectionSync` owns the books of one connection and
takes every parsed :class:`~engine.venues.coinbase.protocol.CoinbaseFrame` in order:

1. ``sequence_num`` must be the previous one + 1 (the first frame of a connection may start
   anywhere). Any jump, repeat or step back means frames were lost or reordered: every book of
   the connection is thrown away and :class:`~engine.errors.SequenceGap` raised; the feed
   reconnects and gets fresh snapshots.
2. Each ``l2_data`` event goes to its product's :class:`CoinbaseBookSync`: a snapshot replaces
   the book and makes it live; an update applies absolute sizes (0 deletes) to a live book and
   is skipped while the book waits for its snapshot.
3. After every applied event the book must not be crossed (:class:`~engine.errors.CrossedBook`):
   that book alone is thrown away.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from engine.core.events import BookSnapshot
from engine.errors import CrossedBook, SequenceGap
from engine.venues.book_sync import BookPhase, ResyncCause, check_uncrossed
from engine.venues.coinbase.protocol import CoinbaseBook

if TYPE_CHECKING:
    from engine.book.order_book import OrderBook
    from engine.core.instruments import Instrument
    from engine.venues.coinbase.protocol import CoinbaseFrame


class CoinbaseOutcome(enum.Enum):
    """What became of one ``l2_data`` event."""

    SNAPSHOT = "snapshot"
    """The snapshot replaced the book; it is live."""
    APPLIED = "applied"
    """The update was applied to the live book."""
    SKIPPED = "skipped"
    """An update for a book waiting for its snapshot."""


class CoinbaseBookSync:
    """The ``level2`` rules for one product's book.

    Args:
        instrument: the product, for errors.
        book: the book kept in sync; it is cleared whenever it cannot be trusted.
        venue: venue name, for errors.
    """

    def __init__(self, instrument: Instrument, book: OrderBook, *, venue: str = "coinbase") -> None:
        self.instrument = instrument
        self.book = book
        self.venue = venue
        self.phase = BookPhase.SYNCING
        self.resync_cause: ResyncCause | None = None
        """Why the book was last thrown away; None until it first is."""

    def reset(self, cause: ResyncCause = ResyncCause.RECONNECT) -> None:
        """Throw the book away; it waits for a new snapshot."""
        self.book.clear()
        self.phase = BookPhase.SYNCING
        self.resync_cause = cause

    def on_book(self, msg: CoinbaseBook) -> CoinbaseOutcome:
        """Take one ``l2_data`` event.

        Raises:
            CrossedBook: the book crossed after the event; it was thrown away.
        """
        event = msg.event
        if isinstance(event, BookSnapshot):
            self.book.apply_snapshot(
                event.bid_px, event.bid_sz, event.ask_px, event.ask_sz, event.update_id
            )
            self.phase = BookPhase.LIVE
            outcome = CoinbaseOutcome.SNAPSHOT
        elif self.phase is BookPhase.SYNCING:
            return CoinbaseOutcome.SKIPPED
        else:
            self.book.apply_delta(
                event.bid_px, event.bid_sz, event.ask_px, event.ask_sz, event.last_id
            )
            outcome = CoinbaseOutcome.APPLIED
        try:
            check_uncrossed(self.book)
        except CrossedBook:
            self.reset(ResyncCause.CROSSED)
            raise
        return outcome


class CoinbaseConnectionSync:
    """``sequence_num`` continuity for one connection, and the books it carries.

    Args:
        books: the book sync of every product subscribed on the connection, by ``product_id``.
        venue: venue name, for errors.
    """

    def __init__(self, books: dict[str, CoinbaseBookSync], *, venue: str = "coinbase") -> None:
        self.books = books
        self.venue = venue
        self.sequence_num = -1
        """The last ``sequence_num`` taken; -1 on a new connection."""
        self.gaps = 0

    def reset(self) -> None:
        """A new connection: its numbering starts again and every book waits for a snapshot."""
        self.sequence_num = -1
        for sync in self.books.values():
            sync.reset(ResyncCause.RECONNECT)

    def on_frame(self, frame: CoinbaseFrame) -> list[tuple[CoinbaseBookSync, CoinbaseOutcome]]:
        """Take one frame: check its number, then apply its ``l2_data`` events in order.

        Returns:
            For each book event, its product's sync and what became of the event.

        Raises:
            SequenceGap: the number does not follow; every book was thrown away.
            CrossedBook: a book crossed after an event; it was thrown away (the frame's later
                events are not applied).
        """
        last = self.sequence_num
        if last >= 0 and frame.sequence_num != last + 1:
            self.gaps += 1
            self.sequence_num = frame.sequence_num
            for sync in self.books.values():
                sync.reset(ResyncCause.GAP)
            raise SequenceGap(self.venue, "connection", last + 1, frame.sequence_num)
        self.sequence_num = frame.sequence_num
        done: list[tuple[CoinbaseBookSync, CoinbaseOutcome]] = []
        for item in frame.items:
            if isinstance(item, CoinbaseBook):
                sync = self.books[item.symbol]
                done.append((sync, sync.on_book(item)))
        return done
