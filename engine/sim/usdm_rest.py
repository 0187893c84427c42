"""The local venue's Binance USD-M REST endpoints (venues.md §2.6-2.9), signed and rate-limited.

| route | does | IP weight |
|---|---|---|
| ``POST /fapi/v1/order`` | new order: LIMIT/MARKET, GTC/IOC/FOK/GTX, reduceOnly, ACK/RESULT | 0 |
| ``PUT /fapi/v1/order`` | modify a LIMIT order: price and total quantity | 0 |
| ``DELETE /fapi/v1/order`` | cancel by ``orderId`` or ``origClientOrderId`` | 1 |
| ``DELETE /fapi/v1/allOpenOrders`` | cancel every open order of a symbol | 1 |
| ``GET /fapi/v1/order`` | one order, open or finished | 1 |
| ``GET /fapi/v1/openOrders`` | open orders, of one symbol or all | 1 / 40 |
| ``GET /fapi/v1/userTrades`` | the account's trades on a symbol (at most 7 days apart) | 5 |
| ``GET /fapi/v3/positionRisk`` | net positions (v2 too) | 5 |
| ``GET /fapi/v3/account``, ``/fapi/v3/balance`` | the futures wallet and margins (v2 too) | 5 |
| ``POST``/``PUT``/``DELETE /fapi/v1/listenKey`` | the user stream's key (API key only) | 1 |
| ``GET /fapi/v1/time``, ``/fapi/v1/ping`` | server time, not signed | 1 |

Signed routes check ``X-MBX-APIKEY``, ``timestamp``, ``recvWindow`` and ``signature`` exactly as
the spot routes do (:mod:`engine.sim.auth`: -2014, -2015, -1102, -1022, -1021). Every answer
carries ``X-MBX-USED-WEIGHT-1M``; new orders and modifies count against the account's order
limits and their answers carry ``X-MBX-ORDER-COUNT-10S`` and ``-1M`` (:mod:`.usdm_limits`).
The order-entry routes (new, modify, cancel, cancel-all) serve the venue's order-side faults
(:mod:`engine.sim.trading_faults`): 429/418, "status unknown" (408 -1007 or 503), slow answers;
a garbage fault spoils any answer's body.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import msgspec
from aiohttp import web

from engine.sim.accounts import Account
from engine.sim.auth import rest_account, rest_params
from engine.sim.order_params import illegal, order_id_of, symbol_of
from engine.sim.orders import TIMEOUT_MSG, UNAVAILABLE_MSG
from engine.sim.usdm_limits import weight
from engine.sim.usdm_params import modify, new_order, order_ref, time_range
from engine.sim.usdm_wire import (
    account,
    balances,
    order_body,
    position_risk,
    user_trade,
)
from engine.sim.wire import RestError

if TYPE_CHECKING:
    from engine.sim.usdm_venue import UsdmVenue

_encode = msgspec.json.Encoder().encode
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_Call = Callable[[Account, dict[str, str]], Awaitable[object]]
_TRADES_LIMIT = 500
_TRADES_MAX = 1000
_SEVEN_DAYS_MS = 7 * 24 * 3_600_000
_GARBAGE_PAGE = b"<html><head><title>502 Bad Gateway</title></head><body>502</body></html>"
CANCEL_ALL_DONE = "The operation of cancel all open order is done."


def add_usdm_routes(app: web.Application, usdm: UsdmVenue) -> None:
    """Mount the USD-M endpoints of ``usdm`` on ``app``."""
    rest = _UsdmRest(usdm)
    signed: list[tuple[str, str, _Call, bool, bool]] = [
        ("POST", "/fapi/v1/order", rest.new_order, True, True),
        ("PUT", "/fapi/v1/order", rest.modify, True, True),
        ("DELETE", "/fapi/v1/order", rest.cancel, True, False),
        ("DELETE", "/fapi/v1/allOpenOrders", rest.cancel_all, True, False),
        ("GET", "/fapi/v1/order", rest.query, False, False),
        ("GET", "/fapi/v1/openOrders", rest.open_orders, False, False),
        ("GET", "/fapi/v1/userTrades", rest.user_trades, False, False),
    ]
    for version in ("v2", "v3"):
        signed += [
            ("GET", f"/fapi/{version}/positionRisk", rest.positions, False, False),
            ("GET", f"/fapi/{version}/account", rest.account, False, False),
            ("GET", f"/fapi/{version}/balance", rest.balance, False, False),
        ]
    for method, path, call, entry, counted in signed:
        app.router.add_route(method, path, rest.guarded(rest.signed(call, entry, counted)))
    for method, call in (
        ("POST", rest.listen_key_new),
        ("PUT", rest.listen_key_keepalive),
        ("DELETE", rest.listen_key_close),
    ):
        app.router.add_route(method, "/fapi/v1/listenKey", rest.guarded(rest.keyed(call)))
    app.router.add_get("/fapi/v1/time", rest.guarded(rest.time))
    app.router.add_get("/fapi/v1/ping", rest.guarded(rest.ping))


class _UsdmRest:
    """The handlers over one venue's USD-M desk."""

    def __init__(self, usdm: UsdmVenue) -> None:
        self.usdm = usdm
        self.desk = usdm.desk
        self.faults = usdm.faults
        self.limits = usdm.limits
        self.listed = {i.symbol: i for i in usdm.instruments}

    # ---- wrappers --------------------------------------------------------------------------------

    def guarded(self, handler: _Handler) -> _Handler:
        """Request weight, the venue's slow-answer and garbage faults, Binance's error bodies."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            spent = weight(request.method, request.path, bool(request.query.get("symbol")))
            headers: dict[str, str] = {}
            try:
                used = self.limits.take_weight(request.remote or "?", spent)
                headers["X-MBX-USED-WEIGHT-1M"] = str(used)
                delay = self.usdm.venue_faults.take_delay()
                if delay:
                    await asyncio.sleep(delay)
                response = await handler(request)
            except RestError as exc:
                response = _error(exc)
            garbage = self.faults.take_garbage()
            if garbage is not None:
                response = _garbage(response, garbage)
            response.headers.update(headers)
            return response

        return guarded

    def signed(self, call: _Call, entry: bool, counted: bool) -> _Handler:
        """Authenticate, count orders, serve the order faults, then answer ``call``'s result."""

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
            who = rest_account(self.desk.accounts, key, raw_query, raw_body, params, now_us)
            counts = self.limits.take_order(who.uid) if counted else None
            if entry:
                result = await self._entry(call, who, params)
            else:
                result = await call(who, params)
            return _json(result, counts)

        return run

    async def _entry(self, call: _Call, who: Account, params: dict[str, str]) -> object:
        unknown = self.faults.take_status_unknown()
        if unknown is None:
            result = await call(who, params)
            slow = self.faults.take_slow_order()
            if slow:
                await asyncio.sleep(slow)
            return result
        if unknown.placed:
            with contextlib.suppress(RestError):
                await call(who, params)
        if unknown.delay_s:
            await asyncio.sleep(unknown.delay_s)
        if unknown.answer == "timeout":
            raise RestError(408, -1007, TIMEOUT_MSG)
        raise RestError(503, -1000, UNAVAILABLE_MSG)

    def keyed(self, call: _Call) -> _Handler:
        """The listen-key calls: the API key names the account; nothing is signed."""

        async def run(request: web.Request) -> web.StreamResponse:
            key = request.headers.get("X-MBX-APIKEY") or ""
            who = self.desk.accounts.by_key(key) if key else None
            if not key or not key.isalnum():
                raise RestError(401, -2014, "API-key format invalid.")
            if who is None:
                raise RestError(401, -2015, "Invalid API-key, IP, or permissions for action.")
            return _json(await call(who, {}))

        return run

    # ---- order entry -----------------------------------------------------------------------------

    async def new_order(self, who: Account, params: dict[str, str]) -> object:
        order = new_order(params, self.listed, self._reference(params))
        record = self.desk.place(who, order)
        body = order_body(self.desk.text(order.symbol), record)
        if order.response_type == "ACK":  # the state as the order arrived, before it matched
            body.update(status="NEW", executedQty="0", cumQty="0", cumQuote="0", avgPrice="0")
        return body

    async def modify(self, who: Account, params: dict[str, str]) -> object:
        change = modify(params, self.listed)
        record = self.desk.modify(who, change)
        return order_body(self.desk.text(change.ref.symbol), record)

    async def cancel(self, who: Account, params: dict[str, str]) -> object:
        ref = order_ref(params, self.listed)
        record = self.desk.cancel(who, ref)
        return order_body(self.desk.text(ref.symbol), record)

    async def cancel_all(self, who: Account, params: dict[str, str]) -> object:
        symbol = symbol_of(params, self.listed).symbol
        self.desk.cancel_all(who, symbol)
        return {"code": 200, "msg": CANCEL_ALL_DONE}

    # ---- queries ---------------------------------------------------------------------------------

    async def query(self, who: Account, params: dict[str, str]) -> object:
        ref = order_ref(params, self.listed)
        record = self.desk.find(who, ref)
        if record is None:
            raise RestError(400, -2013, "Order does not exist.")
        return order_body(self.desk.text(ref.symbol), record)

    async def open_orders(self, who: Account, params: dict[str, str]) -> object:
        symbol = symbol_of(params, self.listed).symbol if params.get("symbol") else None
        return [order_body(self.desk.text(r.symbol), r) for r in self.desk.open_orders(who, symbol)]

    async def user_trades(self, who: Account, params: dict[str, str]) -> object:
        symbol = symbol_of(params, self.listed).symbol
        order_id = order_id_of(params)
        from_id = order_id_of(params, "fromId")
        start, end = time_range(params, _SEVEN_DAYS_MS)
        if from_id is not None and (start is not None or end is not None):
            raise RestError(400, -4166, "fromId cannot be sent with startTime or endTime.")
        if start is not None and end is None:
            end = start + _SEVEN_DAYS_MS
        if end is not None and start is None:
            start = end - _SEVEN_DAYS_MS
        limit = order_id_of(params, "limit") or _TRADES_LIMIT
        if not 1 <= limit <= _TRADES_MAX:
            raise illegal("limit", f"[1, {_TRADES_MAX}]")
        trades = [
            t
            for t in self.desk.trades(who, symbol)
            if (order_id is None or t.order_id == order_id)
            and (from_id is None or t.trade_id >= from_id)
            and (start is None or t.time_ms >= start)
            and (end is None or t.time_ms <= end)
        ]
        text = self.desk.text(symbol)
        picked = trades[:limit] if (from_id is not None or start is not None) else trades[-limit:]
        return [user_trade(text, t) for t in picked]

    async def positions(self, who: Account, params: dict[str, str]) -> object:
        wanted = symbol_of(params, self.listed).symbol if params.get("symbol") else None
        now_ms = time.time_ns() // 1_000_000
        out = []
        for text, position, mark in self.desk.positions(who):
            if wanted is not None and position.symbol != wanted:
                continue
            book = self.desk.book(who, position.symbol)
            if wanted is not None or position.size or book.open_by_client:
                out.append(position_risk(text, position, mark, now_ms))
        return out

    async def account(self, who: Account, _params: dict[str, str]) -> object:
        open_ = [p for p in self.desk.positions(who) if p[1].size]
        return account(self.desk.margin(who), open_)

    async def balance(self, who: Account, _params: dict[str, str]) -> object:
        return balances(self.desk.margin(who), who.name)

    async def listen_key_new(self, who: Account, _params: dict[str, str]) -> object:
        return {"listenKey": self.usdm.streams.create(who)}

    async def listen_key_keepalive(self, who: Account, _params: dict[str, str]) -> object:
        return {"listenKey": self.usdm.streams.keepalive(who)}

    async def listen_key_close(self, who: Account, _params: dict[str, str]) -> object:
        self.usdm.streams.close(who)
        return {}

    async def time(self, _request: web.Request) -> web.StreamResponse:
        return _json({"serverTime": time.time_ns() // 1_000_000})

    async def ping(self, _request: web.Request) -> web.StreamResponse:
        return _json({})

    def _reference(self, params: dict[str, str]) -> int:
        """The touch a market order would take from (0 when it cannot be told)."""
        symbol = params.get("symbol")
        if symbol not in self.listed:
            return 0
        model = self.usdm.model(str(symbol))
        return model.best_ask() if params.get("side") == "BUY" else model.best_bid()


def _rate_limited(status: int, retry_after_s: int) -> RestError:
    if status == 418:
        until = time.time_ns() // 1_000_000 + retry_after_s * 1000
        error = RestError(
            418, -1003, f"Way too many requests; IP banned until {until}. Please use the websocket."
        )
    else:
        error = RestError(
            429,
            -1003,
            "Too many requests; current limit of IP is 2400 requests per minute. "
            "Please use the websocket for live updates to avoid polling the API.",
        )
    error.retry_after_s = retry_after_s
    return error


def _json(body: object, counts: tuple[int, int] | None = None) -> web.Response:
    response = web.Response(body=_encode(body), content_type="application/json")
    if counts is not None:
        response.headers["X-MBX-ORDER-COUNT-10S"] = str(counts[0])
        response.headers["X-MBX-ORDER-COUNT-1M"] = str(counts[1])
    return response


def _error(error: RestError) -> web.Response:
    response = web.Response(status=error.status, body=error.body(), content_type="application/json")
    if error.retry_after_s is not None:
        response.headers["Retry-After"] = str(error.retry_after_s)
    return response


def _garbage(response: web.StreamResponse, variant: int) -> web.Response:
    """The same answer with a body that is not JSON: an HTML page, or the JSON cut short."""
    body = response.body if isinstance(response, web.Response) else None
    if variant % 2 == 0 or not isinstance(body, bytes) or not body:
        garbled = web.Response(status=response.status, body=_GARBAGE_PAGE, content_type="text/html")
    else:
        cut = body[: max(1, len(body) // 2)]
        garbled = web.Response(status=response.status, body=cut, content_type="application/json")
    for name in ("Retry-After", "X-MBX-ORDER-COUNT-10S", "X-MBX-ORDER-COUNT-1M"):
        if name in response.headers:
            garbled.headers[name] = response.headers[name]
    return garbled
