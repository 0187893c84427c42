"""The local venue's Bybit v5 linear REST endpoints (venues.md §3.5-3.8), signed and rate-limited.

| route | does | limit /s |
|---|---|---|
| ``POST /v5/order/create`` | new order: Limit/Market, GTC/IOC/FOK/PostOnly, reduceOnly | 10 |
| ``POST /v5/order/cancel`` | cancel by ``orderId`` or ``orderLinkId`` | 10 |
| ``POST /v5/order/amend`` | new ``qty`` and/or ``price``, the same ids | 10 |
| ``POST /v5/order/cancel-all`` | every working order of a symbol or a settle coin | 10 |
| ``GET /v5/order/realtime`` | working orders (by id: finished ones too), paged | 50 |
| ``GET /v5/order/history`` | finished orders, 7 days at most, paged | 50 |
| ``GET /v5/execution/list`` | our fills, 7 days at most, paged (:mod:`.bybit_history`) | 50 |
| ``GET /v5/position/list`` | net positions, paged | 50 |
| ``GET /v5/account/wallet-balance`` | the unified account's coins | 50 |
| ``GET /v5/market/time`` | ``timeSecond``, ``timeNano`` (not signed) | |

Signed routes check the ``X-BAPI-*`` headers (:mod:`engine.sim.bybit_auth`) and count against the
account's limits (:mod:`engine.sim.bybit_limits`), whose headers every signed answer carries.
Answers are HTTP 200 with Bybit's ``retCode`` (403 only for the IP limit). The order-entry routes
also serve the venue's order-side faults (:mod:`engine.sim.trading_faults`): a rate-limit fault
answers 10006 (a ban fault: 403), "status unknown" answers 10016 after carrying the request out
or not, slow answers wait; a garbage fault spoils any answer's body.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from engine.sim.accounts import Account
from engine.sim.bybit_auth import rest_account
from engine.sim.bybit_history import execution_list, order_history
from engine.sim.bybit_params import (
    MAX_PAGE,
    amend,
    body_params,
    category_of,
    create_order,
    next_cursor,
    order_ref,
    page_of,
    params_error,
    symbols_of,
)
from engine.sim.bybit_wire import (
    CATEGORY,
    BybitError,
    answer,
    order_item,
    position_item,
    wallet_item,
)

if TYPE_CHECKING:
    from engine.sim.bybit_venue import BybitLinear

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_Signed = Callable[[Account, dict[str, Any]], Awaitable[object]]
_JSON = "application/json"
TOO_MANY = "Too many visits!"
UNKNOWN_MSG = "Internal System Error."
_GARBAGE_PAGE = b"<html><head><title>502 Bad Gateway</title></head><body>502</body></html>"


def add_bybit_routes(app: web.Application, linear: BybitLinear) -> None:
    """Mount the Bybit linear endpoints of ``linear`` on ``app``."""
    rest = _BybitRest(linear)
    posts: list[tuple[str, _Signed]] = [
        ("/v5/order/create", rest.create),
        ("/v5/order/cancel", rest.cancel),
        ("/v5/order/amend", rest.amend),
        ("/v5/order/cancel-all", rest.cancel_all),
    ]
    gets: list[tuple[str, _Signed]] = [
        ("/v5/order/realtime", rest.realtime),
        ("/v5/order/history", rest.history),
        ("/v5/execution/list", rest.executions),
        ("/v5/position/list", rest.positions),
        ("/v5/account/wallet-balance", rest.wallet),
    ]
    for path, handler in posts:
        app.router.add_post(path, rest.signed(handler, entry=True))
    for path, handler in gets:
        app.router.add_get(path, rest.signed(handler, entry=False))
    app.router.add_get("/v5/market/time", rest.time)


class _BybitRest:
    """The handlers over one venue's linear desk."""

    def __init__(self, linear: BybitLinear) -> None:
        self.linear = linear
        self.desk = linear.desk
        self.faults = linear.faults
        self.limits = linear.limits
        self.listed = {i.symbol: i for i in linear.instruments}

    def signed(self, handler: _Signed, *, entry: bool) -> _Handler:
        """Check address limit, faults, signature and account limit, then run ``handler``."""

        async def run(request: web.Request) -> web.StreamResponse:
            if not self.limits.take_ip(request.remote or "?"):
                return web.Response(status=403, text="access too frequent")
            delay = self.linear.venue_faults.take_delay()
            if delay:
                await asyncio.sleep(delay)
            if entry:
                limited = self.faults.take_order_rate_limit()
                if limited is not None:
                    return self._rate_limited(limited.status, limited.retry_after_s)
            raw = await request.read()
            payload = raw if request.method == "POST" else request.rel_url.raw_query_string.encode()
            now_ms = self.limits.now_ms()
            headers: dict[str, str] = {}
            try:
                account = rest_account(self.desk.accounts, request.headers, payload, now_ms)
                state = self.limits.take(account.uid, request.path)
                headers = state.headers()
                if not state.allowed:
                    raise BybitError(10006, TOO_MANY)
                params = body_params(raw) if request.method == "POST" else dict(request.query)
                result = await self._run(handler, account, params, entry)
                body = answer(result, self.limits.now_ms())
            except BybitError as exc:
                body = answer({}, self.limits.now_ms(), exc.ret_code, exc.ret_msg)
            if entry:
                slow = self.faults.take_slow_order()
                if slow:
                    await asyncio.sleep(slow)
            garbage = self.faults.take_garbage()
            if garbage is not None:
                body = _GARBAGE_PAGE if garbage % 2 == 0 else body[: max(1, len(body) // 2)]
            return web.Response(body=body, content_type=_JSON, headers=headers)

        return run

    async def _run(
        self, handler: _Signed, account: Account, params: dict[str, Any], entry: bool
    ) -> object:
        unknown = self.faults.take_status_unknown() if entry else None
        if unknown is None:
            return await handler(account, params)
        if unknown.delay_s:
            await asyncio.sleep(unknown.delay_s)
        if unknown.placed:
            with contextlib.suppress(BybitError):
                await handler(account, params)
        raise BybitError(10016, UNKNOWN_MSG)

    def _rate_limited(self, status: int, retry_after_s: int) -> web.Response:
        if status == 418:
            return web.Response(status=403, text="access too frequent")
        now = self.limits.now_ms()
        reset = now + retry_after_s * 1000
        headers = {
            "X-Bapi-Limit": "10",
            "X-Bapi-Limit-Status": "0",
            "X-Bapi-Limit-Reset-Timestamp": str(reset),
        }
        return web.Response(
            body=answer({}, now, 10006, TOO_MANY), content_type=_JSON, headers=headers
        )

    # ---- order entry -----------------------------------------------------------------------------

    async def create(self, account: Account, params: dict[str, Any]) -> object:
        reference = 0
        symbol = params.get("symbol")
        if isinstance(symbol, str) and symbol in self.listed:
            model = self.linear.model(symbol)
            reference = model.best_ask() if params.get("side") == "Buy" else model.best_bid()
        order = create_order(params, self.listed, reference)
        record = self.desk.place(account, order)
        return {"orderId": record.order_id, "orderLinkId": record.order_link_id}

    async def cancel(self, account: Account, params: dict[str, Any]) -> object:
        record = self.desk.cancel(account, order_ref(params, self.listed))
        return {"orderId": record.order_id, "orderLinkId": record.order_link_id}

    async def amend(self, account: Account, params: dict[str, Any]) -> object:
        record = self.desk.amend(account, amend(params, self.listed))
        return {"orderId": record.order_id, "orderLinkId": record.order_link_id}

    async def cancel_all(self, account: Account, params: dict[str, Any]) -> object:
        category_of(params)
        done = self.desk.cancel_all(account, symbols_of(params, self.listed))
        listed = [{"orderId": r.order_id, "orderLinkId": r.order_link_id} for r in done]
        return {"list": listed, "success": "1"}

    # ---- queries ---------------------------------------------------------------------------------

    async def realtime(self, account: Account, params: dict[str, Any]) -> object:
        category_of(params)
        order_id = params.get("orderId") or ""
        link_id = params.get("orderLinkId") or ""
        by_id = bool(order_id or link_id)
        symbols = (
            list(self.listed)
            if by_id and not params.get("symbol")
            else symbols_of(params, self.listed)
        )
        found = []
        for symbol in symbols:
            for record in self.desk.orders(account, symbol):
                if by_id:
                    if (order_id and record.order_id != order_id) or (
                        link_id and record.order_link_id != link_id
                    ):
                        continue
                elif not record.is_open:
                    continue
                found.append(order_item(self.desk.text(symbol), record))
        limit, offset = page_of(params, 20, MAX_PAGE)
        page = found[offset : offset + limit]
        cursor = next_cursor(offset, limit, len(found))
        return {"list": page, "nextPageCursor": cursor, "category": CATEGORY}

    async def history(self, account: Account, params: dict[str, Any]) -> object:
        return order_history(self.desk, self.listed, account, params, self.limits.now_ms())

    async def executions(self, account: Account, params: dict[str, Any]) -> object:
        return execution_list(self.desk, self.listed, account, params, self.limits.now_ms())

    async def positions(self, account: Account, params: dict[str, Any]) -> object:
        category_of(params)
        one = bool(params.get("symbol"))
        items = []
        for symbol in symbols_of(params, self.listed):
            position = self.desk.book(account, symbol).position
            if one or position.size:
                text, mark = self.desk.text(symbol), self.desk.mark(symbol)
                now_ms = time.time_ns() // 1_000_000
                items.append(position_item(text, position, mark, now_ms, push=False))
        limit, offset = page_of(params, 20, 200)
        page = items[offset : offset + limit]
        cursor = next_cursor(offset, limit, len(items))
        return {"list": page, "nextPageCursor": cursor, "category": CATEGORY}

    async def wallet(self, account: Account, params: dict[str, Any]) -> object:
        if params.get("accountType") != "UNIFIED":
            raise params_error("accountType only supports UNIFIED")
        coins = [c for c in (params.get("coin") or "").split(",") if c]
        return {"list": [wallet_item(account, self.desk.positions(account), coins)]}

    async def time(self, _request: web.Request) -> web.StreamResponse:
        now_ns = time.time_ns()
        result = {"timeSecond": str(now_ns // 1_000_000_000), "timeNano": str(now_ns)}
        return web.Response(body=answer(result, now_ns // 1_000_000), content_type=_JSON)
