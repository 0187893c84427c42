"""The local venue's Binance USD-M limits: request weight per address, order counts per account.

USD-M publishes (venues.md §2.7) a ``REQUEST_WEIGHT`` of 2400 per minute per IP, reported in
``X-MBX-USED-WEIGHT-1M`` on every answer, and order counts per account in 10 s and 1 minute
(``X-MBX-ORDER-COUNT-10S`` / ``-1M``, 300 and 1200 here: the values venues.md calls unconfirmed).
Windows are fixed (``:00, :10, :20`` ... and whole minutes of the wall clock), as Binance counts
them. A new order and a modify each count once; going over a limit is refused before the order
reaches the desk: 429 with -1003 (weight) or -1015 (orders) and ``Retry-After`` until the window
turns.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from engine.sim.wire import RestError

REQUEST_WEIGHT_PER_MINUTE = 2400
ORDERS_PER_10S = 300
ORDERS_PER_MINUTE = 1200
_TEN_S_NS = 10_000_000_000
_MINUTE_NS = 60_000_000_000

WEIGHTS = {
    ("POST", "/fapi/v1/order"): 0,
    ("PUT", "/fapi/v1/order"): 0,
    ("DELETE", "/fapi/v1/order"): 1,
    ("DELETE", "/fapi/v1/allOpenOrders"): 1,
    ("GET", "/fapi/v1/order"): 1,
    ("GET", "/fapi/v1/userTrades"): 5,
    ("GET", "/fapi/v2/account"): 5,
    ("GET", "/fapi/v3/account"): 5,
    ("GET", "/fapi/v2/balance"): 5,
    ("GET", "/fapi/v3/balance"): 5,
    ("GET", "/fapi/v2/positionRisk"): 5,
    ("GET", "/fapi/v3/positionRisk"): 5,
    ("GET", "/fapi/v1/time"): 1,
    ("GET", "/fapi/v1/ping"): 1,
    ("POST", "/fapi/v1/listenKey"): 1,
    ("PUT", "/fapi/v1/listenKey"): 1,
    ("DELETE", "/fapi/v1/listenKey"): 1,
}
"""IP weight of each route; ``GET /fapi/v1/openOrders`` is 1 for a symbol, 40 for all."""


def weight(method: str, path: str, has_symbol: bool) -> int:
    """Request weight of one USD-M call."""
    if (method, path) == ("GET", "/fapi/v1/openOrders"):
        return 1 if has_symbol else 40
    return WEIGHTS.get((method, path), 1)


class _Window:
    """A count in the current fixed window of ``span_ns``."""

    __slots__ = ("count", "index", "span_ns")

    def __init__(self, span_ns: int) -> None:
        self.span_ns = span_ns
        self.index = -1
        self.count = 0

    def now(self, now_ns: int) -> int:
        index = now_ns // self.span_ns
        if index != self.index:
            self.index, self.count = index, 0
        return self.count

    def seconds_left(self, now_ns: int) -> int:
        left = self.span_ns - now_ns % self.span_ns
        return max(1, -(-left // 1_000_000_000))


class UsdmLimits:
    """Request weight per address and order counts per account.

    Args:
        weight_per_minute: ``REQUEST_WEIGHT`` per IP per minute.
        orders_per_10s: orders per account per 10 s.
        orders_per_minute: orders per account per minute.
        clock: wall-clock nanoseconds.
    """

    def __init__(
        self,
        *,
        weight_per_minute: int = REQUEST_WEIGHT_PER_MINUTE,
        orders_per_10s: int = ORDERS_PER_10S,
        orders_per_minute: int = ORDERS_PER_MINUTE,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.weight_per_minute = weight_per_minute
        self.orders_per_10s = orders_per_10s
        self.orders_per_minute = orders_per_minute
        self._clock = clock
        self._weights: dict[str, _Window] = {}
        self._orders: dict[int, tuple[_Window, _Window]] = {}

    def take_weight(self, address: str, spent: int) -> int:
        """Count ``spent`` weight for ``address``; returns the minute's use after it.

        Raises:
            RestError: 429 -1003 when the minute's weight is spent (``retry_after_s`` set).
        """
        now = self._clock()
        window = self._weights.setdefault(address, _Window(_MINUTE_NS))
        used = window.now(now) + spent
        window.count = used
        if used > self.weight_per_minute:
            error = RestError(
                429,
                -1003,
                f"Too many requests; current limit of IP is {self.weight_per_minute} requests "
                "per minute. Please use the websocket for live updates to avoid polling the API.",
            )
            error.retry_after_s = window.seconds_left(now)
            raise error
        return used

    def take_order(self, uid: int) -> tuple[int, int]:
        """Count one order of account ``uid``; returns the 10 s and 1 minute counts after it.

        Raises:
            RestError: 429 -1015 when either count is used up (``retry_after_s`` set).
        """
        now = self._clock()
        ten, minute = self._orders.setdefault(uid, (_Window(_TEN_S_NS), _Window(_MINUTE_NS)))
        for window, limit, name in (
            (ten, self.orders_per_10s, "10 SECOND"),
            (minute, self.orders_per_minute, "1 MINUTE"),
        ):
            if window.now(now) >= limit:
                error = RestError(
                    429, -1015, f"Too many new orders; current limit is {limit} orders per {name}."
                )
                error.retry_after_s = window.seconds_left(now)
                raise error
        ten.count += 1
        minute.count += 1
        return ten.count, minute.count

    def order_counts(self, uid: int) -> tuple[int, int]:
        """Account ``uid``'s 10 s and 1 minute order counts now."""
        now = self._clock()
        ten, minute = self._orders.setdefault(uid, (_Window(_TEN_S_NS), _Window(_MINUTE_NS)))
        return ten.now(now), minute.now(now)
