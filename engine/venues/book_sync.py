"""Pieces every venue's book keeping shares: phases, resync causes and the per-update checks.

A venue's sync module (``engine/venues/<venue>/sync.py``) decides how snapshots and updates reach
its :class:`~engine.book.order_book.OrderBook`; the rules that are the same everywhere live here:

- :class:`BookPhase`: a book is *syncing* (no usable snapshot), *bridging* (a REST snapshot is
  in and waits for the first update past it) or *live*.
- :class:`ResyncCause`: why a book was thrown away, for counters, logs and the UI (the IPC
  :class:`~engine.ipc.protocol.ResyncReason` has fewer codes; :meth:`ResyncCause.ipc_reason`
  maps onto it).
- :func:`check_uncrossed` and :func:`truncate`, used after every applied update.
- :func:`signed_crc32`, the OKX reading of a CRC32.
"""

from __future__ import annotations

import enum
import zlib
from typing import Protocol

import numpy as np

from engine.book.order_book import OrderBook
from engine.errors import CrossedBook
from engine.ipc.protocol import ResyncReason


class BookPhase(enum.Enum):
    """Where a book is in its venue's procedure."""

    SYNCING = "syncing"
    """No usable snapshot: the book is empty and waits for one."""
    BRIDGING = "bridging"
    """A REST snapshot is applied; the first update past it has not arrived yet."""
    LIVE = "live"
    """The book is the venue's book as of the last update applied."""


class ResyncCause(enum.StrEnum):
    """Why a book was thrown away and must be rebuilt."""

    GAP = "gap"
    """A sequence number skipped: updates were lost."""
    CHECKSUM = "checksum"
    """The venue's checksum disagrees with the book's."""
    CROSSED = "crossed"
    """Best bid at or above best ask after an update: a delete was missed."""
    MALFORMED = "malformed"
    """A book message could not be parsed, so it could not be applied."""
    STALE_SNAPSHOT = "stale_snapshot"
    """A REST snapshot was older than the stream: fetch another."""
    RECONNECT = "reconnect"
    """The connection was lost; every book of it is rebuilt."""

    def ipc_reason(self) -> ResyncReason:
        """The code the engine-to-UI protocol carries.

        The protocol has no checksum or stale-snapshot code: both mean the book lost updates, so
        they travel as :attr:`ResyncReason.GAP`.
        """
        return _IPC[self]


class PhasedSync(Protocol):
    """A venue's book keeping as the shared feed code sees it: a phase and a reset."""

    phase: BookPhase

    def reset(self, cause: ResyncCause) -> None:
        """Throw the book away for ``cause``; it syncs again."""
        ...


def lose_book(sync: PhasedSync) -> bool:
    """A frame of the book was lost: throw it away, unless it is already waiting for a snapshot.

    Returns:
        Whether the book was thrown away (and must be resubscribed).
    """
    if sync.phase is BookPhase.SYNCING:
        return False
    sync.reset(ResyncCause.MALFORMED)
    return True


_IPC = {
    ResyncCause.GAP: ResyncReason.GAP,
    ResyncCause.CHECKSUM: ResyncReason.GAP,
    ResyncCause.STALE_SNAPSHOT: ResyncReason.GAP,
    ResyncCause.CROSSED: ResyncReason.CROSSED,
    ResyncCause.MALFORMED: ResyncReason.MALFORMED,
    ResyncCause.RECONNECT: ResyncReason.RECONNECT,
}


def check_uncrossed(book: OrderBook) -> None:
    """Raise when the book is crossed; the caller throws it away.

    Raises:
        CrossedBook: best bid at or above best ask.
    """
    if book.is_crossed():
        bid, ask = book.best_bid(), book.best_ask()
        raise CrossedBook(book.symbol, bid[0] if bid else 0, ask[0] if ask else 0)


def truncate(book: OrderBook, depth: int) -> tuple[list[int], list[int]]:
    """Delete every level past the best ``depth`` on each side (Kraken sends no such deletes).

    Returns:
        The prices removed: (bid prices, ask prices).
    """
    n_bids, n_asks = book.depth()
    if n_bids <= depth and n_asks <= depth:
        return [], []
    bids, asks = book.levels()
    gone_bids = [price for price, _ in bids[depth:]]
    gone_asks = [price for price, _ in asks[depth:]]
    zeros_b = np.zeros(len(gone_bids), dtype=np.int64)
    zeros_a = np.zeros(len(gone_asks), dtype=np.int64)
    book.apply_delta(
        np.array(gone_bids, dtype=np.int64),
        zeros_b,
        np.array(gone_asks, dtype=np.int64),
        zeros_a,
        book.update_id,
    )
    book.update_count -= 1  # a truncation is part of the update that caused it
    return gone_bids, gone_asks


def signed_crc32(text: str) -> int:
    """CRC32 (zlib/IEEE) of the ASCII text, read as a signed 32-bit integer (OKX)."""
    crc = zlib.crc32(text.encode("ascii"))
    return crc - (1 << 32) if crc >= 1 << 31 else crc


def unsigned_crc32(text: str) -> int:
    """CRC32 (zlib/IEEE) of the ASCII text as an unsigned 32-bit integer (Kraken)."""
    return zlib.crc32(text.encode("ascii"))
