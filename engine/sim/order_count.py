"""The unfilled-order count of one account, as Binance spot keeps it (the ``ORDERS`` limits).

Each new order the venue takes in counts once in the current 10-second interval and the current
UTC day; intervals are fixed (``:00, :10, :20`` ... and midnight UTC), not sliding, as Binance
counts them. An order's first fill takes one back off the counts of the intervals it was placed
in, if they are still current ("order count decrement"). Going over a limit is refused with HTTP
429 and -1015 before the order reaches the matching engine; successful order answers report the
counts in ``X-MBX-ORDER-COUNT-10S`` and ``X-MBX-ORDER-COUNT-1D``.
"""

from __future__ import annotations

from typing import Any

from engine.sim.wire import RestError

_TEN_S_NS = 10 * 1_000_000_000
_DAY_NS = 86_400 * 1_000_000_000


class OrderCount:
    """Orders placed by one account in the current 10 s interval and UTC day.

    Args:
        per_10s: most new orders per 10-second interval.
        per_day: most new orders per UTC day.
    """

    __slots__ = ("_day", "_day_n", "_ten", "_ten_n", "per_10s", "per_day")

    def __init__(self, per_10s: int = 100, per_day: int = 200_000) -> None:
        self.per_10s = per_10s
        self.per_day = per_day
        self._ten = self._day = -1
        self._ten_n = self._day_n = 0

    def _roll(self, now_ns: int) -> None:
        ten, day = now_ns // _TEN_S_NS, now_ns // _DAY_NS
        if ten != self._ten:
            self._ten, self._ten_n = ten, 0
        if day != self._day:
            self._day, self._day_n = day, 0

    def check(self, now_ns: int) -> None:
        """Refuse a new order when a limit is used up.

        Raises:
            RestError: 429, -1015, naming the limit that is spent.
        """
        self._roll(now_ns)
        if self._ten_n >= self.per_10s:
            raise too_many_orders(self.per_10s, "10 SECOND", self.retry_after_s(now_ns))
        if self._day_n >= self.per_day:
            raise too_many_orders(self.per_day, "1 DAY", self.retry_after_s(now_ns, day=True))

    def add(self, now_ns: int) -> tuple[int, int]:
        """Count one new order; returns the counts ``(10 s, day)`` after it."""
        self._roll(now_ns)
        self._ten_n += 1
        self._day_n += 1
        return self._ten_n, self._day_n

    def filled(self, placed_ns: int, now_ns: int) -> None:
        """An order placed at ``placed_ns`` filled for the first time: take it off the counts."""
        self._roll(now_ns)
        if placed_ns // _TEN_S_NS == self._ten and self._ten_n:
            self._ten_n -= 1
        if placed_ns // _DAY_NS == self._day and self._day_n:
            self._day_n -= 1

    def counts(self, now_ns: int) -> tuple[int, int]:
        """The counts ``(10 s, day)`` now."""
        self._roll(now_ns)
        return self._ten_n, self._day_n

    def rate_limits(self, counts: tuple[int, int]) -> list[dict[str, Any]]:
        """The ``ORDERS`` entries of a ``rateLimits`` answer for the counts ``(10 s, day)``."""
        ten, day = counts
        return [
            _orders_entry("SECOND", 10, self.per_10s, ten),
            _orders_entry("DAY", 1, self.per_day, day),
        ]

    @staticmethod
    def retry_after_s(now_ns: int, *, day: bool = False) -> int:
        """Whole seconds until the current interval ends (at least 1)."""
        span = _DAY_NS if day else _TEN_S_NS
        left = span - now_ns % span
        return max(1, -(-left // 1_000_000_000))


class TooManyOrders(RestError):
    """A new order over the account's unfilled-order limit; ``retry_after_s`` until it resets."""

    def __init__(self, limit: int, interval: str, retry_after_s: int) -> None:
        super().__init__(
            429, -1015, f"Too many new orders; current limit is {limit} orders per {interval}."
        )
        self.retry_after_s = retry_after_s


def too_many_orders(limit: int, interval: str, retry_after_s: int) -> TooManyOrders:
    """Binance's -1015 answer."""
    return TooManyOrders(limit, interval, retry_after_s)


def _orders_entry(interval: str, num: int, limit: int, count: int) -> dict[str, Any]:
    return {
        "rateLimitType": "ORDERS",
        "interval": interval,
        "intervalNum": num,
        "limit": limit,
        "count": count,
    }
