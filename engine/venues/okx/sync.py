"""Keeping one OKX v5 ``books`` book in sync (venues.md §6.3 to §6.5), with no IO.

The feed hands every parsed :class:`~engine.venues.okx.protocol.OkxBook` of one instrument to an
:class:`OkxBookSync`, which decides what happens to the :class:`~engine.book.order_book.OrderBook`:

- A WebSocket **snapshot** replaces the book, whatever the phase, and the book is live.
- The **2026 procedure** (the WS snapshot and checksum being withdrawn): while *syncing*,
  updates are buffered and a REST snapshot is wanted. :meth:`OkxBookSync.on_rest_snapshot`
  drops buffered updates with ``seqId <= snapshot seqId``; the first one left must satisfy
  ``prevSeqId <= snapshot seqId < seqId``, else the snapshot is too old
  (:class:`~engine.errors.SnapshotError`: fetch again). With none left, the book is *bridging*
  until the first update past it, checked by the same rule.
- **Live**: an update must have ``prevSeqId == `` the last ``seqId`` (a no-change heartbeat
  has ``prevSeqId == seqId``); one with ``seqId < prevSeqId`` is the venue's reset and is
  accepted; anything else is a gap (:class:`~engine.errors.SequenceGap`). Messages without
  ``seqId`` (before 2023) are applied in order, and ``update_id`` counts them.
- After every applied message: when the venue sent a **non-zero checksum** it is compared with
  the signed CRC32 of the top 25 levels a side, interleaved ``bidPx:bidSz:askPx:askSz`` in the
  venue's own text (:class:`~engine.venues.level_text.LevelTexts`), else
  :class:`~engine.errors.ChecksumMismatch`; then the book must not be crossed
  (:class:`~engine.errors.CrossedBook`; ``allow_crossed`` for pre-open auctions).

Whatever raises throws the book away first and records :attr:`OkxBookSync.resync_cause`.
"""

from __future__ import annotations

import enum
from collections import deque
from typing import TYPE_CHECKING

from engine.core.events import BookDelta, BookSnapshot
from engine.errors import ChecksumMismatch, CrossedBook, SequenceGap, SnapshotError
from engine.venues.book_sync import BookPhase, ResyncCause, check_uncrossed, signed_crc32
from engine.venues.level_text import LevelTexts, StyledGrid

if TYPE_CHECKING:
    from engine.book.order_book import OrderBook
    from engine.core.instruments import Instrument
    from engine.venues.okx.protocol import OkxBook

CHECKSUM_DEPTH = 25
"""Levels per side the OKX checksum covers."""


class OkxOutcome(enum.Enum):
    """What became of one message."""

    SNAPSHOT = "snapshot"
    """A snapshot replaced the book; it is live."""
    APPLIED = "applied"
    """An update was applied to the live book."""
    WENT_LIVE = "went_live"
    """The first update past a REST snapshot (or the buffered ones) applied: the book went live."""
    BUFFERED = "buffered"
    """Kept until a REST snapshot arrives."""
    STALE = "stale"
    """Already covered by the snapshot: skipped."""
    IGNORED = "ignored"
    """A REST snapshot came while the book did not want one."""


