"""One parsed book message as the engine's event: a snapshot, or a delta of the same levels.

The OKX, Kraken and Coinbase readers parse a snapshot and an update into the same four arrays
and differ only in which event they make of them and which ids it carries; :func:`book_event`
makes that event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.core.events import BookDelta, BookSnapshot

if TYPE_CHECKING:
    from engine.core.events import Int64Array


def book_event(
    snapshot: bool,
    *,
    instrument: int,
    update_id: int,
    prev_id: int,
    bids: tuple[Int64Array, Int64Array],
    asks: tuple[Int64Array, Int64Array],
    exch_ts: int,
    recv_ts: int,
) -> BookSnapshot | BookDelta:
    """A :class:`BookSnapshot` at ``update_id``, or a :class:`BookDelta` from ``prev_id`` to it.

    Args:
        snapshot: whether the message replaces the book.
        instrument: the instrument id.
        update_id: the venue's id of the message (0 where it sends none).
        prev_id: the id the delta follows (-1 where the venue sends none); unused for snapshots.
        bids: prices and sizes of the bid levels, as steps of the grids.
        asks: prices and sizes of the ask levels.
        exch_ts: the venue's time, ns (0 where it sent none).
        recv_ts: when the frame was received, ns.
    """
    if snapshot:
        return BookSnapshot(
            instrument=instrument,
            update_id=update_id,
            bid_px=bids[0],
            bid_sz=bids[1],
            ask_px=asks[0],
            ask_sz=asks[1],
            exch_ts=exch_ts,
            recv_ts=recv_ts,
        )
    return BookDelta(
        instrument=instrument,
        first_id=update_id,
        last_id=update_id,
        prev_id=prev_id,
        bid_px=bids[0],
        bid_sz=bids[1],
        ask_px=asks[0],
        ask_sz=asks[1],
        exch_ts=exch_ts,
        recv_ts=recv_ts,
    )
