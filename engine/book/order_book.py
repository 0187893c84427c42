"""The L2 order book: integer ticks and lots, venue snapshots and absolute-size deltas.

An :class:`OrderBook` keeps both sides of one instrument's book. Sizes are absolute, as venues
send them: a size of 0 deletes the level, and deleting a level that is not there does nothing.

A message with a negative size, a non-positive price or sides of unequal length raises
:class:`BadLevel` and leaves the book exactly as it was. A crossed book (best bid at or above best
ask) is kept as received so the caller can see it, and reported by :meth:`OrderBook.is_crossed`
and :meth:`OrderBook.check_uncrossed`; it is never a valid book.

Level arrays are C-contiguous one-dimensional ``int64`` numpy arrays, as the venue parsers make
them. Anything else (lists, other integer dtypes, strided views) is accepted on a slower path
that copies it first; floats are refused.

**Two backends, one object.** A new book starts on a pure-Python backend, a dict and a sorted
price list per side, which needs nothing compiled. Once the compiled tick-indexed ladder
(:mod:`engine.book.ladder_book`) is loaded, by :func:`warm_up` or by :mod:`engine.jit` after a
background process compiled it, every live book moves onto it in place: its class becomes
:class:`~engine.book.ladder_book.LadderBook` and its levels, ``update_id`` and ``update_count``
carry over exactly. Books made afterwards start on the ladder. Whoever holds a book keeps holding
the same object, and the compiled path pays nothing per call for the switch.
"""

from __future__ import annotations

import weakref
from bisect import bisect_left, insort
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from engine import jit
from engine.book.ladder_layout import (
    ASK_BEST_PRICE,
    ASK_BEST_SIZE,
    ASK_COUNT,
    ASK_OVERFLOW,
    BID_BEST_PRICE,
    BID_BEST_SIZE,
    BID_COUNT,
    BID_OVERFLOW,
    HEADER,
    MAX_PRICE,
)
from engine.errors import BookError, CrossedBook

Int64Array = npt.NDArray[np.int64]
Level = tuple[int, int]
"""One price level: (price in ticks, size in lots)."""
Sides = tuple[Int64Array, Int64Array, Int64Array, Int64Array]
"""A message's bid prices, bid sizes, ask prices and ask sizes."""

MIN_WINDOW_TICKS = 16
MAX_WINDOW_TICKS = 1 << 24
INITIAL_OVERFLOW_SLOTS = 1024
"""Overflow table slots per side of a new ladder; a table grows, at least doubling, when needed."""
LADDER_KERNELS = "engine.book.ladder_kernels"
"""The module holding the compiled kernels, as :mod:`engine.jit` names it."""

_NAMES = ("bid_px", "bid_sz", "ask_px", "ask_sz")
_NO_ARRAY: Int64Array = np.empty(0, dtype=np.int64)

_live: weakref.WeakSet[OrderBook] = weakref.WeakSet()
"""Books still on the pure-Python backend, moved when the ladder is loaded."""
_move_onto_ladder: Callable[[OrderBook], None] | None = None
"""Set once the compiled ladder is loaded: moves one book onto it."""


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
    """Load the compiled ladder now (compiling it if numba's cache lacks it) and use it.

    Every live book moves onto the ladder and books made later start there. Idempotent and
    cheap after the first call. While :mod:`engine.jit` compiles in a background process this
    returns at once: the books move when that process is done and the engine activates it.

    Raises:
        engine.jit.KernelLoadError: the kernels could not be compiled or loaded.
    """
    if _move_onto_ladder is None and not jit.deferred():
        use_compiled()


def use_compiled() -> int:
    """Load the compiled ladder and move every live book onto it, in place.

    Returns:
        How many books moved.

    Raises:
        engine.jit.KernelLoadError: the kernels could not be compiled or loaded.
    """
    global _move_onto_ladder
    jit.load_kernels(LADDER_KERNELS)
    from engine.book.ladder_book import move_onto_ladder  # imports numba: only once compiled

    _move_onto_ladder = move_onto_ladder
    books = [book for book in _live if type(book) is OrderBook]
    for book in books:
        move_onto_ladder(book)
    _live.clear()
    return len(books)


def compiled() -> bool:
    """True once books use the compiled ladder (new books start there)."""
    return _move_onto_ladder is not None


def fallback_book(symbol: str, *, window_ticks: int = 1 << 14) -> OrderBook:
    """A book that stays on the pure-Python backend even when the ladder is loaded.

    For comparing the two backends; the engine always uses :class:`OrderBook` itself.
    """
    book = OrderBook.__new__(OrderBook)
    book._start(symbol, window_ticks)
    return book


def as_levels(symbol: str, name: str, values: npt.ArrayLike) -> Int64Array:
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


