"""Incremental indicators: O(1) per update, None until warmed up, composable.

Each indicator has ``update(...)`` returning its new value, or None while it warms up; passing None
in returns None and changes nothing, so an indicator fed from another (an SMA of a rate of
change, an EMA of the book imbalance) stays unready until its input is ready: warm-up propagates.

Arithmetic: SMA, Bollinger's middle band, rolling high/low, VWAP, rate of change, trade-flow
imbalance and the depth-weighted mid are exact on integer inputs (ticks, lots): sums are integers
and results :class:`~fractions.Fraction`. EMA, MACD, RSI and ATR (Wilder's smoothing), Bollinger's
width, microprice, book imbalance and realised volatility are floats, as their usual definitions
are; their running sums are float sums in update order, so a straightforward loop doing the same
operations gives the same figures to rounding.

- :mod:`.averages`: :class:`SMA`, :class:`EMA`, :class:`MACD`, :class:`Bollinger`
- :mod:`.momentum`: :class:`RSI`, :class:`RateOfChange`, :class:`Cross`
- :mod:`.ranges`: :func:`rolling_high`, :func:`rolling_low`, :class:`TimeBars`, :class:`ATR`
- :mod:`.flow`: :class:`VWAP`, :class:`TradeFlowImbalance`, :class:`RealisedVolatility`
- :mod:`.book`: :class:`Microprice`, :class:`BookImbalance`, :class:`DepthWeightedMid`
"""

from engine.strategy.indicators._common import Exact, Real
from engine.strategy.indicators.averages import EMA, MACD, SMA, Bands, Bollinger, MacdValue
from engine.strategy.indicators.book import BookImbalance, DepthWeightedMid, Microprice
from engine.strategy.indicators.flow import VWAP, RealisedVolatility, TradeFlowImbalance
from engine.strategy.indicators.momentum import RSI, Cross, RateOfChange
from engine.strategy.indicators.ranges import (
    ATR,
    Bar,
    RollingExtreme,
    TimeBars,
    rolling_high,
    rolling_low,
)

__all__ = [
    "ATR",
    "EMA",
    "MACD",
    "RSI",
    "SMA",
    "VWAP",
    "Bands",
    "Bar",
    "Bollinger",
    "BookImbalance",
    "Cross",
    "DepthWeightedMid",
    "Exact",
    "MacdValue",
    "Microprice",
    "RateOfChange",
    "Real",
    "RealisedVolatility",
    "RollingExtreme",
    "TimeBars",
    "TradeFlowImbalance",
    "rolling_high",
    "rolling_low",
]
