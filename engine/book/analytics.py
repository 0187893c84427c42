"""Read-only figures of an order book: mid, microprice, imbalance and depth notional.

Pure functions of a book's current levels; none changes the book. Prices are integer ticks and
sizes integer lots, so integer results (``mid_x2``, ``depth_notional``) are exact, and the ratios
(``microprice``, ``imbalance``) are floats meant for signals and display, never for prices sent
to a venue. None of them checks whether the book is crossed; callers that act on a figure check
:meth:`~engine.book.order_book.OrderBook.is_crossed` first, as they do for the touch itself.
"""

from __future__ import annotations

from typing import Protocol

from engine.book.order_book import Level


class BookLevels(Protocol):
    """The parts of a book these figures read: an OrderBook, or a strategy's read-only view."""

    def best_bid(self) -> Level | None:
        """Best bid (price ticks, size lots), or None."""
        ...

    def best_ask(self) -> Level | None:
        """Best ask (price ticks, size lots), or None."""
        ...

    def top(self, n: int) -> tuple[list[Level], list[Level]]:
        """The best ``n`` levels of each side, best first."""
        ...

    def mid_x2(self) -> int | None:
        """Best bid plus best ask, or None."""
        ...


def mid_x2(book: BookLevels) -> int | None:
    """Best bid plus best ask in ticks (twice the mid, exact), or None if a side is empty."""
    return book.mid_x2()


def microprice(book: BookLevels) -> float | None:
    """The touch's size-weighted mid in ticks, as a float, or None if a side is empty.

    ``(bid * ask_size + ask * bid_size) / (bid_size + ask_size)``: it leans towards the side with
    less size, where the next trade is more likely to move the price.
    """
    bid = book.best_bid()
    ask = book.best_ask()
    if bid is None or ask is None:
        return None
    (bid_px, bid_sz), (ask_px, ask_sz) = bid, ask
    return (bid_px * ask_sz + ask_px * bid_sz) / (bid_sz + ask_sz)


def imbalance(book: BookLevels, depth_n: int = 1) -> float:
    """Size imbalance of the best ``depth_n`` levels: ``(bids - asks) / (bids + asks)``.

    +1.0 means all the size is bid, -1.0 all asked, 0.0 balanced or an empty book.

    Raises:
        ValueError: ``depth_n`` is below 1.
    """
    if depth_n < 1:
        raise ValueError(f"depth_n must be at least 1, got {depth_n}")
    bids, asks = book.top(depth_n)
    bid_size = sum(size for _, size in bids)
    ask_size = sum(size for _, size in asks)
    total = bid_size + ask_size
    return (bid_size - ask_size) / total if total else 0.0


def depth_notional(book: BookLevels, depth_n: int) -> tuple[int, int]:
    """Sum of price times size over the best ``depth_n`` levels of (bids, asks).

    In tick-lot units: multiply by tick size times lot size for quote currency. Exact integers.

    Raises:
        ValueError: ``depth_n`` is below 1.
    """
    if depth_n < 1:
        raise ValueError(f"depth_n must be at least 1, got {depth_n}")
    bids, asks = book.top(depth_n)
    return sum(px * sz for px, sz in bids), sum(px * sz for px, sz in asks)
