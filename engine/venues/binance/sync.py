"""Keeping one Binance spot book in sync: the local-book procedure of venues.md §1.4, with no IO.

The feed hands every diff and every REST snapshot of one instrument to a :class:`SpotBookSync`,
which decides what happens to the :class:`~engine.book.order_book.OrderBook`:

1. While **syncing**, diffs are buffered (the buffer is kept continuous: a diff that does not
   follow the last one restarts it) and the feed fetches a snapshot.
2. A snapshot with ``lastUpdateId`` = L drops buffered diffs with ``u <= L``. The first diff left
   must satisfy ``U <= L + 1 <= u``; real captures show ``U == L + 1`` exactly, so the stricter
   ``U <= L <= u`` would wrongly reject them. A first diff that starts later means the snapshot
   is too old: :class:`~engine.errors.SnapshotError`, fetch again (this also covers step 3,
   ``L`` below the first buffered ``U``).
3. The book is set to the snapshot and the buffered diffs are applied. With no diff past L yet,
   the book waits (**bridging**) for the first one and applies the same rule to it.
4. **Live**: a diff with ``u <= local id`` is stale and skipped; one with ``U > local id + 1``
   is a gap (:class:`~engine.errors.SequenceGap`): the book is thrown away, the diff kept as
   the start of a new buffer, and a new snapshot wanted. Otherwise ``U == local id + 1`` (the
   continuity check) and the sizes are applied, 0 deleting a level.
5. After every applied diff the book must not be crossed; a crossed book means a delete was
   missed, so it is thrown away too (:class:`~engine.errors.CrossedBook`).
"""

from __future__ import annotations

import enum
from collections import deque
from typing import TYPE_CHECKING

from engine.errors import CrossedBook, SequenceGap, SnapshotError

if TYPE_CHECKING:
    from engine.book.order_book import OrderBook
    from engine.core.events import BookDelta, BookSnapshot
    from engine.core.instruments import Instrument
    from engine.venues.binance.protocol import BookTop


class SyncPhase(enum.Enum):
    """Where a book is in the procedure."""

    SYNCING = "syncing"
    """No usable snapshot: diffs are buffered and a snapshot is wanted."""
    BRIDGING = "bridging"
    """The book holds a snapshot; the first diff past it has not arrived yet."""
    LIVE = "live"
    """The book is the venue's book as of :attr:`SpotBookSync.update_id`."""


class DeltaOutcome(enum.Enum):
    """What became of one diff."""

    APPLIED = "applied"
    """Applied to a live book."""
    WENT_LIVE = "went_live"
    """Applied as the first diff after the snapshot: the book just went live."""
    BUFFERED = "buffered"
    """Kept until a snapshot arrives."""
    STALE = "stale"
    """Already covered by the book (or the buffer): skipped."""


class SnapshotOutcome(enum.Enum):
    """What became of one snapshot."""

    LIVE = "live"
    """Applied, buffered diffs replayed: the book is live."""
    BRIDGING = "bridging"
    """Applied; the book goes live with the first diff past it."""
    IGNORED = "ignored"
    """The book was not waiting for a snapshot."""


