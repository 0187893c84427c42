"""The local venue's WebSocket API at ``/ws-api/v3`` and the user data stream (venues.md §1.10).

Requests are ``{"id": ..., "method": ..., "params": {...}}``; answers are
``{"id", "status": 200, "result", "rateLimits"}`` or ``{"id", "status": 4xx, "error": {"code",
"msg"}, "rateLimits"}``. Methods:

| method | does | weight |
|---|---|---|
| ``ping``, ``time`` | ``{}``, ``{"serverTime": ms}`` | 1 |
| ``userDataStream.subscribe.signature`` | subscribe the signer: ``{"subscriptionId": N}`` | 2 |
| ``userDataStream.unsubscribe`` | end one subscription (``subscriptionId``) or all | 1 |
| ``session.subscriptions`` | ``[{"subscriptionId": N}, ...]`` | 1 |
| ``order.*``, ``openOrders.*``, ``account.status`` | as REST (see ``ws_orders``) | as REST |

Signed methods carry ``apiKey``, ``timestamp``, ``signature`` (and optionally ``recvWindow``) in
``params``, signed sorted with raw UTF-8 values. One subscription per account per connection.
Events then arrive as ``{"subscriptionId": N, "event": {...}}``: ``executionReport``,
``outboundAccountPosition``, and ``eventStreamTerminated`` when a subscription ends. Each
connection has its own outgoing queue and writer, so a slow client never holds up the venue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

import msgspec
from aiohttp import WSMsgType, web

from engine.sim import wire
from engine.sim.accounts import Account, Accounts
from engine.sim.auth import mandatory, ws_account
from engine.sim.push_connection import PushConnection
from engine.sim.trading_faults import TradingFaults
from engine.sim.wire import RestError

log = logging.getLogger("engine.sim")

_encode = msgspec.json.Encoder().encode
_CONNECT_WEIGHT = 2
MAX_SUBSCRIPTIONS = 1000
"""Active subscriptions one connection may hold."""

Method = Callable[["WsApiConnection", dict[str, Any]], Awaitable[object]]
"""A WebSocket-API method: the connection and its params in, the ``result`` out."""


class WsAnswer(NamedTuple):
    """A method's result with more ``rateLimits`` entries (the ``ORDERS`` counts of an order)."""

    result: object
    rate_limits: list[dict[str, Any]]


