"""Moving averages and what is built on them: SMA, EMA, MACD and Bollinger bands.

SMA is exact on integer inputs (an integer running sum, the mean a Fraction). EMA is a float,
seeded by its first value, so it is ready at once; MACD is made of EMAs and an EMA of them, so it
warms up through its parts. Bollinger bands keep integer sums of values and of their squares over
the window: the middle band is exact and the width is the square root of the exact population
variance.
"""

from __future__ import annotations

import math
from collections import deque
from fractions import Fraction
from typing import NamedTuple

from engine.strategy.indicators._common import Exact, Real, window


class SMA:
    """Simple moving average of the last ``n`` values, exact.

    Raises:
        ValueError: ``n`` below 1.
    """

    def __init__(self, n: int) -> None:
        self.n = window(n, "SMA")
        self._values: deque[Exact] = deque()
        self._sum: Exact = 0
        self.value: Fraction | None = None

    def update(self, x: Exact | None) -> Fraction | None:
        """Add one value; the mean once ``n`` values are in."""
        if x is None:
            return None
        self._values.append(x)
        self._sum += x
        if len(self._values) > self.n:
            self._sum -= self._values.popleft()
        if len(self._values) == self.n:
            self.value = Fraction(self._sum) / self.n
        return self.value


class EMA:
    """Exponential moving average with ``alpha = 2 / (n + 1)``, seeded by the first value (float).

    Raises:
        ValueError: ``n`` below 1.
    """

    def __init__(self, n: int) -> None:
        self.n = window(n, "EMA")
        self.alpha = 2.0 / (n + 1)
        self.value: float | None = None

    def update(self, x: Real | None) -> float | None:
        """Add one value."""
        if x is None:
            return None
        v = float(x)
        self.value = v if self.value is None else self.value + self.alpha * (v - self.value)
        return self.value


class MacdValue(NamedTuple):
    """One MACD reading."""

    macd: float
    """Fast EMA minus slow EMA."""
    signal: float
    """EMA of ``macd``."""
    histogram: float
    """``macd - signal``."""


class MACD:
    """Moving average convergence/divergence: EMA(fast) - EMA(slow), its signal EMA and histogram.

    Raises:
        ValueError: a window below 1, or ``fast`` not shorter than ``slow``.
    """

    def __init__(self, fast: int = 12, slow: int = 26, signal: int = 9) -> None:
        if fast >= slow:
            raise ValueError(f"MACD: fast window {fast} must be shorter than slow window {slow}")
        self.fast = EMA(fast)
        self.slow = EMA(slow)
        self.signal = EMA(signal)
        self.value: MacdValue | None = None

    def update(self, x: Real | None) -> MacdValue | None:
        """Add one value."""
        if x is None:
            return None
        fast, slow = self.fast.update(x), self.slow.update(x)
        if fast is None or slow is None:
            return None
        macd = fast - slow
        signal = self.signal.update(macd)
        if signal is None:
            return None
        self.value = MacdValue(macd, signal, macd - signal)
        return self.value


class Bands(NamedTuple):
    """One Bollinger reading, in the input's units."""

    lower: float
    middle: Fraction
    """The SMA, exact."""
    upper: float
    width: float
    """``k`` population standard deviations."""


class Bollinger:
    """Bollinger bands: SMA(n) plus and minus ``k`` population standard deviations of the window.

    Args:
        n: the window.
        k: the bands' distance in standard deviations.

    Raises:
        ValueError: ``n`` below 1 or ``k`` negative.
    """

    def __init__(self, n: int = 20, k: float = 2.0) -> None:
        self.n = window(n, "Bollinger")
        if k < 0:
            raise ValueError(f"Bollinger: k {k} must not be negative")
        self.k = k
        self._values: deque[Exact] = deque()
        self._sum: Exact = 0
        self._squares: Exact = 0
        self.value: Bands | None = None

    def update(self, x: Exact | None) -> Bands | None:
        """Add one value; the bands once ``n`` values are in."""
        if x is None:
            return None
        self._values.append(x)
        self._sum += x
        self._squares += x * x
        if len(self._values) > self.n:
            old = self._values.popleft()
            self._sum -= old
            self._squares -= old * old
        if len(self._values) == self.n:
            n = self.n
            mean = Fraction(self._sum) / n
            variance = Fraction(self._squares) / n - mean * mean
            width = self.k * math.sqrt(variance) if variance > 0 else 0.0
            self.value = Bands(float(mean) - width, mean, float(mean) + width, width)
        return self.value
