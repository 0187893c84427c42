"""The local venue's Binance spot order endpoints (venues.md §1.6-1.8), signed and rate-limited.

| route | does | weight |
|---|---|---|
| ``POST /api/v3/order`` | new order: LIMIT, MARKET, LIMIT_MAKER; GTC/IOC/FOK; ACK/RESULT/FULL | 1 |
| ``POST /api/v3/order/test`` | checks a new order, places nothing: ``{}`` | 1 |
| ``DELETE /api/v3/order`` | cancel by ``orderId`` / ``origClientOrderId`` | 1 |
| ``DELETE /api/v3/openOrders`` | cancel every open order on a symbol | 1 |
| ``POST /api/v3/order/cancelReplace`` | cancel, then new order (see ``cancel_replace``) | 1 |
| ``GET /api/v3/openOrders`` | open orders, of one symbol or all | 6 / 80 |
| ``GET /api/v3/order`` | one order | 4 |
| ``GET /api/v3/account`` | balances, commission rates, ``canTrade`` | 20 |
| ``GET /api/v3/myTrades`` | the account's trades on a symbol | 20 |
| ``GET /api/v3/rateLimit/order`` | the unfilled-order counts | 40 |

Every route needs ``X-MBX-APIKEY``, ``timestamp`` and ``signature`` (:mod:`engine.sim.auth`).
Successful new orders and cancel-replaces carry ``X-MBX-ORDER-COUNT-10S`` and ``-1D``. The
order-entry routes (new, cancel, cancel-all, cancel-replace) also serve the order-side faults of
:mod:`engine.sim.trading_faults`: 429/418 answers, "status unknown", slow answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

import msgspec
from aiohttp import web

from engine.sim import order_wire
from engine.sim.accounts import Account
from engine.sim.auth import rest_account, rest_params
from engine.sim.cancel_replace import cancel_replace
from engine.sim.order_params import (
    cancel_target,
    client_id,
    illegal,
    new_order,
    order_id_of,
    symbol_of,
)
from engine.sim.trading_faults import StatusUnknownFault
from engine.sim.wire import RestError

if TYPE_CHECKING:
    from engine.sim.server import SimVenue

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_Signed = Callable[[web.Request, Account, dict[str, str]], Awaitable[web.StreamResponse]]
_Guard = Callable[[_Handler], _Handler]
_encode = msgspec.json.Encoder().encode
_MY_TRADES_LIMIT = 500
_MY_TRADES_MAX = 1000
TIMEOUT_MSG = (
    "Timeout waiting for response from backend server. "
    "Send status unknown; execution status unknown."
)
UNAVAILABLE_MSG = "Unknown error, please check your request or try again later."


def add_order_routes(app: web.Application, venue: SimVenue, guard: _Guard) -> None:
    """Mount the order endpoints of ``venue`` on ``app``, each behind ``guard`` (weight, faults)."""
    orders = _Orders(venue)
    routes: list[tuple[str, str, _Signed, bool]] = [
        ("POST", "/api/v3/order", orders.new_order, True),
        ("POST", "/api/v3/order/test", orders.check_order, False),
        ("DELETE", "/api/v3/order", orders.cancel, True),
        ("DELETE", "/api/v3/openOrders", orders.cancel_all, True),
        ("POST", "/api/v3/order/cancelReplace", orders.cancel_replace, True),
        ("GET", "/api/v3/openOrders", orders.open_orders, False),
        ("GET", "/api/v3/order", orders.query_order, False),
        ("GET", "/api/v3/account", orders.account, False),
        ("GET", "/api/v3/myTrades", orders.my_trades, False),
        ("GET", "/api/v3/rateLimit/order", orders.order_counts, False),
    ]
    for method, path, handler, entry in routes:
        app.router.add_route(method, path, guard(orders.signed(handler, entry=entry)))


def weight(method: str, path: str, query: Mapping[str, str]) -> int | None:
    """Request weight of an order endpoint, or None for other routes."""
    if path == "/api/v3/openOrders" and method == "GET":
        return 6 if query.get("symbol") else 80
    return _WEIGHTS.get((method, path))


_WEIGHTS = {
    ("POST", "/api/v3/order"): 1,
    ("POST", "/api/v3/order/test"): 1,
    ("DELETE", "/api/v3/order"): 1,
    ("DELETE", "/api/v3/openOrders"): 1,
    ("POST", "/api/v3/order/cancelReplace"): 1,
    ("GET", "/api/v3/order"): 4,
    ("GET", "/api/v3/account"): 20,
    ("GET", "/api/v3/myTrades"): 20,
    ("GET", "/api/v3/rateLimit/order"): 40,
}


class _Orders:
    """The handlers over one venue's desk."""

    def __init__(self, venue: SimVenue) -> None:
        self.venue = venue
        self.desk = venue.desk
        self.faults = venue.faults.trading
        self.listed = {i.symbol: i for i in venue.instruments}

    def signed(self, handler: _Signed, *, entry: bool) -> _Handler:
        """Authenticate, then run ``handler``; order-entry routes also serve the order faults."""

        async def run(request: web.Request) -> web.StreamResponse:
            if entry:
                limited = self.faults.take_order_rate_limit()
                if limited is not None:
                    raise _rate_limited(limited.status, limited.retry_after_s)
            raw_query = request.rel_url.raw_query_string
            raw_body = await request.read()
            params = rest_params(raw_query, raw_body)
            key = request.headers.get("X-MBX-APIKEY")
            now_us = time.time_ns() // 1000
            account = rest_account(self.desk.accounts, key, raw_query, raw_body, params, now_us)
            if not entry:
                return await handler(request, account, params)
            unknown = self.faults.take_status_unknown()
            if unknown is not None:
                return await self._unknown(unknown, handler, request, account, params)
            response = await handler(request, account, params)
            delay = self.faults.take_slow_order()
            if delay:
                await asyncio.sleep(delay)
            return response

        return run

    async def _unknown(
        self,
        fault: StatusUnknownFault,
        handler: _Signed,
        request: web.Request,
        account: Account,
        params: dict[str, str],
    ) -> web.StreamResponse:
        if fault.placed:
            with contextlib.suppress(RestError):
                await handler(request, account, params)
        if fault.delay_s:
            await asyncio.sleep(fault.delay_s)
        if fault.answer == "timeout":
            raise RestError(408, -1007, TIMEOUT_MSG)
        raise RestError(503, -1000, UNAVAILABLE_MSG)

    # ---- order entry -----------------------------------------------------------------------------

    async def new_order(
        self, _request: web.Request, account: Account, params: dict[str, str]
    ) -> web.StreamResponse:
        order = new_order(params, self.listed, self._reference(params))
        placed = self.desk.place(account, order)
        text = self.desk.text(order.symbol)
        body = order_wire.new_order_answer(
            order.response_type, text, placed.record, placed.record.created_ms, placed.fills
        )
        return _json(body, placed.counts)

    async def check_order(
        self, _request: web.Request, _account: Account, params: dict[str, str]
    ) -> web.StreamResponse:
        new_order(params, self.listed, self._reference(params))
        return _json({})

    async def cancel(
        self, _request: web.Request, account: Account, params: dict[str, str]
    ) -> web.StreamResponse:
        target = cancel_target(params, self.listed)
        record, cancel_id = self.desk.cancel(account, target)
        text = self.desk.text(target.symbol)
        return _json(order_wire.canceled(text, record, cancel_id, record.update_ms))

    async def cancel_all(
        self, _request: web.Request, account: Account, params: dict[str, str]
    ) -> web.StreamResponse:
        symbol = symbol_of(params, self.listed).symbol
        text = self.desk.text(symbol)
        done = self.desk.cancel_all(account, symbol)
        return _json([order_wire.canceled(text, r, cid, r.update_ms) for r, cid in done])

    async def cancel_replace(
        self, _request: web.Request, account: Account, params: dict[str, str]
    ) -> web.StreamResponse:
        body, counts = cancel_replace(
            self.desk, account, params, self.listed, self._reference(params)
        )
        return _json(body, counts)

    # ---- queries ---------------------------------------------------------------------------------

    async def open_orders(
        self, _request: web.Request, account: Account, params: dict[str, str]
    ) -> web.StreamResponse:
        symbol = symbol_of(params, self.listed).symbol if params.get("symbol") else None
        records = self.desk.open_orders(account, symbol)
        return _json([order_wire.query(self.desk.text(r.symbol), r) for r in records])

    async def query_order(
        self, _request: web.Request, account: Account, params: dict[str, str]
    ) -> web.StreamResponse:
        symbol = symbol_of(params, self.listed).symbol
        order_id = order_id_of(params)
        orig = client_id(params, "origClientOrderId") or None
        if order_id is None and orig is None:
            raise RestError(
                400,
                -1102,
                "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
            )
        record = self.desk.find(account, symbol, order_id, orig)
        if record is None:
            raise RestError(400, -2013, "Order does not exist.")
        return _json(order_wire.query(self.desk.text(symbol), record))

    async def account(
        self, _request: web.Request, account: Account, params: dict[str, str]
    ) -> web.StreamResponse:
        omit = params.get("omitZeroBalances", "false")
        if omit not in ("true", "false"):
            raise illegal("omitZeroBalances", "true, false")
        body = order_wire.account(account, time.time_ns() // 1_000_000, omit_zero=omit == "true")
        return _json(body)

    async def my_trades(
        self, _request: web.Request, account: Account, params: dict[str, str]
    ) -> web.StreamResponse:
        symbol = symbol_of(params, self.listed).symbol
        order_id = order_id_of(params)
        from_id = order_id_of(params, "fromId")
        start, end = order_id_of(params, "startTime"), order_id_of(params, "endTime")
        limit = order_id_of(params, "limit") or _MY_TRADES_LIMIT
        if not 1 <= limit <= _MY_TRADES_MAX:
            raise illegal("limit", f"[1, {_MY_TRADES_MAX}]")
        trades = [
            t
            for t in self.desk.trades(account, symbol)
            if (order_id is None or t.order_id == order_id)
            and (from_id is None or t.trade_id >= from_id)
            and (start is None or t.time_ms >= start)
            and (end is None or t.time_ms <= end)
        ]
        text = self.desk.text(symbol)
        return _json([order_wire.my_trade(text, t) for t in trades[-limit:]])

    async def order_counts(
        self, _request: web.Request, account: Account, _params: dict[str, str]
    ) -> web.StreamResponse:
        counter = self.desk.counts[account.uid]
        return _json(counter.rate_limits(counter.counts(time.time_ns())))

    def _reference(self, params: dict[str, str]) -> int:
        """The touch a market order would take from (0 when it cannot be told)."""
        model = self.venue.model(params["symbol"]) if params.get("symbol") in self.listed else None
        if model is None:
            return 0
        return model.best_ask() if params.get("side") == "BUY" else model.best_bid()


def _rate_limited(status: int, retry_after_s: int) -> RestError:
    if status == 418:
        until = time.time_ns() // 1_000_000 + retry_after_s * 1000
        error = RestError(
            418,
            -1003,
            f"Way too much request weight used; IP banned until {until}. "
            "Please use WebSocket Streams for live updates to avoid bans.",
        )
    else:
        error = RestError(
            429,
            -1003,
            "Too much request weight used; current limit is 6000 request weight per 1 MINUTE. "
            "Please use WebSocket Streams for live updates to avoid polling the API.",
        )
    error.retry_after_s = retry_after_s
    return error


def _json(body: object, counts: tuple[int, int] | None = None) -> web.Response:
    response = web.Response(body=_encode(body), content_type="application/json", charset="UTF-8")
    if counts is not None:
        response.headers["X-MBX-ORDER-COUNT-10S"] = str(counts[0])
        response.headers["X-MBX-ORDER-COUNT-1D"] = str(counts[1])
    return response
