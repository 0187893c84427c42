"""Indicators against straightforward reference computations, on real trades where present."""

from __future__ import annotations

import csv
import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.strategy.indicators import (
    EMA,
    RSI,
    SMA,
    VWAP,
    Cross,
    RateOfChange,
    RealisedVolatility,
    rolling_high,
    rolling_low,
)

N = 20


@pytest.fixture
def trades(shared_data: Path) -> list[tuple[int, int]]:
    """Binance futures BTCUSDT trades (Tardis CSV) as (price in 0.01 ticks, size in 0.001 lots)."""
    path = shared_data / "nautilus_trader" / "tardis" / "trades.csv"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    with path.open() as f:
        return [
            (int(Decimal(r["price"]) * 100), int(Decimal(r["amount"]) * 1000))
            for r in csv.DictReader(f)
        ]


def ref_rsi(prices: list[int], n: int) -> list[float | None]:
    """Wilder's RSI written out step by step."""
    out: list[float | None] = [None]
    gain = loss = 0.0
    for i in range(1, len(prices)):
        change = float(prices[i]) - float(prices[i - 1])
        g, lo = max(change, 0.0), max(-change, 0.0)
        if i < n:
            gain, loss = gain + g, loss + lo
            out.append(None)
            continue
        if i == n:
            gain, loss = (gain + g) / n, (loss + lo) / n
        else:
            gain, loss = (gain * (n - 1) + g) / n, (loss * (n - 1) + lo) / n
        out.append(50.0 if gain + loss == 0 else 100.0 * (gain / (gain + loss)))
    return out


@pytest.mark.shared_data
def test_indicators_match_reference_on_real_trades(trades):
    """Every indicator, fed the capture trade by trade, equals its reference at every step."""
    prices = [p for p, _ in trades]
    sma, ema, rsi = SMA(N), EMA(N), RSI(14)
    high, low, roc, vol, vwap = (
        rolling_high(N),
        rolling_low(N),
        RateOfChange(N),
        RealisedVolatility(N),
        VWAP(N),
    )
    rsi_ref = ref_rsi(prices, 14)
    e = None
    alpha = 2.0 / (N + 1)
    for i, (price, size) in enumerate(trades):
        window = prices[max(0, i - N + 1) : i + 1]
        full = i >= N - 1
        assert sma.update(price) == (Fraction(sum(window), N) if full else None)
        assert high.update(price) == (max(window) if full else None)
        assert low.update(price) == (min(window) if full else None)
        e = float(price) if e is None else e + alpha * (price - e)
        assert ema.update(price) == e
        assert rsi.update(price) == rsi_ref[i]
        assert roc.update(price) == (
            Fraction(price - prices[i - N], prices[i - N]) if i >= N else None
        )
        last = trades[max(0, i - N + 1) : i + 1]
        assert vwap.update(price, size) == Fraction(
            sum(p * s for p, s in last), sum(s for _, s in last)
        )
        got = vol.update(price)
        if i >= N:
            rets = [math.log(prices[j] / prices[j - 1]) for j in range(i - N + 1, i + 1)]
            assert got == pytest.approx(math.sqrt(math.fsum(r * r for r in rets)), abs=1e-12)
        else:
            assert got is None


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 10**6), min_size=1, max_size=60), st.integers(1, 10))
def test_exact_indicators_match_reference_on_any_integers(values, n):
    """SMA and rolling high/low are exact on any integer series and window."""
    sma, high, low = SMA(n), rolling_high(n), rolling_low(n)
    for i, x in enumerate(values):
        window = values[max(0, i - n + 1) : i + 1]
        full = i >= n - 1
        assert sma.update(x) == (Fraction(sum(window), n) if full else None)
        assert high.update(x) == (max(window) if full else None)
        assert low.update(x) == (min(window) if full else None)


def test_warm_up_propagates_through_composed_indicators():
    """An SMA of a rate of change is unready until the rate of change is, then exact."""
    roc, sma = RateOfChange(2), SMA(2)
    out = [sma.update(roc.update(x)) for x in (100, 110, 121, 121)]
    assert out[:3] == [None, None, None]
    assert out[3] == (Fraction(21, 100) + Fraction(1, 10)) / 2


def test_cross_reports_each_crossing_once():
    """Fast over slow is +1 once, touching keeps the side, going under is -1 once."""
    cross = Cross()
    seen = [cross.update(f, s) for f, s in [(1, 2), (3, 2), (4, 2), (2, 2), (1, 2), (0, 2)]]
    assert seen == [0, 1, 0, 0, -1, 0]
    assert not cross.above


def test_rsi_is_100_with_only_gains_and_windows_must_be_positive():
    """Only rises give RSI 100; a window of 0 is refused."""
    rsi = RSI(3)
    values = [rsi.update(x) for x in (1, 2, 3, 4, 5)]
    assert values[:3] == [None, None, None]
    assert values[3:] == [100.0, 100.0]
    with pytest.raises(ValueError, match="window 0"):
        SMA(0)


def test_session_vwap_is_exact():
    """VWAP without a window weighs every trade: (100*1 + 103*2) / 3."""
    vwap = VWAP()
    vwap.update(100, 1)
    assert vwap.update(103, 2) == Fraction(306, 3)
