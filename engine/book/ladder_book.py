"""The compiled backend of :class:`~engine.book.order_book.OrderBook`: a tick-indexed ladder.

A :class:`LadderBook` keeps both sides as a ladder per side (a window of ``window_ticks`` prices
around the touch) plus an overflow store for levels outside the window, in one flat buffer that
the compiled kernels of :mod:`engine.book.ladder_kernels` update and that moves with the touch.
No one constructs a :class:`LadderBook`: an :class:`~engine.book.order_book.OrderBook` becomes
one in place, through :func:`move_onto_ladder`, once the kernels are loaded. Importing this module
imports numba, so only that step does.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.book import ladder_kernels as k
from engine.book.ladder_layout import (
    ASK_OVERFLOW,
    BAD_LEVEL,
    BID_OVERFLOW,
    CAPACITY,
    NEED_SPACE,
    OK,
    UNSETTLED,
    allocate,
)
from engine.book.order_book import (
    INITIAL_OVERFLOW_SLOTS,
    Int64Array,
    Level,
    OrderBook,
    Sides,
    as_levels,
    explain,
)

_SCRATCH_LEVELS = 64
_FOREIGN = -1  # not a kernel status: the kernel refused the argument types
Kernel = Callable[[Int64Array, Int64Array, Int64Array, Int64Array, Int64Array], int]


def move_onto_ladder(book: OrderBook) -> None:
    """Move a book from the pure-Python backend onto the ladder, in place.

    The levels, ``update_id`` and ``update_count`` are exactly what they were; only the book's
    class and storage change. The new state is built completely before the book is touched.
    """
    bids, asks = book._bids, book._asks
    bid_px = np.array(book._bid_keys, dtype=np.int64)
    bid_sz = np.array([bids[price] for price in book._bid_keys], dtype=np.int64)
    ask_px = np.array(book._ask_keys, dtype=np.int64)
    ask_sz = np.array([asks[price] for price in book._ask_keys], dtype=np.int64)
    staged = LadderBook.__new__(LadderBook)
    staged._start(book.symbol, book._window)
    staged._start_ladder()
    staged.apply_snapshot(bid_px, bid_sz, ask_px, ask_sz, book.update_id)
    book._buf, book._head, book._scratch = staged._buf, staged._head, staged._scratch
    book._bids, book._asks, book._bid_keys, book._ask_keys = {}, {}, [], []
    book.__class__ = LadderBook


class LadderBook(OrderBook):
    """An :class:`~engine.book.order_book.OrderBook` on the compiled ladder (same API)."""

    __slots__ = ()

    def _start_ladder(self) -> None:
        """An empty ladder buffer, its header view and the scratch rows :meth:`top` reads into."""
        self._buf = allocate(self._window, INITIAL_OVERFLOW_SLOTS)
        self._head = self._buf.data  # reads single slots as Python ints, 3x faster than numpy
        self._scratch = np.empty((4, _SCRATCH_LEVELS), dtype=np.int64)

    # ---- updates ------------------------------------------------------------------------------

    def apply_snapshot(
        self,
        bid_px: Int64Array,
        bid_sz: Int64Array,
        ask_px: Int64Array,
        ask_sz: Int64Array,
        update_id: int,
    ) -> None:
        """Replace the whole book with a venue snapshot valid at ``update_id``.

        Raises:
            BadLevel: a level is invalid; the book is unchanged.
        """
        try:
            status = k.apply_snapshot(self._buf, bid_px, bid_sz, ask_px, ask_sz)
        except (TypeError, ValueError):  # numba refused the argument types
            status = _FOREIGN
        if status != OK:
            self._retry(k.apply_snapshot, status, (bid_px, bid_sz, ask_px, ask_sz))
        self.update_id = update_id

    def apply_delta(
        self,
        bid_px: Int64Array,
        bid_sz: Int64Array,
        ask_px: Int64Array,
        ask_sz: Int64Array,
        update_id: int,
    ) -> None:
        """Apply absolute new sizes, in order; a size of 0 deletes the level.

        Raises:
            BadLevel: a level is invalid; the book is unchanged.
        """
        try:
            status = k.apply_delta(self._buf, bid_px, bid_sz, ask_px, ask_sz)
        except (TypeError, ValueError):  # numba refused the argument types
            status = _FOREIGN
        if status != OK:
            self._retry(k.apply_delta, status, (bid_px, bid_sz, ask_px, ask_sz))
        self.update_id = update_id
        self.update_count += 1

    def clear(self) -> None:
        """Remove every level; ``update_id`` becomes -1."""
        k.clear(self._buf)
        self.update_id = -1

    def _retry(self, kernel: Kernel, status: int, sides: Sides) -> None:
        """The slow path: convert foreign arrays, explain refusals, make room, finish."""
        if status == _FOREIGN:
            bid_px, bid_sz, ask_px, ask_sz = (
                as_levels(self.symbol, name, values)
                for name, values in zip(
                    ("bid_px", "bid_sz", "ask_px", "ask_sz"), sides, strict=True
                )
            )
            sides = (bid_px, bid_sz, ask_px, ask_sz)
            status = kernel(self._buf, *sides)
        if status == BAD_LEVEL:
            raise explain(self.symbol, sides)
        while status == NEED_SPACE:  # nothing was applied yet
            self._rebuild(max(np.size(sides[0]), np.size(sides[2])), grow=False)
            status = kernel(self._buf, *sides)
        while status == UNSETTLED:  # applied, but the window could not move yet
            self._rebuild(0, grow=True)
            status = k.settle(self._buf)

    def _rebuild(self, incoming: int, *, grow: bool) -> None:
        """Rebuild the overflow tables without deleted markers, with room for ``incoming`` levels.

        Sized to four times the levels they will hold (never below the initial size), so a table
        that filled up with deleted markers is only cleaned; ``grow`` at least doubles it.
        """
        head = self._head
        wanted = 4 * (max(head[BID_OVERFLOW], head[ASK_OVERFLOW]) + incoming)
        capacity = max(INITIAL_OVERFLOW_SLOTS, 1 << (wanted - 1).bit_length())
        if grow:
            capacity = max(capacity, 2 * head[CAPACITY])
        self._buf = k.rebuild(self._buf, capacity)
        self._head = self._buf.data

    # ---- reads that walk the ladder -----------------------------------------------------------

    def top_arrays(self, n: int, out: Int64Array) -> tuple[int, int]:
        """Write the best ``n`` levels per side into ``out``, the fast path for publishing.

        ``out`` has shape ``(4, m)`` with rows bid price, bid size, ask price, ask size, each
        best-first; at most ``min(n, m)`` levels per side are written and the columns after them
        are left as they were. A C-contiguous int64 ``out`` is filled directly.

        Returns:
            (bid levels written, ask levels written).
        """
        shape = out.shape if isinstance(out, np.ndarray) else np.shape(out)
        if len(shape) != 2 or shape[0] != 4:  # the kernel does not bounds-check
            raise ValueError(f"out must have 4 rows, got shape {shape}")
        try:
            return k.top_levels(self._buf, n, out)
        except (TypeError, ValueError):  # numba refused the type of ``out``
            rows, cols = np.shape(out)
            if rows != 4:
                raise ValueError(f"out must have 4 rows, got shape {np.shape(out)}") from None
            tmp = np.zeros((4, cols), dtype=np.int64)
            n_bids, n_asks = k.top_levels(self._buf, n, tmp)
            out[:2, :n_bids] = tmp[:2, :n_bids]
            out[2:, :n_asks] = tmp[2:, :n_asks]
            return n_bids, n_asks

    def top(self, n: int) -> tuple[list[Level], list[Level]]:
        """The best ``n`` levels per side as (bids best-first, asks best-first)."""
        out = self._scratch
        if n > out.shape[1]:
            out = np.empty((4, max(0, min(n, max(self.depth())))), dtype=np.int64)
        n_bids, n_asks = k.top_levels(self._buf, n, out)
        bid_px, bid_sz, ask_px, ask_sz = out[:, : max(n_bids, n_asks)].tolist()
        # zip stops at the end of the sliced price row
        return (
            list(zip(bid_px[:n_bids], bid_sz, strict=False)),
            list(zip(ask_px[:n_asks], ask_sz, strict=False)),
        )
