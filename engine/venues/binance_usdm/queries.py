"""The USD-M gateway's awaited account calls: open orders, one order, positions, wallet, trades.

Reconciliation reads the venue through these (the venue is the truth): ``openOrders`` (one call
per symbol, weight 1 each, or one for all, weight 40), ``GET /fapi/v1/order`` for one order open
or finished, ``positionRisk`` for real net positions, ``balance`` for the futures wallet, and
``userTrades`` for fills since a time (week by week, as the venue answers at most 7 days a
call). Every call is signed, limited and stamped as the hot path's are (:mod:`.rest`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from engine.core.clock import Clock
from engine.core.events import Fill
from engine.errors import OrderRejected
from engine.venues.base import GatewayStats, VenueOrder, VenuePosition
from engine.venues.binance.orders import BinanceMarket
from engine.venues.binance.rest import BinanceRest
from engine.venues.binance.working import WorkingOrders
from engine.venues.binance_usdm import answers
from engine.venues.binance_usdm.orders import cancel_query, user_trades_query
from engine.venues.binance_usdm.outcomes import NO_SUCH_ORDER
from engine.venues.binance_usdm.rest import UsdmCosts
from engine.venues.clock_offset import ClockOffset
from engine.venues.ratelimit import RateLimiter

log = logging.getLogger("engine.venues.binance_usdm")

_MS = 1_000_000
_WEEK_MS = 7 * 24 * 3_600_000
"""``userTrades`` answers at most 7 days between ``startTime`` and ``endTime``."""
_TRADES_PAGE = 1000
_MAX_WEEKS = 26
"""How far back ``fills_since`` looks at most (the venue keeps trades for about six months)."""
ORDER_PATH = "/fapi/v1/order"


class AccountQueries:
    """The awaited calls of one gateway.

    Args:
        markets: the markets traded, by instrument id.
        rest: the signed REST client.
        costs: what each call spends.
        limiter: the venue's limiter (its usage goes to ``stats.rate``).
        offset: the venue clock estimate (for "now" in trade windows).
        clock: receive times.
        working: the working-order table (open orders are adopted into it).
        stats: the gateway's counters.
    """

    def __init__(
        self,
        markets: Mapping[int, BinanceMarket],
        rest: BinanceRest,
        costs: UsdmCosts,
        limiter: RateLimiter,
        offset: ClockOffset,
        clock: Clock,
        working: WorkingOrders,
        stats: GatewayStats,
    ) -> None:
        self.markets = dict(markets)
        self.by_symbol = {m.symbol: m for m in self.markets.values()}
        self.rest = rest
        self.costs = costs
        self.limiter = limiter
        self.offset = offset
        self.clock = clock
        self.working = working
        self.stats = stats

    async def open_orders(self) -> list[VenueOrder]:
        """Every order the venue holds open for us on our instruments (the venue is the truth).

        Raises:
            GatewayError: the venue did not answer with its open orders.
        """
        out: list[VenueOrder] = []
        if len(self.markets) < 40:  # weight 1 per symbol, 40 for all
            for market in self.markets.values():
                body = await self.rest.call(
                    "GET",
                    "/fapi/v1/openOrders",
                    f"symbol={market.symbol}",
                    self.costs.open_orders_symbol,
                )
                out += answers.open_orders_answer(self.by_symbol, body)
        else:
            body = await self.rest.call(
                "GET", "/fapi/v1/openOrders", "", self.costs.open_orders_all
            )
            out = answers.open_orders_answer(self.by_symbol, body)
        self.stats.rate = self.limiter.usage()
        return [self.working.adopt(order) for order in out]

    async def order_status(self, instrument: int, client_order_id: str) -> VenueOrder | None:
        """One order by our client order id (``GET /fapi/v1/order``); None when the venue has none.

        Raises:
            GatewayError: the venue did not answer with the order.
            KeyError: ``instrument`` is not traded here.
        """
        market = self.markets[instrument]
        query = cancel_query(market, client_order_id)
        try:
            body = await self.rest.call("GET", ORDER_PATH, query, self.costs.query_order)
        except OrderRejected as exc:
            if exc.code == NO_SUCH_ORDER:
                return None
            raise
        self.stats.rate = self.limiter.usage()
        return answers.venue_order(market, answers.order_answer(body, "order query"))

    async def positions(self) -> list[VenuePosition]:
        """The net position of every instrument, in lots (``positionRisk``: real positions).

        Raises:
            GatewayError: the venue did not answer with its positions.
        """
        body = await self.rest.call("GET", "/fapi/v3/positionRisk", "", self.costs.positions)
        self.stats.rate = self.limiter.usage()
        return answers.positions_answer(self.markets, body)

    async def balances(self) -> list[answers.MarginBalance]:
        """The futures wallet: each margin asset's balance and what is available, exact.

        Raises:
            GatewayError: the venue did not answer with its balances.
        """
        body = await self.rest.call("GET", "/fapi/v3/balance", "", self.costs.balance)
        self.stats.rate = self.limiter.usage()
        return answers.balances_answer(body)

    async def fills_since(
        self, since_ns: int, client_of: Mapping[str, str] | None = None
    ) -> list[Fill]:
        """Our trades on every instrument since ``since_ns`` (``userTrades``, oldest first).

        ``userTrades`` spans at most 7 days a call and 1000 trades a page: the time from
        ``since_ns`` (at most 26 weeks back) to now is asked for week by week, a full page
        continued from its last trade.

        Args:
            since_ns: the earliest trade time wanted.
            client_of: venue order id -> our client order id, for naming the fills.

        Raises:
            GatewayError: the venue did not answer with its trades.
        """
        fills: dict[str, Fill] = {}
        now_ms = self.offset.timestamp_ms()
        names = client_of or {}
        earliest = now_ms - _MAX_WEEKS * _WEEK_MS
        if since_ns // _MS < earliest:
            log.warning(
                "fills asked for further back than the venue keeps them; from 26 weeks ago",
                extra={"venue": self.rest.venue, "since_ms": since_ns // _MS},
            )
        for market in self.markets.values():
            start = max(earliest, since_ns // _MS)
            while start <= now_ms:
                end = min(start + _WEEK_MS, now_ms)
                query = user_trades_query(market, start_ms=start, end_ms=end, limit=_TRADES_PAGE)
                body = await self.rest.call(
                    "GET", "/fapi/v1/userTrades", query, self.costs.user_trades
                )
                page = answers.user_trades_answer(self.by_symbol, body, names, self.clock.time_ns())
                for fill in page:
                    fills[fill.trade_id] = fill
                if len(page) >= _TRADES_PAGE and page[-1].exch_ts // _MS > start:
                    start = page[-1].exch_ts // _MS  # the rest of the window, from its last trade
                    continue
                start = end + 1
        self.stats.rate = self.limiter.usage()
        return sorted(fills.values(), key=lambda f: f.exch_ts)