class SpotBookSync:
    """Runs the §1.4 procedure for one instrument's book.

    The venue's two rules, when a diff is already covered and when it follows, are the methods
    :meth:`_stale` and :meth:`_follows`; the futures procedure
    (:class:`~engine.venues.binance_usdm.sync.FuturesBookSync`) overrides just those.

    Args:
        instrument: the instrument, for errors.
        book: the book kept in sync; it is cleared whenever it cannot be trusted.
        venue: venue name, for errors.
        max_buffered: most diffs kept while waiting for a snapshot; the oldest go first, which
            can only make a snapshot look too old (and be fetched again), never corrupt the book.
    """

    def __init__(
        self,
        instrument: Instrument,
        book: OrderBook,
        *,
        venue: str = "binance",
        max_buffered: int = 10_000,
    ) -> None:
        self.instrument = instrument
        self.book = book
        self.venue = venue
        self.phase = SyncPhase.SYNCING
        self.update_id = 0
        """The venue update id the book is at (``lastUpdateId``, then each applied ``u``)."""
        self._buffer: deque[BookDelta] = deque(maxlen=max_buffered)

    @property
    def snapshot_wanted(self) -> bool:
        """True while the book needs a (new) REST snapshot."""
        return self.phase is SyncPhase.SYNCING

    @property
    def buffered(self) -> int:
        """Diffs waiting for a snapshot."""
        return len(self._buffer)

    @property
    def first_buffered_id(self) -> int | None:
        """``U`` of the oldest buffered diff, if any."""
        return self._buffer[0].first_id if self._buffer else None

    def reset(self) -> None:
        """Throw the book away and start again from step 1 (after a reconnect, or a bad frame)."""
        self.book.clear()
        self._buffer.clear()
        self.phase = SyncPhase.SYNCING
        self.update_id = 0

    def on_delta(self, delta: BookDelta) -> DeltaOutcome:
        """Take one diff.

        Raises:
            SequenceGap: the diff does not follow the live book; the book was thrown away.
            SnapshotError: the first diff after the snapshot starts past it; fetch another.
            CrossedBook: the book crossed after the diff; it was thrown away.
        """
        if self.phase is SyncPhase.SYNCING:
            return self._buffer_delta(delta)
        bridging = self.phase is SyncPhase.BRIDGING
        if self._stale(delta, self.update_id, bridging=bridging):
            return DeltaOutcome.STALE
        if not self._follows(delta, self.update_id, bridging=bridging):
            expected, received = self._gap_ids(delta, self.update_id)
            snapshot_id = self.update_id
            self.reset()
            self._buffer.append(delta)
            if bridging:
                raise SnapshotError(
                    self.venue,
                    self.instrument.symbol,
                    f"snapshot at {snapshot_id} is older than the stream, "
                    f"whose first diff starts at {delta.first_id}",
                )
            raise SequenceGap(self.venue, self.instrument.symbol, expected, received)
        went_live = self.phase is SyncPhase.BRIDGING
        self._apply(delta)
        self.phase = SyncPhase.LIVE
        return DeltaOutcome.WENT_LIVE if went_live else DeltaOutcome.APPLIED

    def on_snapshot(self, snapshot: BookSnapshot) -> SnapshotOutcome:
        """Take a REST snapshot.

        Raises:
            SnapshotError: the snapshot is older than the buffered diffs; fetch another.
            CrossedBook: the snapshot, or a replayed diff, left the book crossed.
        """
        if self.phase is not SyncPhase.SYNCING:
            return SnapshotOutcome.IGNORED
        last = snapshot.update_id
        buffer = self._buffer
        aligned = False  # a buffered diff ended exactly at the snapshot
        while buffer and self._stale(buffer[0], last, bridging=True):
            aligned = buffer.popleft().last_id == last
        if buffer and not self._follows(buffer[0], last, bridging=True):
            raise SnapshotError(
                self.venue,
                self.instrument.symbol,
                f"snapshot at {last} is too old: buffered diffs start at {buffer[0].first_id}",
            )
        self.book.apply_snapshot(
            snapshot.bid_px, snapshot.bid_sz, snapshot.ask_px, snapshot.ask_sz, last
        )
        self.update_id = last
        self._check_uncrossed()
        if not buffer and not aligned:
            self.phase = SyncPhase.BRIDGING
            return SnapshotOutcome.BRIDGING
        while buffer:
            self._apply(buffer.popleft())
        self.phase = SyncPhase.LIVE
        return SnapshotOutcome.LIVE

    def _buffer_delta(self, delta: BookDelta) -> DeltaOutcome:
        buffer = self._buffer
        if buffer:
            last = buffer[-1].last_id
            if delta.last_id <= last:
                return DeltaOutcome.STALE
            if not self._follows(delta, last, bridging=False):
                buffer.clear()  # the stream skipped: nothing before the skip can be used
        buffer.append(delta)
        return DeltaOutcome.BUFFERED

    def top_agrees(self, top: BookTop) -> bool | None:
        """Whether the venue's best bid and ask at the book's own update id equal the book's.

        None when there is nothing to compare (the book is not live, or the ticker is at
        another id); False means the book missed an update and must be rebuilt.
        """
        if self.phase is not SyncPhase.LIVE or top.update_id != self.update_id:
            return None
        book = self.book
        return book.best_bid() == (top.bid_px, top.bid_sz) and book.best_ask() == (
            top.ask_px,
            top.ask_sz,
        )

    # ---- the venue's rules (spot here; futures override them) ---------------------------------

    def _stale(self, delta: BookDelta, local_id: int, *, bridging: bool) -> bool:
        """True when the book (or the buffer) at ``local_id`` already covers ``delta``.

        Spot: ``u <= local id``, also right after the snapshot (step 4 drops ``u <= L``).
        """
        return delta.last_id <= local_id

    def _follows(self, delta: BookDelta, local_id: int, *, bridging: bool) -> bool:
        """True when ``delta`` (not stale) continues a book or buffer at ``local_id``.

        Spot: ``U <= local id + 1``, for the first diff after a snapshot as for every later one
        (with ``u > local id`` this is ``U <= L + 1 <= u``).
        """
        return delta.first_id <= local_id + 1

    def _gap_ids(self, delta: BookDelta, local_id: int) -> tuple[int, int]:
        """(expected, received) ids for the gap error: spot compares ``U`` with ``local id + 1``."""
        return local_id + 1, delta.first_id

    def _apply(self, delta: BookDelta) -> None:
        self.book.apply_delta(delta.bid_px, delta.bid_sz, delta.ask_px, delta.ask_sz, delta.last_id)
        self.update_id = delta.last_id
        self._check_uncrossed()

    def _check_uncrossed(self) -> None:
        if not self.book.is_crossed():
            return
        bid, ask = self.book.best_bid(), self.book.best_ask()
        self.reset()
        raise CrossedBook(self.instrument.symbol, bid[0] if bid else 0, ask[0] if ask else 0)
