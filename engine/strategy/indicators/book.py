"""Book features a strategy can follow: microprice, imbalance at depth N, depth-weighted mid.

Each reads one book (:class:`~engine.strategy.context.BookReader`, or any
:class:`~engine.book.analytics.BookLevels`) through :mod:`engine.book.analytics` and keeps its last
value, so it can feed another indicator (an EMA of the imbalance); a book with an empty side gives
None, and None propagates. A crossed book gives None too: it is never a valid book to act on.
"""

from __future__ import annotations

from fractions import Fraction

from engine.book import analytics
from engine.book.analytics import BookLevels
from engine.strategy.indicators._common import window


def _two_sided(book: BookLevels) -> bool:
    bid, ask = book.best_bid(), book.best_ask()
    return bid is not None and ask is not None and bid[0] < ask[0]


class Microprice:
    """The touch's size-weighted mid in ticks (float); None for a one-sided or crossed book."""

    def __init__(self) -> None:
        self.value: float | None = None

    def update(self, book: BookLevels | None) -> float | None:
        """Read one book."""
        if book is None:
            return None
        self.value = analytics.microprice(book) if _two_sided(book) else None
        return self.value


class BookImbalance:
    """``(bids - asks) / (bids + asks)`` over the best ``depth`` levels of each side (float).

    Raises:
        ValueError: ``depth`` below 1.
    """

    def __init__(self, depth: int = 1) -> None:
        self.depth = window(depth, "BookImbalance")
        self.value: float | None = None

    def update(self, book: BookLevels | None) -> float | None:
        """Read one book."""
        if book is None:
            return None
        self.value = analytics.imbalance(book, self.depth) if _two_sided(book) else None
        return self.value


class DepthWeightedMid:
    """The mean of each side's size-weighted average price over its best ``depth`` levels, exact.

    ``(bid_notional / bid_size + ask_notional / ask_size) / 2`` in ticks: with one level it is
    the mid; deeper levels pull it towards where the size rests.

    Raises:
        ValueError: ``depth`` below 1.
    """

    def __init__(self, depth: int = 5) -> None:
        self.depth = window(depth, "DepthWeightedMid")
        self.value: Fraction | None = None

    def update(self, book: BookLevels | None) -> Fraction | None:
        """Read one book."""
        if book is None:
            return None
        if not _two_sided(book):
            self.value = None
            return None
        bids, asks = book.top(self.depth)
        bid_notional, ask_notional = analytics.depth_notional(book, self.depth)
        bid_size = sum(s for _, s in bids)
        ask_size = sum(s for _, s in asks)
        self.value = (Fraction(bid_notional, bid_size) + Fraction(ask_notional, ask_size)) / 2
        return self.value
