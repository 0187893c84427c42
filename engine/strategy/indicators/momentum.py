"""Momentum: Wilder's RSI, rate of change, and the cross of a fast series over a slow one.

RSI is a float (Wilder's smoothing); rate of change is exact on integer inputs.
"""

from __future__ import annotations

from collections import deque
from fractions import Fraction

from engine.strategy.indicators._common import Exact, Real, window


class RSI:
    """Wilder's relative strength index over ``n`` changes, 0..100 (float).

    The first average gain and loss are plain means of the first ``n`` changes; after that each is
    ``(avg * (n - 1) + new) / n``. All gains and no losses is 100.

    Raises:
        ValueError: ``n`` below 1.
    """

    def __init__(self, n: int) -> None:
        self.n = window(n, "RSI")
        self._last: float | None = None
        self._count = 0
        self._gain = 0.0
        self._loss = 0.0
        self.value: float | None = None

    def update(self, x: Real | None) -> float | None:
        """Add one price."""
        if x is None:
            return None
        v = float(x)
        last, self._last = self._last, v
        if last is None:
            return None
        change = v - last
        gain, loss = max(change, 0.0), max(-change, 0.0)
        n = self.n
        if self._count < n:
            self._count += 1
            self._gain += gain
            self._loss += loss
            if self._count < n:
                return None
            self._gain /= n
            self._loss /= n
        else:
            self._gain = (self._gain * (n - 1) + gain) / n
            self._loss = (self._loss * (n - 1) + loss) / n
        total = self._gain + self._loss
        # the share first: gain / total is at most 1 exactly, 100 * gain / total can exceed 100
        self.value = 50.0 if total == 0 else 100.0 * (self._gain / total)
        return self.value


class RateOfChange:
    """``(x - x[n ago]) / x[n ago]``, exact.

    Raises:
        ValueError: ``n`` below 1.
    """

    def __init__(self, n: int) -> None:
        self.n = window(n, "RateOfChange")
        self._values: deque[Exact] = deque()
        self.value: Fraction | None = None

    def update(self, x: Exact | None) -> Fraction | None:
        """Add one value."""
        if x is None:
            return None
        self._values.append(x)
        if len(self._values) > self.n:
            old = self._values.popleft()
            self.value = None if old == 0 else (Fraction(x) - old) / old
        return self.value


class Cross:
    """Whether a fast series crossed a slow one: +1 above, -1 below, 0 neither.

    A cross is a change of the sign of ``fast - slow`` from the last time both were known;
    touching (equal) does not cross, the sign before it is kept.
    """

    def __init__(self) -> None:
        self._sign = 0
        self.value = 0

    def update(self, fast: Real | None, slow: Real | None) -> int:
        """Add one pair; +1 when fast crossed above slow, -1 when below, else 0."""
        self.value = 0
        if fast is None or slow is None or fast == slow:
            return 0
        sign = 1 if fast > slow else -1
        if self._sign and sign != self._sign:
            self.value = sign
        self._sign = sign
        return self.value

    @property
    def above(self) -> bool:
        """True while the fast series is above the slow one."""
        return self._sign > 0
