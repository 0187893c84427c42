"""SMA, EMA, MACD and Bollinger bands against plain loops and numpy over the window."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.strategy.indicators import EMA, MACD, SMA, Bollinger, RateOfChange
from tests.engine.strategy.indicators.conftest import SpotTrade


def ref_ema(values: list[float], n: int) -> list[float]:
    """EMA seeded by the first value, alpha 2 / (n + 1)."""
    alpha, out, e = 2.0 / (n + 1), [], None
    for v in values:
        e = v if e is None else e + alpha * (v - e)
        out.append(e)
    return out


@pytest.mark.shared_data
def test_macd_matches_three_plain_emas_on_real_trades(spot_trades: list[SpotTrade]):
    """MACD line, signal and histogram equal the loop over the fast, slow and signal EMAs."""
    prices = [float(p) for _, p, _, _ in spot_trades]
    fast, slow = ref_ema(prices, 12), ref_ema(prices, 26)
    line = [f - s for f, s in zip(fast, slow, strict=True)]
    signal = ref_ema(line, 9)
    macd = MACD(12, 26, 9)
    for i, (_, price, _, _) in enumerate(spot_trades):
        got = macd.update(price)
        assert got is not None
        assert got.macd == line[i]
        assert got.signal == signal[i]
        assert got.histogram == line[i] - signal[i]


@pytest.mark.shared_data
def test_bollinger_matches_numpy_windows_on_real_trades(spot_trades: list[SpotTrade]):
    """The middle band is the exact window mean; the width is k times numpy's population std."""
    n, k = 20, 2.0
    prices = np.array([p for _, p, _, _ in spot_trades], dtype=np.int64)
    windows = np.lib.stride_tricks.sliding_window_view(prices, n)
    bands = Bollinger(n, k)
    for i, (_, price, _, _) in enumerate(spot_trades):
        got = bands.update(price)
        if i < n - 1:
            assert got is None
            continue
        assert got is not None
        w = windows[i - n + 1]
        assert got.middle == Fraction(int(w.sum()), n)
        std = float(np.std(w.astype(np.float64)))
        assert got.width == pytest.approx(k * std, rel=1e-9, abs=1e-6)
        assert got.upper - got.lower == pytest.approx(2 * got.width)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 10**7), min_size=1, max_size=80), st.integers(1, 12))
def test_bollinger_and_sma_on_any_integers(values: list[int], n: int):
    """Any series and window: the middle band is the SMA and the width the exact variance's root."""
    bands, sma = Bollinger(n, 1.5), SMA(n)
    for i, x in enumerate(values):
        got, mean = bands.update(x), sma.update(x)
        if i < n - 1:
            assert got is None
            assert mean is None
            continue
        window = values[i - n + 1 : i + 1]
        assert got is not None
        assert got.middle == mean == Fraction(sum(window), n)
        variance = sum((Fraction(v) - mean) ** 2 for v in window) / n
        assert got.width == pytest.approx(1.5 * math.sqrt(variance), rel=1e-12, abs=1e-9)


def test_macd_warms_up_through_its_input_and_refuses_bad_windows():
    """A MACD fed by a rate of change waits for it; a fast window not below the slow one fails."""
    roc, macd = RateOfChange(3), MACD(2, 4, 2)
    assert [macd.update(roc.update(x)) for x in (100, 101, 102)] == [None, None, None]
    assert macd.update(roc.update(103)) is not None
    with pytest.raises(ValueError, match="fast window 5 must be shorter than slow window 5"):
        MACD(5, 5)
    with pytest.raises(ValueError, match="k -1"):
        Bollinger(5, -1)


def test_ema_of_none_changes_nothing():
    """None in is None out and leaves the average where it was."""
    ema = EMA(3)
    ema.update(10)
    assert ema.update(None) is None
    assert ema.value == 10.0
