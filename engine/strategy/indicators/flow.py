"""Trade flow and volatility: VWAP, trade-flow imbalance and realised volatility.

VWAP and trade-flow imbalance are exact on ticks and lots (integer sums, Fraction results);
realised volatility is a float (square root of the sum of squared log returns over a window),
its running sum a float sum in update order.
"""

from __future__ import annotations

import math
from collections import deque
from fractions import Fraction

from engine.core.events import Side
from engine.strategy.indicators._common import Real, window


class VWAP:
    """Volume-weighted average price, exact: of every trade, or of the last ``n`` when given.

    Raises:
        ValueError: ``n`` is given and below 1.
    """

    def __init__(self, n: int = 0) -> None:
        self.n = window(n, "VWAP") if n else 0
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


class TradeFlowImbalance:
    """Signed taker volume over the last ``n`` trades: ``(bought - sold) / (bought + sold)``, exact.

    +1 means every taker bought, -1 every taker sold. Ready once ``n`` trades are in.

    Raises:
        ValueError: ``n`` below 1.
    """

    def __init__(self, n: int) -> None:
        self.n = window(n, "TradeFlowImbalance")
        self._trades: deque[int] = deque()
        self._signed = 0
        self._volume = 0
        self.value: Fraction | None = None

    def update(self, size: int | None, aggressor: Side = Side.BUY) -> Fraction | None:
        """Add one trade: its size in lots and the taker's side."""
        if size is None:
            return None
        signed = size if aggressor is Side.BUY else -size
        self._trades.append(signed)
        self._signed += signed
        self._volume += size
        if len(self._trades) > self.n:
            old = self._trades.popleft()
            self._signed -= old
            self._volume -= abs(old)
        if len(self._trades) == self.n:
            self.value = Fraction(self._signed, self._volume) if self._volume else Fraction(0)
        return self.value


class RealisedVolatility:
    """Square root of the sum of squared log returns over the last ``n`` returns (float).

    Raises:
        ValueError: ``n`` below 1.
    """

    def __init__(self, n: int) -> None:
        self.n = window(n, "RealisedVolatility")
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
