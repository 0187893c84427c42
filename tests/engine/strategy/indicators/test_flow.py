"""Trade-flow imbalance, VWAP and realised volatility against plain loops on real trades."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.events import Side
from engine.strategy.indicators import (
    EMA,
    VWAP,
    RealisedVolatility,
    TradeFlowImbalance,
)
from tests.engine.strategy.indicators.conftest import SpotTrade


@pytest.mark.shared_data
def test_flow_vwap_and_volatility_match_loops_on_real_trades(spot_trades: list[SpotTrade]):
    """Every step of the capture: exact flow and VWAP, volatility to rounding."""
    n = 100
    flow, vwap, vol = TradeFlowImbalance(n), VWAP(n), RealisedVolatility(n)
    prices = [p for _, p, _, _ in spot_trades]
    for i, (_, price, size, side) in enumerate(spot_trades):
        last = spot_trades[max(0, i - n + 1) : i + 1]
        got = flow.update(size, side)
        if i >= n - 1:
            bought = sum(s for _, _, s, a in last if a is Side.BUY)
            sold = sum(s for _, _, s, a in last if a is Side.SELL)
            assert got == Fraction(bought - sold, bought + sold)
        else:
            assert got is None
        assert vwap.update(price, size) == Fraction(
            sum(p * s for _, p, s, _ in last), sum(s for _, _, s, _ in last)
        )
        v = vol.update(price)
        if i >= n:
            rets = [math.log(prices[j] / prices[j - 1]) for j in range(i - n + 1, i + 1)]
            assert v == pytest.approx(math.sqrt(math.fsum(r * r for r in rets)), abs=1e-12)
        else:
            assert v is None
    sides = {a for *_, a in spot_trades}
    assert sides == {Side.BUY, Side.SELL}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 10**6), st.booleans()), min_size=1, max_size=60))
def test_flow_on_any_trades(trades: list[tuple[int, bool]]):
    """Any sizes and sides, window 5: the signed share of taker volume, within -1..1."""
    flow = TradeFlowImbalance(5)
    for i, (size, buy) in enumerate(trades):
        got = flow.update(size, Side.BUY if buy else Side.SELL)
        window = trades[max(0, i - 4) : i + 1]
        if i < 4:
            assert got is None
            continue
        signed = sum(s if b else -s for s, b in window)
        assert got == Fraction(signed, sum(s for s, _ in window))
        assert -1 <= got <= 1


def test_an_ema_of_the_flow_waits_for_it():
    """An indicator of an indicator: the EMA stays None until the flow is ready."""
    flow, ema = TradeFlowImbalance(2), EMA(3)
    assert ema.update(flow.update(5, Side.BUY)) is None
    assert ema.update(flow.update(5, Side.SELL)) == 0.0
    assert flow.update(None) is None
