from __future__ import annotations

import pytest
from hypothesis import given, settings

from engine.book import OrderBook
from engine.book.analytics import depth_notional, imbalance, microprice, mid_x2
from tests.engine.book.books import BACKENDS, new_book
from tests.strategies import BookLevels, book_snapshots, int64s


@pytest.fixture
def book(make_book) -> OrderBook:
    """A book with two bids (100 x 3, 99 x 5) and two asks (102 x 1, 103 x 7)."""
    book = make_book("TEST")
    book.apply_snapshot(
        int64s([100, 99]), int64s([3, 5]), int64s([102, 103]), int64s([1, 7]), update_id=1
    )
    return book


def test_mid_x2_is_twice_the_mid(book):
    """mid_x2 is best bid plus best ask, an exact integer."""
    assert mid_x2(book) == 202


def test_microprice_leans_towards_the_thinner_side(book):
    """With 3 lots bid and 1 asked, the microprice sits nearer the ask."""
    assert microprice(book) == pytest.approx((100 * 1 + 102 * 3) / 4)  # 101.5, above the mid


def test_imbalance_over_the_top_levels(book):
    """Imbalance compares bid and ask size over the best n levels."""
    assert imbalance(book) == pytest.approx((3 - 1) / 4)
    assert imbalance(book, 2) == pytest.approx((8 - 8) / 16)


def test_depth_notional_is_exact(book):
    """Depth notional sums price times size per side in tick-lot units."""
    assert depth_notional(book, 1) == (300, 102)
    assert depth_notional(book, 10) == (300 + 495, 102 + 721)


def test_empty_or_one_sided_books_have_no_mid_or_microprice(make_book):
    """Without both sides there is no mid or microprice; imbalance and notional still answer."""
    book = make_book("TEST")
    assert mid_x2(book) is None
    assert microprice(book) is None
    assert imbalance(book, 5) == 0.0
    assert depth_notional(book, 5) == (0, 0)
    book.apply_delta(int64s([10]), int64s([4]), int64s([]), int64s([]), update_id=1)
    assert microprice(book) is None
    assert imbalance(book, 5) == 1.0
    assert depth_notional(book, 5) == (40, 0)


@pytest.mark.parametrize("depth_n", [0, -1])
def test_depth_below_one_is_refused(book, depth_n):
    """Imbalance and depth notional need at least one level."""
    with pytest.raises(ValueError, match="depth_n"):
        imbalance(book, depth_n)
    with pytest.raises(ValueError, match="depth_n"):
        depth_notional(book, depth_n)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=50, deadline=None)
@given(snapshot=book_snapshots())
def test_figures_stay_in_range(backend: str, snapshot: BookLevels) -> None:
    """Imbalance stays within [-1, 1] and an uncrossed microprice within the touch."""
    book = new_book(backend, "PROP")
    book.apply_snapshot(*snapshot, update_id=1)
    assert -1.0 <= imbalance(book, 5) <= 1.0
    bid, ask, micro = book.best_bid(), book.best_ask(), microprice(book)
    if bid and ask and micro is not None and not book.is_crossed():
        assert bid[0] <= micro <= ask[0]
