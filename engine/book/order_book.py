"""The L2 order book: integer ticks and lots, venue snapshots and absolute-size deltas.

An :class:`OrderBook` keeps both sides of one instrument's book as a tick-indexed ladder per side
(a window of ``window_ticks`` prices around the touch) plus an overflow store for levels outside
the window; the compiled kernels in :mod:`engine.book.ladder_kernels` do the work and move the
window when the touch drifts. Sizes are absolute, as venues send them: a size of 0 deletes the
level, and deleting a level that is not there does nothing.

A message with a negative size, a non-positive price or sides of unequal length raises
:class:`BadLevel` and leaves the book exactly as it was. A crossed book (best bid at or above best
ask) is kept as received so the caller can see it, and reported by :meth:`OrderBook.is_crossed`
and :meth:`OrderBook.check_uncrossed`; it is never a valid book.

Level arrays are C-contiguous one-dimensional ``int64`` numpy arrays, as the venue parsers make
them. Anything else (lists, other integer dtypes, strided views) is accepted on a slower path
that copies it first; floats are refused.

The kernels compile, or load from numba's on-disk cache, in :func:`warm_up`. The engine calls it
at start, and the first :class:`OrderBook` built in a process calls it too, so no update ever
waits for a compiler.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from engine.book import ladder_kernels as k
from engine.errors import BookError, CrossedBook

Int64Array = npt.NDArray[np.int64]
Level = tuple[int, int]
"""One price level: (price in ticks, size in lots)."""

MIN_WINDOW_TICKS = 16
MAX_WINDOW_TICKS = 1 << 24
INITIAL_OVERFLOW_SLOTS = 1024
"""Overflow table slots per side of a new book; the table grows, at least doubling, when needed."""
_KERNELS = (k.apply_delta, k.apply_snapshot, k.clear, k.rehash_into, k.settle, k.top_levels)
_SCRATCH_LEVELS = 64
_FOREIGN = -1  # not a kernel status: the kernel refused the argument types
_warm = False

Sides = tuple[Int64Array, Int64Array, Int64Array, Int64Array]
"""A message's bid prices, bid sizes, ask prices and ask sizes."""
Kernel = Callable[[Int64Array, Int64Array, Int64Array, Int64Array, Int64Array], int]


class BadLevel(BookError, ValueError):
    """A book message carried a level the book cannot hold; the message was not applied.

    Raised for a negative size, a price outside ``1 .. 2**62`` ticks, price and size arrays of
    different lengths, or values that are not integers. ``side`` is ``"bid"`` or ``"ask"`` and
    ``index`` the position in that side's arrays, when the problem is one level.
    """

    def __init__(
        self,
        symbol: str,
        message: str,
        *,
        side: str | None = None,
        index: int | None = None,
        price: int | None = None,
        size: int | None = None,
    ) -> None:
        self.symbol = symbol
        self.side = side
        self.index = index
        self.price = price
        self.size = size
        super().__init__(f"{symbol}: {message}")


def warm_up() -> None:
    """Compile, or load from the on-disk cache, every book kernel by running it on a tiny book.

    Idempotent and cheap after the first call. Afterwards the kernels refuse to compile for new
    argument types, so an unexpected array type takes the book's copying path instead of a
    compile in the middle of trading.
    """
    global _warm
    if _warm:
        return
    buf = k.allocate(MIN_WINDOW_TICKS, 2)
    px = np.array([100, 1], dtype=np.int64)
    sz = np.array([2, 3], dtype=np.int64)
    assert k.apply_snapshot(buf, px, sz, px + 1, sz) == k.NEED_SPACE
    buf = k.rebuild(buf, 16)
    assert k.apply_snapshot(buf, px, sz, px + 1, sz) == k.OK
    k.top_levels(buf, 2, np.zeros((4, 2), dtype=np.int64))
    assert k.apply_delta(buf, px, sz * 0, px + 1, sz * 0) == k.OK
    assert k.settle(buf) == k.OK
    k.clear(buf)
    for kernel in _KERNELS:
        kernel.disable_compile()
    _warm = True


