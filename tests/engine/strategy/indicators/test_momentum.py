"""RSI, rate of change and crosses against plain loops on the spot BTCUSDT trades."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.strategy.indicators import RSI, SMA, Cross, RateOfChange
from tests.engine.strategy.indicators.conftest import SpotTrade
from tests.engine.strategy.test_indicators import ref_rsi


def ref_crosses(fast: list[Fraction | None], slow: list[Fraction | None]) -> list[int]:
    """+1/-1 where the sign of fast - slow flips from the last non-zero sign, else 0."""
    out, last = [], 0
    for f, s in zip(fast, slow, strict=True):
        if f is None or s is None or f == s:
            out.append(0)
            continue
        sign = 1 if f > s else -1
        out.append(sign if last and sign != last else 0)
        last = sign
    return out


@pytest.mark.shared_data
def test_rsi_roc_and_crosses_match_loops_on_real_trades(spot_trades: list[SpotTrade]):
    """RSI(14) equals Wilder's loop, ROC(30) the exact ratio, and SMA 10/40 crosses the loop's."""
    prices = [p for _, p, _, _ in spot_trades]
    rsi, roc = RSI(14), RateOfChange(30)
    assert [rsi.update(p) for p in prices] == ref_rsi(prices, 14)
    for i, p in enumerate(prices):
        expected = Fraction(p - prices[i - 30], prices[i - 30]) if i >= 30 else None
        assert roc.update(p) == expected
    fast, slow = SMA(10), SMA(40)
    fs = [fast.update(p) for p in prices]
    ss = [slow.update(p) for p in prices]
    cross = Cross()
    got = [cross.update(f, s) for f, s in zip(fs, ss, strict=True)]
    assert got == ref_crosses(fs, ss)
    assert got.count(1) > 5
    assert got.count(-1) > 5


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 1000), min_size=2, max_size=80), st.integers(1, 10))
def test_rsi_on_any_prices_is_wilders_and_within_bounds(prices: list[int], n: int):
    """Any prices and window: Wilder's loop, and always 0..100 once ready."""
    rsi = RSI(n)
    got = [rsi.update(p) for p in prices]
    assert got == ref_rsi(prices, n)
    assert all(0.0 <= v <= 100.0 for v in got if v is not None)
