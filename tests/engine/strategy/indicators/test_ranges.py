"""Time bars and ATR against plain loops on real trades; rolling extremes against numpy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.strategy.indicators import ATR, Bar, TimeBars, rolling_high, rolling_low
from tests.engine.strategy.indicators.conftest import SpotTrade

SECOND = 1_000_000_000


def ref_bars(trades: list[SpotTrade], interval: int) -> list[Bar]:
    """Group trades by ``ts // interval`` and read OHLCV from each group."""
    groups: dict[int, list[SpotTrade]] = {}
    for t in trades:
        groups.setdefault(t[0] // interval, []).append(t)
    return [
        Bar(
            start_ns=key * interval,
            open=g[0][1],
            high=max(p for _, p, _, _ in g),
            low=min(p for _, p, _, _ in g),
            close=g[-1][1],
            volume=sum(s for _, _, s, _ in g),
            trades=len(g),
        )
        for key, g in sorted(groups.items())
    ]


def ref_atr(bars: list[Bar], n: int) -> list[float | None]:
    """Wilder's ATR written out."""
    out: list[float | None] = []
    total, atr, prev = 0.0, None, None
    for i, b in enumerate(bars):
        h, lo = float(b.high), float(b.low)
        tr = h - lo if prev is None else max(h - lo, abs(h - prev), abs(lo - prev))
        prev = float(b.close)
        if i < n:
            total += tr
            atr = total / n if i == n - 1 else None
        else:
            atr = (atr * (n - 1) + tr) / n
        out.append(atr)
    return out


@pytest.mark.shared_data
def test_time_bars_and_atr_match_plain_loops_on_real_trades(spot_trades: list[SpotTrade]):
    """One-second bars equal grouping by second; ATR(14) over them equals Wilder's loop."""
    bars = TimeBars(SECOND)
    got = [b for t in spot_trades if (b := bars.update(t[0], t[1], t[2])) is not None]
    last = bars.flush()
    assert last is not None
    got.append(last)
    expected = ref_bars(spot_trades, SECOND)
    assert got == expected
    assert len(got) > 500
    atr = ATR(14)
    assert [atr.update_bar(b) for b in got] == ref_atr(expected, 14)


@pytest.mark.shared_data
def test_rolling_extremes_match_numpy_on_real_trades(spot_trades: list[SpotTrade]):
    """Rolling high and low of 50 trades equal numpy's max and min over each window."""
    n = 50
    prices = np.array([p for _, p, _, _ in spot_trades], dtype=np.int64)
    windows = np.lib.stride_tricks.sliding_window_view(prices, n)
    high, low = rolling_high(n), rolling_low(n)
    for i, price in enumerate(prices.tolist()):
        h, lo = high.update(price), low.update(price)
        if i >= n - 1:
            assert (h, lo) == (int(windows[i - n + 1].max()), int(windows[i - n + 1].min()))
        else:
            assert h is None
            assert lo is None


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 50), st.integers(1, 1000), st.integers(1, 9)),
        min_size=1,
        max_size=60,
    ),
    st.integers(1, 7),
)
def test_bars_on_any_trades(steps: list[tuple[int, int, int]], interval: int):
    """Any increasing times: the bars equal the grouping, and nothing is lost."""
    ts, trades = 0, []
    for gap, price, size in steps:
        ts += gap
        trades.append((ts, price, size, None))
    bars = TimeBars(interval)
    got = [b for t in trades if (b := bars.update(t[0], t[1], t[2])) is not None]
    if (last := bars.flush()) is not None:
        got.append(last)
    assert got == ref_bars(trades, interval)  # type: ignore[arg-type]
    assert sum(b.trades for b in got) == len(trades)


def test_atr_waits_for_its_window_and_takes_none():
    """Unready for n - 1 bars; None adds nothing."""
    atr = ATR(3)
    assert atr.update(10, 8, 9) is None
    assert atr.update(None) is None
    assert atr.update(12, 9, 11) is None
    assert atr.update(11, 10, 10) == pytest.approx((2 + 3 + 1) / 3)
    with pytest.raises(ValueError, match="ATR: window 0"):
        ATR(0)
