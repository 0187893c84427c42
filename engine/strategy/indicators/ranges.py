"""Price ranges: rolling high/low (exact, amortised O(1)), time bars and the average true range.

:class:`TimeBars` turns trades into OHLCV bars of a fixed length of time (ticks and lots, exact);
:class:`ATR` takes bars (high, low, close) and smooths their true range the way Wilder did (float).
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

from engine.strategy.indicators._common import Exact, Real, window


class RollingExtreme:
    """The highest (or lowest) of the last ``n`` values, exact; amortised O(1) (monotonic deque).

    Raises:
        ValueError: ``n`` below 1.
    """

    def __init__(self, n: int, *, low: bool = False) -> None:
        self.n = window(n, "RollingExtreme")
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


class Bar(NamedTuple):
    """One bar of trades: prices in ticks, volume in lots."""

    start_ns: int
    """The bar's first instant: a multiple of the bar length."""
    open: int
    high: int
    low: int
    close: int
    volume: int
    trades: int


class TimeBars:
    """Trades to OHLCV bars of ``interval_ns``; a bar is handed out when a later bar's trade comes.

    Bars with no trade are skipped (no flat bar is made up). :meth:`flush` hands out the bar in
    progress.

    Raises:
        ValueError: ``interval_ns`` below 1.
    """

    def __init__(self, interval_ns: int) -> None:
        self.interval_ns = window(interval_ns, "TimeBars")
        self._bar: list[int] | None = None

    def update(self, ts_ns: int, price: int, size: int) -> Bar | None:
        """Add one trade; the bar it closed, if it is the first trade of a new bar."""
        start = ts_ns - ts_ns % self.interval_ns
        bar = self._bar
        if bar is not None and start == bar[0]:
            if price > bar[2]:
                bar[2] = price
            if price < bar[3]:
                bar[3] = price
            bar[4] = price
            bar[5] += size
            bar[6] += 1
            return None
        done = self.flush()
        self._bar = [start, price, price, price, price, size, 1]
        return done

    def flush(self) -> Bar | None:
        """The bar in progress, closed now; None if there is none."""
        bar, self._bar = self._bar, None
        return None if bar is None else Bar(*bar)


class ATR:
    """Wilder's average true range over ``n`` bars (float).

    The true range is the widest of high - low, |high - previous close| and |low - previous
    close| (the first bar has no previous close: high - low). The first ATR is the mean of the
    first ``n`` true ranges; then ``(atr * (n - 1) + tr) / n``.

    Raises:
        ValueError: ``n`` below 1.
    """

    def __init__(self, n: int = 14) -> None:
        self.n = window(n, "ATR")
        self._close: float | None = None
        self._count = 0
        self._sum = 0.0
        self.value: float | None = None

    def update(self, high: Real | None, low: Real = 0, close: Real = 0) -> float | None:
        """Add one bar (None for ``high`` adds nothing)."""
        if high is None:
            return None
        h, lo, c = float(high), float(low), float(close)
        prev, self._close = self._close, c
        tr = h - lo if prev is None else max(h - lo, abs(h - prev), abs(lo - prev))
        n = self.n
        if self._count < n:
            self._count += 1
            self._sum += tr
            if self._count == n:
                self.value = self._sum / n
            return self.value
        assert self.value is not None
        self.value = (self.value * (n - 1) + tr) / n
        return self.value

    def update_bar(self, bar: Bar | None) -> float | None:
        """Add one bar from :class:`TimeBars` (None adds nothing)."""
        if bar is None:
            return None
        return self.update(bar.high, bar.low, bar.close)
