"""What every venue's capture replayer (``engine/venues/<venue>/replay.py``) hands out.

A replayer is pure: it takes a capture's received frames in order, ``(recv_ns, raw bytes)``,
through the venue's own parser and book sync, and yields one :class:`AppliedUpdate` per book
update applied to a live book (snapshots included). A frame that breaks a book's rules (gap,
checksum, crossed, malformed) is counted in :class:`ReplayStats` and that book waits for the next
snapshot in the capture, as a live feed would after resubscribing.

The data tools (``hft-tui data replay``) register replayers by venue name; each module exports
``VENUE`` and a replayer class taking the capture's instruments. :class:`FrameReplay` counts what
every replayer counts (frames, a malformed one skipped, trades kept); :class:`BookReplay` is the
frame loop the per-book replayers (OKX, Kraken, Hyperliquid) share, each book message handed to
the venue's sync.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Generic, NamedTuple, Protocol, TypeVar

import msgspec

from engine.book.order_book import OrderBook
from engine.core.events import Trade
from engine.core.instruments import Instrument
from engine.errors import MalformedMessage

BookMessage = TypeVar("BookMessage")
"""What the venue's parser hands out for one book."""
Parsed = TypeVar("Parsed")
"""What the venue's parser makes of one frame."""


class AppliedUpdate(NamedTuple):
    """One update applied to a live book. ``book`` is the live object: read it before the next."""

    instrument: Instrument
    seq: int
    """The venue's sequence for the update (its ``seqId``/``sequence_num``, else a count)."""
    recv_ts: int
    """When the frame was received, ns."""
    exch_ts: int
    """The venue's time of the update, ns; 0 when it sent none."""
    book: OrderBook


class ReplayStats(msgspec.Struct, kw_only=True):
    """What a replay saw."""

    frames: int = 0
    applied: int = 0
    """Book updates (and snapshots) applied to live books."""
    trades: int = 0
    malformed: int = 0
    ignored: int = 0
    """Frames with no market data for a subscribed book (acks, heartbeats, other channels)."""
    resyncs: Counter[str] = msgspec.field(default_factory=Counter)
    """Books thrown away, by :class:`~engine.venues.book_sync.ResyncCause` value."""
    checksums_verified: int = 0


class Replayer(Protocol):
    """A venue's capture replayer."""

    stats: ReplayStats

    def feed(self, recv_ns: int, raw: bytes) -> list[AppliedUpdate]:
        """Take one received frame; the updates it applied, in order."""
        ...


class FrameReplay(Generic[Parsed]):
    """What every replayer counts: frames, malformed ones, frames with no market data, trades."""

    def __init__(self) -> None:
        self.stats = ReplayStats()
        self.trades: list[Trade] = []
        """Every trade parsed, in order."""

    def _parse(self, raw: bytes, recv_ns: int) -> Parsed:
        """One frame as the venue's parser reads it.

        Raises:
            MalformedMessage: the frame cannot be read.
        """
        raise NotImplementedError

    def _read(self, raw: bytes, recv_ns: int) -> Parsed | None:
        """Count one frame and parse it; None when it is malformed (counted)."""
        self.stats.frames += 1
        try:
            return self._parse(raw, recv_ns)
        except MalformedMessage:
            self.stats.malformed += 1
            return None

    def _keep(self, trade: Trade) -> None:
        self.stats.trades += 1
        self.trades.append(trade)


class BookReplay(FrameReplay[list[BookMessage | Trade]]):
    """The frame loop of a replayer whose parser gives a frame's trades and book messages."""

    def _apply(self, msg: BookMessage, recv_ns: int) -> AppliedUpdate | None:
        """One book message through its sync; the update when it changed a live book."""
        raise NotImplementedError

    def feed(self, recv_ns: int, raw: bytes) -> list[AppliedUpdate]:
        """Take one received frame; the book updates it applied."""
        items = self._read(raw, recv_ns)
        if items is None:
            return []
        if not items:
            self.stats.ignored += 1
        out: list[AppliedUpdate] = []
        for item in items:
            if isinstance(item, Trade):
                self._keep(item)
                continue
            update = self._apply(item, recv_ns)
            if update is not None:
                self.stats.applied += 1
                out.append(update)
        return out


def replay(replayer: Replayer, records: Iterable[tuple[int, bytes]]) -> Iterator[AppliedUpdate]:
    """Run ordered ``(recv_ns, raw frame)`` records through a replayer."""
    for recv_ns, raw in records:
        yield from replayer.feed(recv_ns, raw)