class OkxBookSync:
    """Runs the OKX ``books`` rules for one instrument's book.

    Args:
        instrument: the instrument, for errors.
        book: the book kept in sync; it is cleared whenever it cannot be trusted.
        price: the tick grid in OKX's text style (from the parser), for checksums.
        size: the lot grid in OKX's text style, for checksums.
        venue: venue name, for errors.
        allow_crossed: accept a crossed book (pre-open auctions) instead of resyncing.
        max_buffered: most updates kept while waiting for a REST snapshot.
    """

    def __init__(
        self,
        instrument: Instrument,
        book: OrderBook,
        price: StyledGrid,
        size: StyledGrid,
        *,
        venue: str = "okx",
        allow_crossed: bool = False,
        max_buffered: int = 10_000,
    ) -> None:
        self.instrument = instrument
        self.book = book
        self.venue = venue
        self.allow_crossed = allow_crossed
        self.texts = LevelTexts(price, size)
        self.phase = BookPhase.SYNCING
        self.seq_id = -1
        """The last ``seqId`` applied; -1 before any or when the venue sends none."""
        self.resync_cause: ResyncCause | None = None
        """Why the book was last thrown away; None until it first is."""
        self.checksums_verified = 0
        """Non-zero checksums compared (and matched)."""
        self.checksums_absent = 0
        """Applied messages whose checksum was 0, so not compared."""
        self._count = 0
        self._buffer: deque[OkxBook] = deque(maxlen=max_buffered)

    @property
    def snapshot_wanted(self) -> bool:
        """True while the book needs a (REST or WS) snapshot."""
        return self.phase is BookPhase.SYNCING

    @property
    def buffered(self) -> int:
        """Updates waiting for a REST snapshot."""
        return len(self._buffer)

    def reset(self, cause: ResyncCause = ResyncCause.RECONNECT) -> None:
        """Throw the book away; it waits for a new snapshot."""
        self.book.clear()
        self.texts.clear()
        self._buffer.clear()
        self.phase = BookPhase.SYNCING
        self.seq_id = -1
        self.resync_cause = cause

    # ---- messages ------------------------------------------------------------------------------

    def on_message(self, msg: OkxBook) -> OkxOutcome:
        """Take one WebSocket ``books`` message.

        Raises:
            SequenceGap: ``prevSeqId`` does not follow the live book; the book was thrown away.
            SnapshotError: the first update after a REST snapshot starts past it.
            ChecksumMismatch: the venue's checksum disagrees with the book's.
            CrossedBook: the book crossed after the message.
        """
        if isinstance(msg.event, BookSnapshot):
            self._buffer.clear()
            self._replace(msg, msg.event)
            return OkxOutcome.SNAPSHOT
        if self.phase is BookPhase.SYNCING:
            self._buffer.append(msg)
            return OkxOutcome.BUFFERED
        if self.phase is BookPhase.BRIDGING:
            if 0 <= msg.seq_id <= self.seq_id:
                return OkxOutcome.STALE
            self._check_bridge(msg)
            self._update(msg)
            self.phase = BookPhase.LIVE
            return OkxOutcome.WENT_LIVE
        self._check_chain(msg)
        self._update(msg)
        return OkxOutcome.APPLIED

    def on_rest_snapshot(self, msg: OkxBook) -> OkxOutcome:
        """Take the REST snapshot of the 2026 procedure (``/api/v5/market/books``).

        Raises:
            SnapshotError: the snapshot is older than the buffered updates; fetch another.
            SequenceGap: the buffered updates do not chain; the book was thrown away.
            ChecksumMismatch: a replayed update's checksum disagrees with the book's.
            CrossedBook: the snapshot, or a replayed update, left the book crossed.
        """
        if self.phase is not BookPhase.SYNCING:
            return OkxOutcome.IGNORED
        assert isinstance(msg.event, BookSnapshot)
        last = msg.seq_id
        buffer = self._buffer
        while buffer and buffer[0].seq_id <= last:
            buffer.popleft()
        if buffer and buffer[0].prev_seq_id > last:
            raise SnapshotError(
                self.venue,
                self.instrument.symbol,
                f"snapshot at seqId {last} is too old: the buffered updates start after "
                f"prevSeqId {buffer[0].prev_seq_id}",
            )
        pending = list(buffer)
        buffer.clear()
        self._replace(msg, msg.event, verify=False)
        if not pending:
            self.phase = BookPhase.BRIDGING
            return OkxOutcome.SNAPSHOT
        self._update(pending[0])
        for later in pending[1:]:
            self._check_chain(later)
            self._update(later)
        return OkxOutcome.WENT_LIVE

    # ---- checksum ------------------------------------------------------------------------------

    def check_text(self) -> str:
        """The checksum string of the book now: top 25 a side, ``bidPx:bidSz:askPx:askSz:...``."""
        bids, asks = self.book.top(CHECKSUM_DEPTH)
        texts = self.texts
        parts: list[str] = []
        if texts.empty:
            price, size = texts.price.text, texts.size.text
            for i in range(max(len(bids), len(asks))):
                if i < len(bids):
                    parts += (price(bids[i][0]), size(bids[i][1]))
                if i < len(asks):
                    parts += (price(asks[i][0]), size(asks[i][1]))
            return ":".join(parts)
        for i in range(max(len(bids), len(asks))):
            if i < len(bids):
                ticks, lots = bids[i]
                parts += (texts.price_text(0, ticks), texts.size_text(0, ticks, lots))
            if i < len(asks):
                ticks, lots = asks[i]
                parts += (texts.price_text(1, ticks), texts.size_text(1, ticks, lots))
        return ":".join(parts)

    def checksum(self) -> int:
        """The signed CRC32 of :meth:`check_text`, as OKX computes it."""
        return signed_crc32(self.check_text())

    # ---- internals -----------------------------------------------------------------------------

    def _check_bridge(self, msg: OkxBook) -> None:
        """The first update past a REST snapshot: ``prevSeqId <= snapshot seqId < seqId``."""
        if msg.prev_seq_id > self.seq_id:
            at = self.seq_id
            self.reset(ResyncCause.STALE_SNAPSHOT)
            self._buffer.append(msg)
            raise SnapshotError(
                self.venue,
                self.instrument.symbol,
                f"snapshot at seqId {at} is older than the stream, whose first update has "
                f"prevSeqId {msg.prev_seq_id}",
            )

    def _check_chain(self, msg: OkxBook) -> None:
        """Live continuity: ``prevSeqId == last seqId``, or the venue's reset ``seqId < prev``."""
        if msg.seq_id < 0 or self.seq_id < 0:
            return
        if msg.prev_seq_id == self.seq_id or msg.seq_id < msg.prev_seq_id:
            return
        expected = self.seq_id
        self.reset(ResyncCause.GAP)
        self._buffer.append(msg)
        raise SequenceGap(self.venue, self.instrument.symbol, expected, msg.prev_seq_id)

    def _replace(self, msg: OkxBook, snap: BookSnapshot, *, verify: bool = True) -> None:
        self._count += 1
        self.seq_id = msg.seq_id
        self.book.apply_snapshot(
            snap.bid_px, snap.bid_sz, snap.ask_px, snap.ask_sz, self._update_id(msg)
        )
        self.texts.clear()
        if msg.odd:
            self.texts.note(msg.odd)
        self.phase = BookPhase.LIVE
        self._verify(msg if verify else None)

    def _update(self, msg: OkxBook) -> None:
        delta = msg.event
        assert isinstance(delta, BookDelta)
        self._count += 1
        if msg.seq_id >= 0:
            self.seq_id = msg.seq_id
        self.book.apply_delta(
            delta.bid_px, delta.bid_sz, delta.ask_px, delta.ask_sz, self._update_id(msg)
        )
        if msg.odd or not self.texts.empty:
            self.texts.update(delta.bid_px.tolist(), delta.ask_px.tolist(), msg.odd)
        self._verify(msg)

    def _update_id(self, msg: OkxBook) -> int:
        return msg.seq_id if msg.seq_id >= 0 else self._count

    def _verify(self, msg: OkxBook | None) -> None:
        if msg is not None and msg.checksum:
            computed = self.checksum()
            if computed != msg.checksum:
                self.reset(ResyncCause.CHECKSUM)
                raise ChecksumMismatch(self.venue, self.instrument.symbol, msg.checksum, computed)
            self.checksums_verified += 1
        elif msg is not None:
            self.checksums_absent += 1
        if not self.allow_crossed:
            try:
                check_uncrossed(self.book)
            except CrossedBook:
                self.reset(ResyncCause.CROSSED)
                raise