def explain(symbol: str, sides: tuple[npt.ArrayLike, ...]) -> BadLevel:
    """The :class:`BadLevel` for a message one of the backends refused."""
    bid_px, bid_sz, ask_px, ask_sz = (np.asarray(values) for values in sides)
    for side, px, sz in (("bid", bid_px, bid_sz), ("ask", ask_px, ask_sz)):
        if len(px) != len(sz):
            return BadLevel(
                symbol, f"{side} prices and sizes differ in length ({len(px)} vs {len(sz)})"
            )
        bad = np.flatnonzero((px <= 0) | (px > MAX_PRICE) | (sz < 0))
        if bad.size:
            i = int(bad[0])
            price, size = int(px[i]), int(sz[i])
            if price <= 0:
                what = "price must be positive"
            elif price > MAX_PRICE:
                what = f"price above {MAX_PRICE}"
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
    return BadLevel(symbol, "message refused by the book")  # pragma: no cover - backends agree


def _valid(px: list[int], sz: list[int]) -> bool:
    """The ladder kernels' check: equal lengths, prices in ``1..MAX_PRICE``, sizes not negative."""
    return (
        len(px) == len(sz)
        and (not px or (min(px) > 0 and max(px) <= MAX_PRICE))
        and (not sz or min(sz) >= 0)
    )


def _replace_side(px: list[int], sz: list[int]) -> tuple[dict[int, int], list[int]]:
    """One side built from scratch, levels applied in order: (size by price, sorted prices)."""
    levels: dict[int, int] = {}
    for price, size in zip(px, sz, strict=True):
        if size:
            levels[price] = size
        else:
            levels.pop(price, None)
    return levels, sorted(levels)


def _update_side(levels: dict[int, int], keys: list[int], px: list[int], sz: list[int]) -> None:
    """Apply absolute sizes in order to one side; 0 deletes."""
    for price, size in zip(px, sz, strict=True):
        if size:
            if price not in levels:
                insort(keys, price)
            levels[price] = size
        elif levels.pop(price, None) is not None:
            del keys[bisect_left(keys, price)]


