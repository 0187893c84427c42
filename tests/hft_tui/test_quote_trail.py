"""The mid and spread trail: one point a step from live books, bounded, drawn as blocks."""

from __future__ import annotations

import pytest

from hft_tui.quote_trail import QuoteRecorder, sparkline
from tests.hft_tui.conftest import book_view

SECOND = 1_000_000_000


def test_one_point_a_step_the_last_view_wins():
    """Views in the same second replace each other; a new second adds a point."""
    rec = QuoteRecorder()
    rec.add(0, book_view(best_bid=100, spread=1))
    rec.add(SECOND // 2, book_view(best_bid=101, spread=2))
    rec.add(SECOND, book_view(best_bid=102, spread=1))
    points = rec.trail().points
    assert [(p.mid_x2, p.spread) for p in points] == [(204, 2), (205, 1)]
    assert points[0].ts_ns == SECOND // 2


def test_books_that_are_not_quotes_are_skipped():
    """A book that is not live, or has an empty side, adds nothing."""
    rec = QuoteRecorder()
    rec.add(0, book_view(state="syncing"))
    rec.add(SECOND, book_view(levels=0))
    assert rec.trail().points == ()


def test_the_newest_points_are_kept():
    """Past the capacity the oldest points go."""
    rec = QuoteRecorder(capacity=3)
    for n in range(5):
        rec.add(n * SECOND, book_view(best_bid=100 + n))
    assert [p.mid_x2 for p in rec.trail().points] == [205, 207, 209]


def test_a_bad_recorder_is_refused():
    """The step and capacity are checked."""
    with pytest.raises(ValueError, match="capacity"):
        QuoteRecorder(capacity=1)


def test_sparkline_scales_between_low_and_high():
    """Lowest is a sliver, highest a full block; a flat run sits mid height; the newest win."""
    assert sparkline([0, 7, 14], 3) == "▁▄█"
    assert sparkline([5, 5], 4) == "▄▄"
    assert sparkline([0, 1, 2, 3], 2) == "▁█"
    assert sparkline([], 5) == ""