class WsApiConnection(PushConnection):
    """One WebSocket-API client: its outgoing queue, writer, and user-stream subscriptions."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request) -> None:
        super().__init__(ws, request)
        self.subscriptions: dict[int, Account] = {}
        self.next_subscription_id = 0


class UserStreams:
    """Every WebSocket-API connection of the venue and its user-stream subscriptions.

    Args:
        accounts: the venue's accounts (subscriptions are signed by them).
        faults: the order-side faults (malformed user-stream frames).
        heartbeat_s: seconds between server pings; a client that misses the pong is closed.
    """

    def __init__(
        self, accounts: Accounts, faults: TradingFaults, heartbeat_s: float = 20.0
    ) -> None:
        self.accounts = accounts
        self.faults = faults
        self.heartbeat_s = heartbeat_s
        self.connections: set[WsApiConnection] = set()
        self.methods: dict[str, tuple[Method, int]] = {
            "ping": (self._ping, 1),
            "time": (self._time, 1),
            "userDataStream.subscribe.signature": (self._subscribe, 2),
            "userDataStream.unsubscribe": (self._unsubscribe, 1),
            "session.subscriptions": (self._subscriptions, 1),
        }
        self._minute = 0
        self._used = 0

    def add_methods(self, methods: dict[str, tuple[Method, int]]) -> None:
        """Serve more methods (name -> handler and request weight)."""
        self.methods.update(methods)

    # ---- events ----------------------------------------------------------------------------------

    def subscribed(self, account: Account) -> bool:
        """Whether any connection listens to ``account``'s user stream."""
        return any(account in c.subscriptions.values() for c in self.connections)

    def publish(self, account: Account, event: dict[str, Any]) -> None:
        """Send ``event`` to every subscription of ``account``."""
        data = _encode(event).decode()
        for conn in tuple(self.connections):
            for sub_id, subscriber in conn.subscriptions.items():
                if subscriber is account:
                    self._send_event(conn, sub_id, data)

    def _send_event(self, conn: WsApiConnection, sub_id: int, data: str) -> None:
        variant = self.faults.take_malformed_user_frame()
        frame = f'{{"subscriptionId":{sub_id},"event":{data}}}'
        if variant is not None:
            conn.send(_malformed(frame, sub_id, variant))
        conn.send(frame)

    def _terminate(self, conn: WsApiConnection, sub_id: int) -> None:
        conn.subscriptions.pop(sub_id, None)
        event = {"e": "eventStreamTerminated", "E": time.time_ns() // 1_000_000}
        self._send_event(conn, sub_id, _encode(event).decode())

    def drop_all(self) -> int:
        """Cut every connection without a close frame; returns how many."""
        conns = tuple(self.connections)
        for conn in conns:
            conn.abort()
        return len(conns)

    def end_all(self) -> int:
        """End every subscription with ``eventStreamTerminated``; returns how many."""
        ended = 0
        for conn in tuple(self.connections):
            for sub_id in list(conn.subscriptions):
                self._terminate(conn, sub_id)
                ended += 1
        return ended

    async def close_all(self) -> None:
        """Close every connection politely (1001 going away), for shutdown."""
        for conn in tuple(self.connections):
            conn.closing = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.ws.close(code=1001, message=b"server shutdown"), 1.0)

    # ---- the endpoint ----------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Serve ``/ws-api/v3``."""
        ws = web.WebSocketResponse(heartbeat=self.heartbeat_s, max_msg_size=1 << 16)
        conn = WsApiConnection(ws, request)
        await ws.prepare(request)
        self.connections.add(conn)
        self._weigh(_CONNECT_WEIGHT)
        writer = asyncio.create_task(conn.write_loop(), name="sim-ws-api-writer")
        log.info("WebSocket-API client connected", extra={"peer": conn.peer})
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._request(conn, msg.data)
        finally:
            conn.closing = True
            self.connections.discard(conn)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer
            log.info("WebSocket-API client gone", extra={"peer": conn.peer})
        return ws

    async def _request(self, conn: WsApiConnection, text: str) -> None:
        request_id: object = None
        try:
            try:
                message = msgspec.json.decode(text)
            except msgspec.DecodeError:
                raise RestError(400, -1135, "Invalid JSON Request") from None
            if not isinstance(message, dict):
                raise RestError(400, -1135, "Invalid JSON Request")
            request_id = message.get("id")
            if request_id is not None and not isinstance(request_id, int | str):
                request_id = None
                raise mandatory("id")
            method = message.get("method")
            if not isinstance(method, str) or not method:
                raise mandatory("method")
            params = message.get("params", {})
            if not isinstance(params, dict):
                raise mandatory("params")
            served = self.methods.get(method)
            if served is None:
                raise RestError(400, -1020, "This operation is not supported.")
            handler, weight = served
            used = self._weigh(weight)
            if used > wire.REQUEST_WEIGHT_PER_MINUTE:
                raise wire.too_many_requests(60)
            result = await handler(conn, params)
        except RestError as exc:
            error: dict[str, Any] = {"code": exc.code, "msg": exc.msg}
            data = getattr(exc, "data", None)
            if data is not None:
                error["data"] = data
            reply = {"id": request_id, "status": exc.status, "error": error}
            reply["rateLimits"] = self.rate_limits()
        else:
            extra = None
            if isinstance(result, WsAnswer):
                extra = result.rate_limits
                result = result.result
            reply = {"id": request_id, "status": 200, "result": result}
            reply["rateLimits"] = self.rate_limits(extra)
        conn.send(_encode(reply).decode())

    def rate_limits(self, extra: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        """The ``rateLimits`` of an answer: request weight this minute, plus ``extra``."""
        self._weigh(0)
        weight = {
            "rateLimitType": "REQUEST_WEIGHT",
            "interval": "MINUTE",
            "intervalNum": 1,
            "limit": wire.REQUEST_WEIGHT_PER_MINUTE,
            "count": self._used,
        }
        return [*(extra or []), weight]

    def _weigh(self, weight: int) -> int:
        minute = int(time.time() // 60)
        if minute != self._minute:
            self._minute, self._used = minute, 0
        self._used += weight
        return self._used

    # ---- the session's own methods ---------------------------------------------------------------

    async def _ping(self, _conn: WsApiConnection, _params: dict[str, Any]) -> object:
        return {}

    async def _time(self, _conn: WsApiConnection, _params: dict[str, Any]) -> object:
        return {"serverTime": time.time_ns() // 1_000_000}

    async def _subscribe(self, conn: WsApiConnection, params: dict[str, Any]) -> object:
        account = ws_account(self.accounts, params, time.time_ns() // 1000)
        if account in conn.subscriptions.values():
            raise RestError(400, -2035, "User Data Stream subscription already active.")
        if len(conn.subscriptions) >= MAX_SUBSCRIPTIONS:
            raise RestError(400, -1191, "Too many subscriptions.")
        sub_id = conn.next_subscription_id
        conn.next_subscription_id += 1
        conn.subscriptions[sub_id] = account
        log.info("user stream subscribed", extra={"account": account.name, "id": sub_id})
        return {"subscriptionId": sub_id}

    async def _unsubscribe(self, conn: WsApiConnection, params: dict[str, Any]) -> object:
        wanted = params.get("subscriptionId")
        if wanted is None:
            ids = list(conn.subscriptions)
        elif isinstance(wanted, int) and wanted in conn.subscriptions:
            ids = [wanted]
        else:
            raise RestError(400, -2036, "User Data Stream subscription not found.")
        for sub_id in ids:
            asyncio.get_running_loop().call_soon(self._terminate, conn, sub_id)
            conn.subscriptions.pop(sub_id, None)
        return {}

    async def _subscriptions(self, conn: WsApiConnection, _params: dict[str, Any]) -> object:
        return [{"subscriptionId": sub_id} for sub_id in conn.subscriptions]


def _malformed(frame: str, sub_id: int, variant: int) -> str:
    """A user-stream frame a careful client must reject: cut short (even) or wrong shape (odd)."""
    if variant % 2 == 0:
        return frame[: max(1, len(frame) // 2)]
    bad = {"subscriptionId": sub_id, "event": {"e": "executionReport", "E": "soon", "i": None}}
    return _encode(bad).decode()
