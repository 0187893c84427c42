"""Order entry over the local venue's WebSocket API: the REST order calls as WebSocket methods.

``order.place``, ``order.cancel``, ``order.status``, ``openOrders.status``,
``openOrders.cancelAll`` and ``account.status`` take the REST endpoints' parameters inside
``params`` (numbers may be JSON numbers), signed as the WebSocket API signs, and answer the REST
bodies as ``result``. ``order.place`` adds the account's ``ORDERS`` counts to ``rateLimits``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from engine.sim import order_wire
from engine.sim.accounts import Account
from engine.sim.auth import param_text, ws_account
from engine.sim.order_params import cancel_target, client_id, new_order, order_id_of, symbol_of
from engine.sim.user_stream import Method, WsAnswer, WsApiConnection
from engine.sim.wire import RestError

if TYPE_CHECKING:
    from engine.sim.server import SimVenue


def ws_order_methods(venue: SimVenue) -> dict[str, tuple[Method, int]]:
    """The order methods over ``venue``'s desk, with their request weights."""
    orders = _WsOrders(venue)
    return {
        "order.place": (orders.place, 1),
        "order.cancel": (orders.cancel, 1),
        "order.status": (orders.status, 4),
        "openOrders.status": (orders.open_orders, 6),
        "openOrders.cancelAll": (orders.cancel_all, 1),
        "account.status": (orders.account, 20),
    }


class _WsOrders:
    def __init__(self, venue: SimVenue) -> None:
        self.venue = venue
        self.desk = venue.desk
        self.listed = {i.symbol: i for i in venue.instruments}

    def _signed(self, params: dict[str, Any]) -> tuple[Account, dict[str, str]]:
        account = ws_account(self.desk.accounts, params, time.time_ns() // 1000)
        return account, {k: param_text(v) for k, v in params.items()}

    async def place(self, _conn: WsApiConnection, params: dict[str, Any]) -> object:
        account, text = self._signed(params)
        order = new_order(text, self.listed, self._reference(text))
        placed = self.desk.place(account, order)
        body = order_wire.new_order_answer(
            order.response_type,
            self.desk.text(order.symbol),
            placed.record,
            placed.record.created_ms,
            placed.fills,
        )
        return WsAnswer(body, self.desk.counts[account.uid].rate_limits(placed.counts))

    async def cancel(self, _conn: WsApiConnection, params: dict[str, Any]) -> object:
        account, text = self._signed(params)
        target = cancel_target(text, self.listed)
        record, cancel_id = self.desk.cancel(account, target)
        return order_wire.canceled(
            self.desk.text(target.symbol), record, cancel_id, record.update_ms
        )

    async def status(self, _conn: WsApiConnection, params: dict[str, Any]) -> object:
        account, text = self._signed(params)
        symbol = symbol_of(text, self.listed).symbol
        order_id = order_id_of(text)
        orig = client_id(text, "origClientOrderId") or None
        record = self.desk.find(account, symbol, order_id, orig)
        if record is None:
            raise RestError(400, -2013, "Order does not exist.")
        return order_wire.query(self.desk.text(symbol), record)

    async def open_orders(self, _conn: WsApiConnection, params: dict[str, Any]) -> object:
        account, text = self._signed(params)
        symbol = symbol_of(text, self.listed).symbol if text.get("symbol") else None
        records = self.desk.open_orders(account, symbol)
        return [order_wire.query(self.desk.text(r.symbol), r) for r in records]

    async def cancel_all(self, _conn: WsApiConnection, params: dict[str, Any]) -> object:
        account, text = self._signed(params)
        symbol = symbol_of(text, self.listed).symbol
        words = self.desk.text(symbol)
        done = self.desk.cancel_all(account, symbol)
        return [order_wire.canceled(words, r, cid, r.update_ms) for r, cid in done]

    async def account(self, _conn: WsApiConnection, params: dict[str, Any]) -> object:
        account, text = self._signed(params)
        omit = text.get("omitZeroBalances") == "true"
        return order_wire.account(account, time.time_ns() // 1_000_000, omit_zero=omit)

    def _reference(self, params: dict[str, str]) -> int:
        symbol = params.get("symbol", "")
        if symbol not in self.listed:
            return 0
        model = self.venue.model(symbol)
        return model.best_ask() if params.get("side") == "BUY" else model.best_bid()