class OrderBook:
    """Both sides of one instrument's L2 book, in integer ticks and lots.

    Args:
        symbol: the instrument's symbol, used in error messages.
        window_ticks: prices per side the compiled ladder holds in its window; levels further
            from the touch live in an overflow table, as fast to update but slower to read in
            order. 16 to 2**24.

    Raises:
        ValueError: ``window_ticks`` is out of range.

    Attributes:
        symbol: the instrument's symbol.
        update_id: venue update id of the last applied snapshot or delta; -1 when empty.
        update_count: deltas applied since the book was created.
    """

    __slots__ = (
        "__weakref__",
        "_ask_keys",
        "_asks",
        "_bid_keys",
        "_bids",
        "_buf",
        "_head",
        "_scratch",
        "_window",
        "symbol",
        "update_count",
        "update_id",
    )

    _bids: dict[int, int]
    _asks: dict[int, int]
    _bid_keys: list[int]
    """Bid prices, ascending: the best bid is last."""
    _ask_keys: list[int]
    """Ask prices, ascending: the best ask is first."""
    _buf: Int64Array
    """The ladder's state buffer (empty on the pure-Python backend)."""
    _head: list[int] | memoryview
    """Best prices and sizes and level counts, at the ladder header's slots, as Python ints."""
    _scratch: Int64Array

    def __init__(self, symbol: str, *, window_ticks: int = 1 << 14) -> None:
        self._start(symbol, window_ticks)
        if _move_onto_ladder is None:
            _live.add(self)
        else:
            _move_onto_ladder(self)

    def _start(self, symbol: str, window_ticks: int) -> None:
        """An empty book on the pure-Python backend.

        Raises:
            ValueError: ``window_ticks`` is out of range.
        """
        if not MIN_WINDOW_TICKS <= window_ticks <= MAX_WINDOW_TICKS:
            raise ValueError(
                f"{symbol}: window_ticks must be {MIN_WINDOW_TICKS}..{MAX_WINDOW_TICKS}, "
                f"got {window_ticks}"
            )
        self.symbol = symbol
        self.update_id = -1
        self.update_count = 0
        self._window = window_ticks
        self._bids, self._asks, self._bid_keys, self._ask_keys = {}, {}, [], []
        self._head = [0] * HEADER
        self._buf = self._scratch = _NO_ARRAY

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
        b_px, b_sz, a_px, a_sz = self._checked((bid_px, bid_sz, ask_px, ask_sz))
        self._bids, self._bid_keys = _replace_side(b_px, b_sz)
        self._asks, self._ask_keys = _replace_side(a_px, a_sz)
        self._publish()
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
        b_px, b_sz, a_px, a_sz = self._checked((bid_px, bid_sz, ask_px, ask_sz))
        _update_side(self._bids, self._bid_keys, b_px, b_sz)
        _update_side(self._asks, self._ask_keys, a_px, a_sz)
        self._publish()
        self.update_id = update_id
        self.update_count += 1

    def clear(self) -> None:
        """Remove every level; ``update_id`` becomes -1."""
        self._bids, self._asks, self._bid_keys, self._ask_keys = {}, {}, [], []
        self._publish()
        self.update_id = -1

    def _checked(
        self, sides: tuple[npt.ArrayLike, ...]
    ) -> tuple[list[int], list[int], list[int], list[int]]:
        """A message as four lists of ints, or :class:`BadLevel` when the ladder would refuse it."""
        lists: list[list[int]] = []
        for name, values in zip(_NAMES, sides, strict=True):
            if type(values) is np.ndarray and values.dtype == np.int64 and values.ndim == 1:
                lists.append(values.tolist())
            else:
                lists.append(as_levels(self.symbol, name, values).tolist())
        b_px, b_sz, a_px, a_sz = lists
        if not (_valid(b_px, b_sz) and _valid(a_px, a_sz)):
            raise explain(self.symbol, (b_px, b_sz, a_px, a_sz))
        return b_px, b_sz, a_px, a_sz

    def _publish(self) -> None:
        """Mirror the touch and the level counts into ``_head``, where the reads find them."""
        head = self._head
        bid_keys, ask_keys = self._bid_keys, self._ask_keys
        if bid_keys:
            price = bid_keys[-1]
            head[BID_BEST_PRICE], head[BID_BEST_SIZE] = price, self._bids[price]
        else:
            head[BID_BEST_PRICE] = head[BID_BEST_SIZE] = 0
        if ask_keys:
            price = ask_keys[0]
            head[ASK_BEST_PRICE], head[ASK_BEST_SIZE] = price, self._asks[price]
        else:
            head[ASK_BEST_PRICE] = head[ASK_BEST_SIZE] = 0
        head[BID_COUNT] = len(bid_keys)
        head[ASK_COUNT] = len(ask_keys)

    # ---- reads --------------------------------------------------------------------------------

    def best_bid(self) -> Level | None:
        """Highest bid as (price ticks, size lots), or None when there are no bids."""
        head = self._head
        price = head[BID_BEST_PRICE]
        return (price, head[BID_BEST_SIZE]) if price else None

    def best_ask(self) -> Level | None:
        """Lowest ask as (price ticks, size lots), or None when there are no asks."""
        head = self._head
        price = head[ASK_BEST_PRICE]
        return (price, head[ASK_BEST_SIZE]) if price else None

    def top_arrays(self, n: int, out: Int64Array) -> tuple[int, int]:
        """Write the best ``n`` levels per side into ``out``, the fast path for publishing.

        ``out`` has shape ``(4, m)`` with rows bid price, bid size, ask price, ask size, each
        best-first; at most ``min(n, m)`` levels per side are written and the columns after them
        are left as they were. A C-contiguous int64 ``out`` is filled directly.

        Returns:
            (bid levels written, ask levels written).
        """
        shape = np.shape(out)
        if len(shape) != 2 or shape[0] != 4:
            raise ValueError(f"out must have 4 rows, got shape {shape}")
        m = min(n, shape[1])
        if m <= 0:
            return 0, 0
        bids = self._bid_keys[: -m - 1 : -1]
        asks = self._ask_keys[:m]
        if bids:
            out[0, : len(bids)] = bids
            out[1, : len(bids)] = [self._bids[price] for price in bids]
        if asks:
            out[2, : len(asks)] = asks
            out[3, : len(asks)] = [self._asks[price] for price in asks]
        return len(bids), len(asks)

    def top(self, n: int) -> tuple[list[Level], list[Level]]:
        """The best ``n`` levels per side as (bids best-first, asks best-first)."""
        if n <= 0:
            return [], []
        bids, asks = self._bids, self._asks
        return (
            [(price, bids[price]) for price in self._bid_keys[: -n - 1 : -1]],
            [(price, asks[price]) for price in self._ask_keys[:n]],
        )

    def levels(self) -> tuple[list[Level], list[Level]]:
        """Every level of both sides, best-first."""
        return self.top(max(self.depth()))

    def depth(self) -> tuple[int, int]:
        """Number of (bid levels, ask levels)."""
        head = self._head
        return (
            head[BID_COUNT] + head[BID_OVERFLOW],
            head[ASK_COUNT] + head[ASK_OVERFLOW],
        )

    def is_crossed(self) -> bool:
        """True when both sides have levels and the best bid is at or above the best ask."""
        head = self._head
        bid = head[BID_BEST_PRICE]
        ask = head[ASK_BEST_PRICE]
        return bool(bid and ask and bid >= ask)

    def check_uncrossed(self) -> None:
        """Raise if the book is crossed.

        Raises:
            CrossedBook: best bid at or above best ask.
        """
        if self.is_crossed():
            head = self._head
            raise CrossedBook(self.symbol, head[BID_BEST_PRICE], head[ASK_BEST_PRICE])

    def spread(self) -> int | None:
        """Best ask minus best bid in ticks (negative when crossed), or None if a side is empty."""
        head = self._head
        bid = head[BID_BEST_PRICE]
        ask = head[ASK_BEST_PRICE]
        return ask - bid if bid and ask else None

    def mid_x2(self) -> int | None:
        """Best bid plus best ask in ticks (twice the mid, so it stays an integer), or None."""
        head = self._head
        bid = head[BID_BEST_PRICE]
        ask = head[ASK_BEST_PRICE]
        return ask + bid if bid and ask else None
