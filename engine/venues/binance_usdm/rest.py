"""Binance USD-M's limits, what each call spends, and the REST client made for them (§2.6-2.7).

USD-M counts IP weight (``REQUEST_WEIGHT``, 2400 per minute, ``X-MBX-USED-WEIGHT-1M``) and
orders per account in 10 s and 1 minute (``X-MBX-ORDER-COUNT-10S`` / ``-1M``; venues.md gives
300 and 1200 as unconfirmed, so they are defaults the gateway takes as an argument). A new order
or a modify costs no IP weight and one of each order count; everything else costs weight only.
The REST client is spot's :class:`~engine.venues.binance.rest.BinanceRest`, told USD-M's time
endpoint and error map.
"""

from __future__ import annotations

from engine.venues.binance.rest import BinanceRest, RestSigner
from engine.venues.binance_usdm.errors import rest_error
from engine.venues.clock_offset import ClockOffset
from engine.venues.ratelimit import Cost, RateLimit, RateLimiter

TIME_PATH = "/fapi/v1/time"
LIMITS = (
    RateLimit(name="REQUEST_WEIGHT", limit=2400, window_s=60.0, header="X-MBX-USED-WEIGHT-1M"),
    RateLimit(name="ORDERS_10S", limit=300, window_s=10.0, header="X-MBX-ORDER-COUNT-10S"),
    RateLimit(name="ORDERS_1M", limit=1200, window_s=60.0, header="X-MBX-ORDER-COUNT-1M"),
)
"""USD-M's published limits (venues.md §2.7; the order counts per account)."""


class UsdmCosts:
    """What each USD-M call spends, resolved once against one limiter."""

    def __init__(self, limiter: RateLimiter) -> None:
        def cost(weight: int, orders: int = 0) -> Cost:
            spend = {"REQUEST_WEIGHT": weight}
            if orders:
                spend |= {"ORDERS_10S": orders, "ORDERS_1M": orders}
            return limiter.cost(spend)

        self.new_order = cost(0, orders=1)
        self.modify = cost(0, orders=1)
        self.cancel = cost(1)
        self.cancel_all = cost(1)
        self.query_order = cost(1)
        self.open_orders_symbol = cost(1)
        self.open_orders_all = cost(40)
        self.positions = cost(5)
        self.balance = cost(5)
        self.user_trades = cost(5)
        self.time = cost(1)
        self.listen_key = cost(1)


def usdm_rest(
    base_url: str,
    api_key: str,
    signer: RestSigner,
    limiter: RateLimiter,
    offset: ClockOffset,
    *,
    recv_window_ms: int,
    venue: str,
    timeout_s: float,
) -> BinanceRest:
    """The awaited REST client for USD-M: ``/fapi/v1/time`` and USD-M's error codes."""
    return BinanceRest(
        base_url,
        api_key,
        signer,
        limiter,
        offset,
        recv_window_ms=recv_window_ms,
        venue=venue,
        timeout_s=timeout_s,
        time_path=TIME_PATH,
        errors=rest_error,
    )
