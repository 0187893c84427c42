"""Books on either backend, the dict model they are checked against, and the check itself."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.book import order_book
from engine.book.ladder_book import LadderBook
from engine.book.order_book import OrderBook, fallback_book
from tests.strategies import BookLevels, int64s

BACKENDS = ("python", "ladder")
"""The pure-Python backend every book starts on, and the compiled ladder it moves to."""


def new_book(backend: str, symbol: str, window_ticks: int = 1 << 14) -> OrderBook:
    """An empty book on ``backend``, whatever the process has loaded."""
    if backend == "python":
        book = fallback_book(symbol, window_ticks=window_ticks)
        assert type(book) is OrderBook
        return book
    order_book.use_compiled()
    book = OrderBook(symbol, window_ticks=window_ticks)
    assert type(book) is LadderBook
    return book


def levels(
    bids: Sequence[tuple[int, int]] = (), asks: Sequence[tuple[int, int]] = ()
) -> BookLevels:
    """A message from (price, size) pairs per side."""
    return BookLevels(
        int64s([p for p, _ in bids]),
        int64s([s for _, s in bids]),
        int64s([p for p, _ in asks]),
        int64s([s for _, s in asks]),
    )


class DictBook:
    """The reference model: a dict per side, sorted on every read."""

    def __init__(self) -> None:
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}

    def snapshot(self, msg: BookLevels) -> None:
        """Replace everything with the message's levels."""
        self.bids.clear()
        self.asks.clear()
        self.delta(msg)

    def delta(self, msg: BookLevels) -> None:
        """Set absolute sizes in order; 0 deletes."""
        for side, px, sz in ((self.bids, msg[0], msg[1]), (self.asks, msg[2], msg[3])):
            for price, size in zip(px.tolist(), sz.tolist(), strict=True):
                if size:
                    side[price] = size
                else:
                    side.pop(price, None)

    def levels(self) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Both sides, best-first."""
        return sorted(self.bids.items(), reverse=True), sorted(self.asks.items())


def assert_matches(book: OrderBook, model: DictBook, n: int) -> None:
    """Every read of ``book`` agrees with the model."""
    bids, asks = model.levels()
    assert book.levels() == (bids, asks)
    assert book.top(n) == (bids[:n], asks[:n])
    assert book.depth() == (len(bids), len(asks))
    assert book.best_bid() == (bids[0] if bids else None)
    assert book.best_ask() == (asks[0] if asks else None)
    crossed = bool(bids and asks and bids[0][0] >= asks[0][0])
    assert book.is_crossed() is crossed
    out = np.full((4, n), -7, dtype=np.int64)
    n_bids, n_asks = book.top_arrays(n, out)
    assert (n_bids, n_asks) == (min(n, len(bids)), min(n, len(asks)))
    assert list(zip(out[0, :n_bids].tolist(), out[1, :n_bids].tolist(), strict=True)) == bids[:n]
    assert list(zip(out[2, :n_asks].tolist(), out[3, :n_asks].tolist(), strict=True)) == asks[:n]
    assert (out[:, max(n_bids, n_asks) :] == -7).all()


def state(book: OrderBook) -> tuple[object, ...]:
    """Everything a reader of ``book`` can see, to compare two books exactly."""
    out = np.zeros((4, 16), dtype=np.int64)
    return (
        book.levels(),
        book.update_id,
        book.update_count,
        book.best_bid(),
        book.best_ask(),
        book.depth(),
        book.is_crossed(),
        book.spread(),
        book.mid_x2(),
        book.top_arrays(16, out),
        out.tolist(),
    )
