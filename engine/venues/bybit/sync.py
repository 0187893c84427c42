"""Keeping one Bybit v5 book in sync: snapshots from the socket, ``u`` continuity, no IO.

The procedure of venues.md §3.3, for one ``orderbook.{depth}.{symbol}`` topic:

1. While **syncing** the book waits for a snapshot; deltas before it are dropped (they cannot
   be placed: Bybit has no REST procedure, the snapshot comes from the socket).
2. Every **snapshot replaces** the book, also one arriving mid-stream (after a server-side
   problem, or depth 1's repeats with the same ``u``); the book is then live at its ``u``.
3. **Live**: a delta with ``u <= local u`` is a repeat and skipped; ``u == local u + 1`` is
   applied, 0 deleting a level; any other ``u`` is a gap (:class:`~engine.errors.SequenceGap`):
   the book is thrown away and the feed resubscribes the topic for a fresh snapshot.
4. A message with ``u == 1`` means the venue restarted the topic: it is a snapshot whatever its
   type says, and replaces the book.
5. After every change the book must not be crossed (:class:`~engine.errors.CrossedBook`, thrown
   away too).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.errors import CrossedBook, SequenceGap
from engine.venues.binance.sync import DeltaOutcome, SyncPhase

if TYPE_CHECKING:
    from engine.book.order_book import OrderBook
    from engine.core.events import BookDelta, BookSnapshot
    from engine.core.instruments import Instrument

RESTART_ID = 1
"""``u == 1``: the venue restarted the topic and this message is a snapshot."""


class BybitBookSync:
    """Runs the §3.3 procedure for one instrument's book.

    Args:
        instrument: the instrument, for errors.
        book: the book kept in sync; cleared whenever it cannot be trusted.
        venue: venue name, for errors.
    """

    def __init__(self, instrument: Instrument, book: OrderBook, *, venue: str) -> None:
        self.instrument = instrument
        self.book = book
        self.venue = venue
        self.phase = SyncPhase.SYNCING
        self.update_id = 0
        """The ``u`` the book is at."""
        self.snapshots = 0
        """Snapshots taken, mid-stream ones included."""

    @property
    def snapshot_wanted(self) -> bool:
        """True while the book waits for a snapshot (the feed resubscribes to get one)."""
        return self.phase is SyncPhase.SYNCING

    def reset(self) -> None:
        """Throw the book away and wait for a snapshot again."""
        self.book.clear()
        self.phase = SyncPhase.SYNCING
        self.update_id = 0

    def on_snapshot(self, snapshot: BookSnapshot) -> bool:
        """Replace the book; True when it went live with this (it was syncing).

        Raises:
            CrossedBook: the snapshot is crossed; the book was thrown away.
        """
        went_live = self.phase is not SyncPhase.LIVE
        self.book.apply_snapshot(
            snapshot.bid_px, snapshot.bid_sz, snapshot.ask_px, snapshot.ask_sz, snapshot.update_id
        )
        self.update_id = snapshot.update_id
        self.snapshots += 1
        self.phase = SyncPhase.LIVE
        self._check_uncrossed()
        return went_live

    def on_delta(self, delta: BookDelta) -> DeltaOutcome:
        """Take one delta.

        Returns:
            APPLIED, WENT_LIVE (a ``u == 1`` restart while syncing), or STALE (a repeat, or a
            delta while waiting for a snapshot).

        Raises:
            SequenceGap: ``u`` does not follow; the book was thrown away.
            CrossedBook: the book crossed; it was thrown away.
        """
        u = delta.last_id
        if u == RESTART_ID:
            went_live = self.phase is not SyncPhase.LIVE
            self.book.apply_snapshot(
                delta.bid_px, delta.bid_sz, delta.ask_px, delta.ask_sz, delta.last_id
            )
            self.update_id = u
            self.snapshots += 1
            self.phase = SyncPhase.LIVE
            self._check_uncrossed()
            return DeltaOutcome.WENT_LIVE if went_live else DeltaOutcome.APPLIED
        if self.phase is not SyncPhase.LIVE or u <= self.update_id:
            return DeltaOutcome.STALE
        if u != self.update_id + 1:
            expected = self.update_id + 1
            self.reset()
            raise SequenceGap(self.venue, self.instrument.symbol, expected, u)
        self.book.apply_delta(delta.bid_px, delta.bid_sz, delta.ask_px, delta.ask_sz, u)
        self.update_id = u
        self._check_uncrossed()
        return DeltaOutcome.APPLIED

    def _check_uncrossed(self) -> None:
        if not self.book.is_crossed():
            return
        bid, ask = self.book.best_bid(), self.book.best_ask()
        self.reset()
        raise CrossedBook(self.instrument.symbol, bid[0] if bid else 0, ask[0] if ask else 0)
