"""The matching core's mirror of the public book: level sizes per side, and what we took from them.

Each side maps price ticks to public size lots, with its prices kept sorted so the best level and
a best-first walk are cheap. Two counters ride along per level, both cleared whenever the feed next
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


class BookSide:
    """One side of the mirror: ``BUY`` bids (best is highest) or ``SELL`` asks (best is lowest)."""

    __slots__ = ("is_bid", "prices", "sizes", "taken", "traded")

    def __init__(self, side: Side) -> None:
        self.is_bid = side is Side.BUY
        self.sizes: dict[int, int] = {}
        """Price ticks -> public size lots, as last reported."""
        self.prices: list[int] = []
        """The prices of :attr:`sizes`, ascending."""
        self.taken: dict[int, int] = {}
        """Lots our aggressive orders took at a price since its last report."""
        self.traded: dict[int, int] = {}
        """Lots traded at a price since its last report."""

    def set(self, price: int, size: int) -> tuple[int, int]:
        """Record a level report: the new absolute ``size`` (0 deletes).

        Returns:
            ``(previous size, lots traded there since the previous report)``.
        """
        sizes = self.sizes
        prev = sizes.get(price, 0)
        traded = self.traded.pop(price, 0) if self.traded else 0
        if self.taken:
            self.taken.pop(price, None)
        if size:
            if not prev:
                insort(self.prices, price)
            sizes[price] = size
        elif prev:
            del sizes[price]
            prices = self.prices
            del prices[bisect_left(prices, price)]
        return prev, traded

    def update(self, prices: list[int], sizes: list[int]) -> None:
        """Record many level reports at once, as :meth:`set` for each in turn would.

        For levels none of our orders care about (the caller keeps the others apart): nothing is
        returned, and the ``traded`` and ``taken`` counters of the prices reported are dropped.
        """
        traded, taken = self.traded, self.taken
        if traded:
            for price in traded.keys() & prices:
                del traded[price]
        if taken:
            for price in taken.keys() & prices:
                del taken[price]
        book, ladder = self.sizes, self.prices
        for price, size in zip(prices, sizes, strict=True):
            if size:
                if price not in book:
                    insort(ladder, price)
                book[price] = size
            elif price in book:
                del book[price]
                del ladder[bisect_left(ladder, price)]

    def reset(self, prices: list[int], sizes: list[int]) -> None:
        """Replace every level by a full image (a snapshot); a later duplicate price wins."""
        self.clear()
        book = self.sizes
        book.update(zip(prices, sizes, strict=True))
        if 0 in book.values():
            for price in [price for price, size in book.items() if not size]:
                del book[price]
        self.prices[:] = sorted(book)

    def clear(self) -> None:
        """Forget every level (before a snapshot)."""
        self.sizes.clear()
        self.prices.clear()
        self.taken.clear()
        self.traded.clear()

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
        prices = self.prices
        if not prices:
            return None
        return prices[-1] if self.is_bid else prices[0]

    def best_available(self) -> int | None:
        """The best price with lots still available to take, or None."""
        if not self.taken:
            return self.best()
        for price in self.walk():
            return price
        return None

    def walk(self, limit: int | None = None) -> Iterator[int]:
        """Prices with available lots, best first, up to and including ``limit`` when given."""
        prices = self.prices
        sizes, taken = self.sizes, self.taken
        if self.is_bid:
            stop = 0 if limit is None else bisect_left(prices, limit)
            for i in range(len(prices) - 1, stop - 1, -1):
                price = prices[i]
                if sizes[price] > taken.get(price, 0):
                    yield price
        else:
            for price in prices:
                if limit is not None and price > limit:
                    return
                if sizes[price] > taken.get(price, 0):
                    yield price


class BookMirror:
    """Both sides of one instrument's public book."""

    __slots__ = ("asks", "bids")

    def __init__(self) -> None:
        self.bids = BookSide(Side.BUY)
        self.asks = BookSide(Side.SELL)

    def side(self, side: Side) -> BookSide:
        """The bids for ``BUY``, the asks for ``SELL``."""
        return self.bids if side is Side.BUY else self.asks
