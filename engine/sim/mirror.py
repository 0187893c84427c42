"""The matching core's mirror of the public book: level sizes per side, and what we took from them.

Each side maps price ticks to public size lots, with its prices kept sorted so the best level and
a best-first walk are cheap (only the levels near the best are kept in order; see
:class:`BookSide`). Two counters ride along per level, both cleared whenever the feed next
reports the level (the report is the market's new word on it):

* ``taken``: lots our own aggressive orders took there. They are not available to take again, so
  a book we do not change is never double-dipped.
* ``traded``: lots printed there (public trades, and our own takes) since the last report, which
  the queue models subtract from a size decrease so a trade is not counted twice.

Levels are checked on the way in (:func:`check_level`, :func:`checked_levels`): a price must be
positive and a size not negative, or :class:`MarketDataError` names the instrument and the level.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator

from engine.book import order_book
from engine.core.events import Int64Array, Side
from engine.sim import SimError


class MarketDataError(SimError):
    """A level or trade fed to the matching core had an impossible price, size or shape."""


def check_level(where: str, side: Side, price: int, size: int, what: str = "level") -> None:
    """Refuse a level (or a trade, ``what``) with a price <= 0 or a negative size.

    Raises:
        MarketDataError: naming ``where`` (the instrument), the side, price and size.
    """
    if price <= 0 or size < 0:
        raise MarketDataError(f"{where}: impossible {side.name} {what} {size} lots @ {price} ticks")


def checked_levels(
    where: str, side: Side, prices: Int64Array, sizes: Int64Array
) -> list[tuple[int, int]]:
    """One side of a snapshot or delta as checked ``(price, size)`` pairs.

    Raises:
        MarketDataError: the arrays differ in length, or a level is impossible.
    """
    if len(prices) != len(sizes):
        raise MarketDataError(
            f"{where}: {side.name} side has {len(prices)} prices but {len(sizes)} sizes"
        )
    pairs = list(zip(prices.tolist(), sizes.tolist(), strict=True))
    for price, size in pairs:
        check_level(where, side, price, size)
    return pairs


def level_lists(
    where: str, side: Side, prices: Int64Array, sizes: Int64Array
) -> tuple[list[int], list[int]]:
    """One side of a delta as checked price and size lists.

    The batch form of :func:`checked_levels`: one look at the extremes instead of a check per
    level.

    Raises:
        MarketDataError: the arrays differ in length, or a level is impossible (the first one
            named, as :func:`checked_levels` does).
    """
    if len(prices) != len(sizes):
        raise MarketDataError(
            f"{where}: {side.name} side has {len(prices)} prices but {len(sizes)} sizes"
        )
    px: list[int] = prices.tolist()
    sz: list[int] = sizes.tolist()
    if px and (min(px) <= 0 or min(sz) < 0):
        checked_levels(where, side, prices, sizes)
    return px, sz


NEAR_LEVELS = 256
"""Levels a side keeps sorted next to its best; the rest are kept unordered until needed."""
_BOTTOM = -(1 << 63)


class BookSide:
    """One side of the mirror: ``BUY`` bids (best is highest) or ``SELL`` asks (best is lowest).

    Prices are handled as keys, ``price`` for bids and ``-price`` for asks, so the best level is
    always the highest key. The keys at or above ``floor`` (about :data:`NEAR_LEVELS` of them, the
    levels near the best) are one ascending list, the best last; the keys below it, far from the
    touch, are an unordered set, so the far levels a feed keeps adding and deleting cost a set
    operation instead of moving a list of thousands of prices. The far set is sorted only when a
    walk goes past the near levels, and refills the near list when that runs empty.
    """

    __slots__ = ("_far", "_floor", "_near", "_sign", "is_bid", "sizes", "taken", "traded")

    def __init__(self, side: Side) -> None:
        self.is_bid = side is Side.BUY
        self._sign = 1 if self.is_bid else -1
        self.sizes: dict[int, int] = {}
        """Price ticks -> public size lots, as last reported."""
        self._near: list[int] = []
        """Ascending keys at or above :attr:`_floor`; the best is last."""
        self._far: set[int] = set()
        """Keys below :attr:`_floor`."""
        self._floor = _BOTTOM
        self.taken: dict[int, int] = {}
        """Lots our aggressive orders took at a price since its last report."""
        self.traded: dict[int, int] = {}
        """Lots traded at a price since its last report."""

    def set(self, price: int, size: int) -> tuple[int, int]:
        """Record a level report: the new absolute ``size`` (0 deletes).

        Returns:
            ``(previous size, lots traded there since the previous report)``.
        """
        book = self.sizes
        prev = book.get(price, 0)
        traded = self.traded.pop(price, 0) if self.traded else 0
        if self.taken:
            self.taken.pop(price, None)
        if size:
            if not prev:
                key = price * self._sign
                if key >= self._floor:
                    insort(self._near, key)
                else:
                    self._far.add(key)
                self._balance()
            book[price] = size
        elif prev:
            del book[price]
            key = price * self._sign
            if key >= self._floor:
                near = self._near
                del near[bisect_left(near, key)]
            else:
                self._far.remove(key)
            self._balance()
        return prev, traded

    def update(
        self,
        prices: list[int],
        sizes: list[int],
        px: Int64Array | None = None,
        sz: Int64Array | None = None,
    ) -> None:
        """Record many level reports at once, as :meth:`set` for each in turn would.

        For levels none of our orders care about (the caller keeps the others apart): nothing is
        returned, and the ``traded`` and ``taken`` counters of the prices reported are dropped.
        ``px`` and ``sz``, the same levels as arrays, are for the ladder side and unused here.
        """
        traded, taken = self.traded, self.taken
        if traded:
            for price in traded.keys() & prices:
                del traded[price]
        if taken:
            for price in taken.keys() & prices:
                del taken[price]
        book, near, far = self.sizes, self._near, self._far
        sign, floor = self._sign, self._floor
        for price, size in zip(prices, sizes, strict=True):
            if size:
                if price not in book:
                    key = price * sign
                    if key >= floor:
                        insort(near, key)
                    else:
                        far.add(key)
                book[price] = size
            elif price in book:
                del book[price]
                key = price * sign
                if key >= floor:
                    del near[bisect_left(near, key)]
                else:
                    far.remove(key)
        self._balance()

    def reset(self, prices: list[int], sizes: list[int]) -> None:
        """Replace every level by a full image (a snapshot); a later duplicate price wins."""
        self.clear()
        book = self.sizes
        book.update(zip(prices, sizes, strict=True))
        if 0 in book.values():
            for price in [price for price, size in book.items() if not size]:
                del book[price]
        sign = self._sign
        self._near[:] = sorted(price * sign for price in book)
        self._balance()

    def _balance(self) -> None:
        """Keep about :data:`NEAR_LEVELS` keys sorted at the best end (the floor moves)."""
        near, far = self._near, self._far
        if len(near) > 2 * NEAR_LEVELS:
            cut = len(near) - NEAR_LEVELS
            far.update(near[:cut])
            del near[:cut]
            self._floor = near[0]
        elif not near and far:
            top = sorted(far)[-NEAR_LEVELS:]
            far.difference_update(top)
            near[:] = top
            self._floor = top[0]

    def clear(self) -> None:
        """Forget every level (before a snapshot)."""
        self.sizes.clear()
        self._near.clear()
        self._far.clear()
        self._floor = _BOTTOM
        self.taken.clear()
        self.traded.clear()

    def levels(self) -> list[tuple[int, int]]:
        """Every level ``(price, size)``, best first."""
        sign, book = self._sign, self.sizes
        keys = sorted(self._far, reverse=True) if self._far else []
        return [(key * sign, book[key * sign]) for key in [*reversed(self._near), *keys]]

    def size(self, price: int) -> int:
        """The public size reported at ``price`` (0 when there is no level)."""
        return self.sizes.get(price, 0)

    def available(self, price: int) -> int:
        """Lots at ``price`` that our orders may still take."""
        size = self.sizes.get(price, 0)
        if size and self.taken:
            return size - self.taken.get(price, 0)
        return size

    def take(self, price: int, lots: int) -> None:
        """Our aggressive order took ``lots`` at ``price``."""
        self.taken[price] = self.taken.get(price, 0) + lots
        self.traded[price] = self.traded.get(price, 0) + lots

    def add_traded(self, price: int, lots: int) -> None:
        """A public trade printed ``lots`` at ``price`` on this side's resting orders."""
        self.traded[price] = self.traded.get(price, 0) + lots

    def best(self) -> int | None:
        """The best reported price, taken or not, or None for an empty side."""
        near = self._near
        return near[-1] * self._sign if near else None  # the near list is empty only with the far

    def best_available(self) -> int | None:
        """The best price with lots still available to take, or None."""
        if not self.taken:
            return self.best()
        for price in self.walk():
            return price
        return None

    def walk(self, limit: int | None = None) -> Iterator[int]:
        """Prices with available lots, best first, up to and including ``limit`` when given."""
        sign, sizes, taken = self._sign, self.sizes, self.taken
        bound = _BOTTOM if limit is None else limit * sign
        near = self._near
        for i in range(len(near) - 1, bisect_left(near, bound) - 1, -1):
            price = near[i] * sign
            if sizes[price] > taken.get(price, 0):
                yield price
        if bound < self._floor and self._far:
            for key in sorted((k for k in self._far if k >= bound), reverse=True):
                price = key * sign
                if sizes[price] > taken.get(price, 0):
                    yield price


class BookMirror:
    """Both sides of one instrument's public book.

    On the compiled ladder (:class:`~engine.sim.mirror_ladder.LadderSide`) once the process uses
    the compiled kernels (:func:`engine.book.order_book.compiled`), else on :class:`BookSide`;
    both behave the same, level for level.
    """

    __slots__ = ("asks", "bids")

    def __init__(self) -> None:
        if order_book.compiled():
            from engine.sim import mirror_ladder  # imports numba: only once kernels are in use

            mirror_ladder.load()
            self.bids: BookSide = mirror_ladder.LadderSide(Side.BUY)  # type: ignore[assignment]
            self.asks: BookSide = mirror_ladder.LadderSide(Side.SELL)  # type: ignore[assignment]
        else:
            self.bids = BookSide(Side.BUY)
            self.asks = BookSide(Side.SELL)

    def side(self, side: Side) -> BookSide:
        """The bids for ``BUY``, the asks for ``SELL``."""
        return self.bids if side is Side.BUY else self.asks
