"""Incremental indicators: O(1) per update, None until warmed up, composable.

Each indicator has ``update(x)`` returning its new value, or None while it warms up; passing None
in returns None and changes nothing, so an indicator fed from another (an SMA of a rate of
change) stays unready until its input is ready: warm-up propagates.

Arithmetic: SMA, rolling high/low, VWAP and rate of change are exact on integer inputs (ticks,
lots): sums are integers and results :class:`~fractions.Fraction`. EMA, RSI (Wilder's smoothing)
and realised volatility (square root of the sum of squared log returns over a window) are floats,
as their usual definitions are; their running sums are float sums in update order, so a
straightforward loop doing the same operations gives the same figures to rounding.
"""

from __future__ import annotations

import math
from collections import deque
from fractions import Fraction

Exact = int | Fraction
Real = int | float | Fraction


def _window(n: int, name: str) -> int:
    if n < 1:
        raise ValueError(f"{name}: window {n} must be at least 1")
    return n


class SMA:
    """Simple moving average of the last ``n`` values, exact.

    Raises:
        ValueError: ``n`` below 1.
    """

    def __init__(self, n: int) -> None:
        self.n = _window(n, "SMA")
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
        self.n = _window(n, "EMA")
        self.alpha = 2.0 / (n + 1)
        self.value: float | None = None

    def update(self, x: Real | None) -> float | None:
        """Add one value."""
        if x is None:
            return None
        v = float(x)
        self.value = v if self.value is None else self.value + self.alpha * (v - self.value)
        return self.value


class RSI:
    """Wilder's relative strength index over ``n`` changes, 0..100 (float).

    The first average gain and loss are plain means of the first ``n`` changes; after that each is
    ``(avg * (n - 1) + new) / n``. All gains and no losses is 100.

    Raises:
        ValueError: ``n`` below 1.
    """

    def __init__(self, n: int) -> None:
        self.n = _window(n, "RSI")
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
        self.value = 50.0 if total == 0 else 100.0 * self._gain / total
        return self.value


class RollingExtreme:
    """The highest (or lowest) of the last ``n`` values, exact; amortised O(1) (monotonic deque).

    Raises:
        ValueError: ``n`` below 1.
    """

    def __init__(self, n: int, *, low: bool = False) -> None:
        self.n = _window(n, "RollingExtreme")
        self.low = low
        self._seen = 0
        self._queue: deque[tuple[int, Exact]] = deque()
        self.value: Exact | None = None

    def update(self, x: Exact | None) -> Exact | None:
        """Add one value; the extreme once ``n`` values are in."""
        if x is None:
            return None
        q = self._queue
        low = self.low
        while q and (q[-1][1] >= x if low else q[-1][1] <= x):
            q.pop()
        q.append((self._seen, x))
        self._seen += 1
        if q[0][0] <= self._seen - 1 - self.n:
            q.popleft()
        if self._seen >= self.n:
            self.value = q[0][1]
        return self.value


def rolling_high(n: int) -> RollingExtreme:
    """The highest of the last ``n`` values."""
    return RollingExtreme(n)


def rolling_low(n: int) -> RollingExtreme:
    """The lowest of the last ``n`` values."""
    return RollingExtreme(n, low=True)


class VWAP:
    """Volume-weighted average price, exact: of every trade, or of the last ``n`` when given.

    Raises:
        ValueError: ``n`` is given and below 1.
    """

    def __init__(self, n: int = 0) -> None:
        self.n = _window(n, "VWAP") if n else 0
        self._trades: deque[tuple[int, int]] = deque()
        self._notional = 0
        self._volume = 0
        self.value: Fraction | None = None

    def update(self, price: int | None, size: int = 0) -> Fraction | None:
        """Add one trade (price ticks, size lots)."""
        if price is None:
            return None
        self._notional += price * size
        self._volume += size
        if self.n:
            self._trades.append((price, size))
            if len(self._trades) > self.n:
                p, s = self._trades.popleft()
                self._notional -= p * s
                self._volume -= s
        self.value = Fraction(self._notional, self._volume) if self._volume else None
        return self.value


class RateOfChange:
    """``(x - x[n ago]) / x[n ago]``, exact.

    Raises:
        ValueError: ``n`` below 1.
    """

    def __init__(self, n: int) -> None:
        self.n = _window(n, "RateOfChange")
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


class RealisedVolatility:
    """Square root of the sum of squared log returns over the last ``n`` returns (float).

    Raises:
        ValueError: ``n`` below 1.
    """

    def __init__(self, n: int) -> None:
        self.n = _window(n, "RealisedVolatility")
        self._last: float | None = None
        self._squares: deque[float] = deque()
        self._sum = 0.0
        self.value: float | None = None

    def update(self, x: Real | None) -> float | None:
        """Add one price (positive)."""
        if x is None or x <= 0:
            return None
        v = float(x)
        last, self._last = self._last, v
        if last is None:
            return None
        r = math.log(v / last)
        self._squares.append(r * r)
        self._sum += r * r
        if len(self._squares) > self.n:
            self._sum -= self._squares.popleft()
        if len(self._squares) == self.n:
            self.value = math.sqrt(max(self._sum, 0.0))
        return self.value