def _as_levels(symbol: str, name: str, values: npt.ArrayLike) -> Int64Array:
    """``values`` as a fresh C-contiguous int64 array, or :class:`BadLevel` saying why not."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise BadLevel(symbol, f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        return np.empty(0, dtype=np.int64)
    if arr.dtype.kind not in "iu":
        raise BadLevel(symbol, f"{name} must hold integers (ticks or lots), got {arr.dtype}")
    try:
        return arr.astype(np.int64, casting="safe")
    except TypeError:
        raise BadLevel(symbol, f"{name} does not fit in int64 ({arr.dtype})") from None


def _explain(symbol: str, sides: Sides) -> BadLevel:
    """The :class:`BadLevel` for a message the kernel refused."""
    bid_px, bid_sz, ask_px, ask_sz = (np.asarray(values) for values in sides)
    for side, px, sz in (("bid", bid_px, bid_sz), ("ask", ask_px, ask_sz)):
        if len(px) != len(sz):
            return BadLevel(
                symbol, f"{side} prices and sizes differ in length ({len(px)} vs {len(sz)})"
            )
        bad = np.flatnonzero((px <= 0) | (px > k.MAX_PRICE) | (sz < 0))
        if bad.size:
            i = int(bad[0])
            price, size = int(px[i]), int(sz[i])
            if price <= 0:
                what = "price must be positive"
            elif price > k.MAX_PRICE:
                what = f"price above {k.MAX_PRICE}"
            else:
                what = "size must not be negative"
            return BadLevel(
                symbol,
                f"{side} level {i}: {what} (price {price} ticks, size {size} lots)",
                side=side,
                index=i,
                price=price,
                size=size,
            )
    return BadLevel(symbol, "message refused by the book")  # pragma: no cover - kernel agrees


class OrderBook:
    """Both sides of one instrument's L2 book, in integer ticks and lots.

    Args:
        symbol: the instrument's symbol, used in error messages.
        window_ticks: prices per side held in the ladder; levels further from the touch live
            in an overflow table, as fast to update but slower to read in order. 16 to 2**24.

    Raises:
        ValueError: ``window_ticks`` is out of range.

    Attributes:
        symbol: the instrument's symbol.
        update_id: venue update id of the last applied snapshot or delta; -1 when empty.
        update_count: deltas applied since the book was created.
    """

    __slots__ = ("_buf", "_head", "_scratch", "symbol", "update_count", "update_id")

    def __init__(self, symbol: str, *, window_ticks: int = 1 << 14) -> None:
        if not MIN_WINDOW_TICKS <= window_ticks <= MAX_WINDOW_TICKS:
            raise ValueError(
                f"{symbol}: window_ticks must be {MIN_WINDOW_TICKS}..{MAX_WINDOW_TICKS}, "
                f"got {window_ticks}"
            )
        warm_up()
        self.symbol = symbol
        self.update_id = -1
        self.update_count = 0
        self._buf = k.allocate(window_ticks, INITIAL_OVERFLOW_SLOTS)
        self._head = self._buf.data  # reads single slots as Python ints, 3x faster than numpy
        self._scratch = np.empty((4, _SCRATCH_LEVELS), dtype=np.int64)  # for top()

    def __repr__(self) -> str:
        n_bids, n_asks = self.depth()
        return (
            f"OrderBook({self.symbol!r}, bid={self.best_bid()}, ask={self.best_ask()}, "
            f"levels={n_bids}/{n_asks}, update_id={self.update_id})"
        )

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
        if status != k.OK:
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
        if status != k.OK:
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
            names = ("bid_px", "bid_sz", "ask_px", "ask_sz")
            bid_px, bid_sz, ask_px, ask_sz = (
                _as_levels(self.symbol, name, values)
                for name, values in zip(names, sides, strict=True)
            )
            sides = (bid_px, bid_sz, ask_px, ask_sz)
            status = kernel(self._buf, *sides)
        if status == k.BAD_LEVEL:
            raise _explain(self.symbol, sides)
        while status == k.NEED_SPACE:  # nothing was applied yet
            self._rebuild(max(np.size(sides[0]), np.size(sides[2])), grow=False)
            status = kernel(self._buf, *sides)
        while status == k.UNSETTLED:  # applied, but the window could not move yet
            self._rebuild(0, grow=True)
            status = k.settle(self._buf)

    def _rebuild(self, incoming: int, *, grow: bool) -> None:
        """Rebuild the overflow tables without deleted markers, with room for ``incoming`` levels.

        Sized to four times the levels they will hold (never below the initial size), so a table
        that filled up with deleted markers is only cleaned; ``grow`` at least doubles it.
        """
        head = self._head
        wanted = 4 * (max(head[k.BID_OVERFLOW], head[k.ASK_OVERFLOW]) + incoming)
        capacity = max(INITIAL_OVERFLOW_SLOTS, 1 << (wanted - 1).bit_length())
        if grow:
            capacity = max(capacity, 2 * head[k.CAPACITY])
        self._buf = k.rebuild(self._buf, capacity)
        self._head = self._buf.data

    # ---- reads --------------------------------------------------------------------------------

    def best_bid(self) -> Level | None:
        """Highest bid as (price ticks, size lots), or None when there are no bids."""
        head = self._head
        price = head[k.BID_BEST_PRICE]
        return (price, head[k.BID_BEST_SIZE]) if price else None

    def best_ask(self) -> Level | None:
        """Lowest ask as (price ticks, size lots), or None when there are no asks."""
        head = self._head
        price = head[k.ASK_BEST_PRICE]
        return (price, head[k.ASK_BEST_SIZE]) if price else None

    def top_arrays(self, n: int, out: Int64Array) -> tuple[int, int]:
        """Write the best ``n`` levels per side into ``out``, the fast path for publishing.

        ``out`` has shape ``(4, m)`` with rows bid price, bid size, ask price, ask size, each
        best-first; at most ``min(n, m)`` levels per side are written and the columns after them
        are left as they were. A C-contiguous int64 ``out`` is filled directly.

        Returns:
            (bid levels written, ask levels written).
        """
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

    def levels(self) -> tuple[list[Level], list[Level]]:
        """Every level of both sides, best-first."""
        return self.top(max(self.depth()))

    def depth(self) -> tuple[int, int]:
        """Number of (bid levels, ask levels)."""
        head = self._head
        return (
            head[k.BID_COUNT] + head[k.BID_OVERFLOW],
            head[k.ASK_COUNT] + head[k.ASK_OVERFLOW],
        )

    def is_crossed(self) -> bool:
        """True when both sides have levels and the best bid is at or above the best ask."""
        head = self._head
        bid = head[k.BID_BEST_PRICE]
        ask = head[k.ASK_BEST_PRICE]
        return bool(bid and ask and bid >= ask)

    def check_uncrossed(self) -> None:
        """Raise if the book is crossed.

        Raises:
            CrossedBook: best bid at or above best ask.
        """
        if self.is_crossed():
            head = self._head
            raise CrossedBook(self.symbol, head[k.BID_BEST_PRICE], head[k.ASK_BEST_PRICE])

    def spread(self) -> int | None:
        """Best ask minus best bid in ticks (negative when crossed), or None if a side is empty."""
        head = self._head
        bid = head[k.BID_BEST_PRICE]
        ask = head[k.ASK_BEST_PRICE]
        return ask - bid if bid and ask else None

    def mid_x2(self) -> int | None:
        """Best bid plus best ask in ticks (twice the mid, so it stays an integer), or None."""
        head = self._head
        bid = head[k.BID_BEST_PRICE]
        ask = head[k.ASK_BEST_PRICE]
        return ask + bid if bid and ask else None
