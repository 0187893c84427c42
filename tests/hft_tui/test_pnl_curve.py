"""PnlRecorder, resample and chart_cells: the session's PnL kept bounded and drawn from zero."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hft_tui.pnl_curve import PnlCurve, PnlRecorder, chart_cells, resample

S = 1_000_000_000


def test_one_point_per_step_the_last_value_wins():
    """Two pages in one second make one point, the later value; non-numbers are skipped."""
    rec = PnlRecorder()
    rec.add(10 * S, "1.5")
    rec.add(10 * S + 5, "2")
    rec.add(11 * S, "oops")
    rec.add(11 * S, "NaN")
    rec.add(12 * S, "-3.25")
    assert rec.curve().points == ((10 * S + 5, Decimal(2)), (12 * S, Decimal("-3.25")))
    assert rec.curve().last == Decimal("-3.25")


def test_an_unchanged_value_in_the_same_step_keeps_the_same_curve():
    """No new point, no new object: the chart has nothing to redraw."""
    rec = PnlRecorder()
    rec.add(S, "1")
    curve = rec.curve()
    rec.add(S + 10, "1")
    assert rec.curve() is curve


def test_memory_is_bounded_by_merging_neighbours():
    """Past the capacity pairs merge and the step doubles; the newest value is kept."""
    rec = PnlRecorder(step_ns=S, capacity=8)
    for n in range(100):
        rec.add(n * S, str(n))
    points = rec.curve().points
    assert len(points) <= 8
    assert points[-1][1] == Decimal(99)
    assert rec.step_ns > S
    assert [t for t, _ in points] == sorted(t for t, _ in points)


def test_bad_settings_are_refused():
    """A zero step or a capacity below two cannot hold a curve."""
    with pytest.raises(ValueError, match="step_ns"):
        PnlRecorder(step_ns=0)


def test_resample_takes_the_last_value_in_each_slice():
    """Four points over 3 s into 3 columns."""
    curve = PnlCurve(((0, Decimal(0)), (S, Decimal(1)), (2 * S, Decimal(2)), (3 * S, Decimal(-1))))
    assert resample(curve, 3) == [1.0, 2.0, -1.0]
    assert resample(PnlCurve(), 3) == []


def test_chart_rises_above_zero_and_hangs_below_it():
    """A profit fills the rows above the zero line from below, a loss the rows under it."""
    rows, zero, top, bottom = chart_cells([2.0, 1.0, 0.0, -2.0], 4)
    assert zero == 2
    assert top == 2.0
    assert bottom == -2.0
    assert [row[0] for row in rows] == ["█", "█", " ", " "]
    assert [row[1] for row in rows] == [" ", "█", " ", " "]
    assert [row[2] for row in rows] == [" ", " ", " ", " "]
    assert [row[3] for row in rows] == [" ", " ", "█", "█"]


def test_a_flat_profit_only_day_has_no_loss_rows():
    """Every row is above zero when the PnL never went below it."""
    rows, zero, _, bottom = chart_cells([0.5, 1.0], 3)
    assert zero == 3
    assert bottom == 0.0
    assert rows == [" █", "▄█", "██"]
