"""The local venue's Bybit v5 private WebSocket at ``/v5/private`` (venues.md §3.2, §3.6, §3.9).

Requests are ``{"req_id", "op", "args"}``:

| op | answer |
|---|---|
| ``auth`` ``[api_key, expires_ms, signature]`` | ``{"success", "ret_msg", "op", "conn_id"}`` |
| ``subscribe`` / ``unsubscribe`` topics (after auth) | the same shape |
| ``ping`` | ``{"op":"pong", "args":["<ms>"], "conn_id"}`` (the private socket's shape) |

``req_id`` is echoed when sent. Topics: ``order``, ``execution``, ``position``, ``wallet`` (and
``order.linear``, ``execution.linear``, ``position.linear``); pushes are ``{"id", "topic",
"creationTime", "data": [...]}`` with Bybit's field names (:mod:`engine.sim.bybit_wire`). A
connection that sends nothing (no ping) for ``idle_timeout_s`` is cut, as Bybit cuts at 10
minutes. Each connection has its own outgoing queue and writer, so a slow client never holds up
the venue. The venue's order-side faults apply: a broken frame can go ahead of a push;
:meth:`PrivateStreams.drop_all` cuts every connection without a close frame, and
:meth:`PrivateStreams.skip_pongs_next` leaves pings unanswered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from typing import Any

import msgspec
from aiohttp import WSMsgType, web

from engine.sim.accounts import Account, Accounts
from engine.sim.bybit_auth import WsAuthRefused, ws_account
from engine.sim.push_connection import PushConnection
from engine.sim.trading_faults import TradingFaults

log = logging.getLogger("engine.sim")

_encode = msgspec.json.Encoder().encode
TOPICS = frozenset(
    {"order", "execution", "position", "wallet", "order.linear", "execution.linear"}
    | {"position.linear"}
)
"""Topics the venue pushes."""
IDLE_TIMEOUT_S = 600.0
_ENDS = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR)


class PrivateConnection(PushConnection):
    """One client of ``/v5/private``: its account once authenticated, topics, queue, writer."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, conn_id: str) -> None:
        super().__init__(ws, request)
        self.conn_id = conn_id
        self.account: Account | None = None
        self.topics: set[str] = set()

    def wants(self, account: Account, topic: str) -> bool:
        """Whether this connection gets ``account``'s pushes on ``topic``."""
        return self.account is account and (
            topic in self.topics or f"{topic}.linear" in self.topics
        )


class PrivateStreams:
    """Every ``/v5/private`` connection of the venue.

    Args:
        accounts: the venue's accounts (connections authenticate as one of them).
        faults: the order-side faults (broken frames ahead of pushes).
        seed: seeds connection and push ids.
        idle_timeout_s: a connection that sends nothing this long is cut.
    """

    def __init__(
        self,
        accounts: Accounts,
        faults: TradingFaults,
        *,
        seed: int = 7,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
    ) -> None:
        self.accounts = accounts
        self.faults = faults
        self.idle_timeout_s = idle_timeout_s
        self.connections: set[PrivateConnection] = set()
        self._ids = random.Random(f"{seed}:bybit-private")
        self._unanswered = 0

    def _id(self) -> str:
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    # ---- pushes ----------------------------------------------------------------------------------

    def subscribed(self, account: Account, topic: str) -> bool:
        """Whether any connection gets ``account``'s pushes on ``topic``."""
        return any(c.wants(account, topic) for c in self.connections)

    def publish(self, account: Account, topic: str, items: list[dict[str, Any]]) -> None:
        """Push ``items`` on ``topic`` to every connection of ``account`` subscribed to it."""
        targets = [c for c in self.connections if c.wants(account, topic)]
        if not targets:
            return
        now_ms = time.time_ns() // 1_000_000
        for conn in targets:
            name = topic if topic in conn.topics else f"{topic}.linear"
            frame = {"id": self._id(), "topic": name, "creationTime": now_ms, "data": items}
            text = _encode(frame).decode()
            variant = self.faults.take_malformed_user_frame()
            if variant is not None:
                conn.send(_malformed(text, name, variant))
            conn.send(text)

    def skip_pongs_next(self, count: int = 1) -> None:
        """Leave the next ``count`` pings unanswered (a stalled connection, for heartbeats)."""
        self._unanswered += count
        log.info("fault armed: unanswered private pings", extra={"count": count})

    def drop_all(self) -> int:
        """Cut every connection without a close frame; returns how many."""
        conns = tuple(self.connections)
        for conn in conns:
            conn.abort()
        return len(conns)

    async def close_all(self) -> None:
        """Close every connection politely (1001 going away), for shutdown."""
        for conn in tuple(self.connections):
            conn.closing = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.ws.close(code=1001, message=b"server shutdown"), 1.0)

    # ---- the endpoint ----------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Serve ``/v5/private``."""
        ws = web.WebSocketResponse(max_msg_size=1 << 16)
        conn = PrivateConnection(ws, request, self._id())
        await ws.prepare(request)
        self.connections.add(conn)
        writer = asyncio.create_task(conn.write_loop(), name="sim-bybit-private-writer")
        log.info("Bybit private client connected", extra={"peer": conn.peer})
        try:
            while True:
                try:
                    msg = await ws.receive(timeout=self.idle_timeout_s)
                except TimeoutError:
                    log.info("Bybit private client idle; cut", extra={"peer": conn.peer})
                    conn.abort()
                    break
                if msg.type is WSMsgType.TEXT:
                    self._request(conn, msg.data)
                elif msg.type in _ENDS:
                    break
        finally:
            conn.closing = True
            self.connections.discard(conn)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer
            log.info("Bybit private client gone", extra={"peer": conn.peer})
        return ws

    def _request(self, conn: PrivateConnection, text: str) -> None:
        try:
            message = msgspec.json.decode(text)
        except msgspec.DecodeError:
            message = None
        if not isinstance(message, dict):
            self._reply(conn, {}, "", False, "error:request not a JSON object")
            return
        op = message.get("op")
        if op == "ping" and self._unanswered:
            self._unanswered -= 1
        elif op == "ping":
            now = str(time.time_ns() // 1_000_000)
            self._send(conn, message, {"op": "pong", "args": [now], "conn_id": conn.conn_id})
        elif op == "auth":
            self._auth(conn, message)
        elif op in ("subscribe", "unsubscribe"):
            self._subscribe(conn, message, op)
        else:
            self._reply(conn, message, str(op or ""), False, f"error:unknown op {op!r}")

    def _auth(self, conn: PrivateConnection, message: dict[str, Any]) -> None:
        if conn.account is not None:
            self._reply(conn, message, "auth", False, "error:already authenticated")
            return
        try:
            account = ws_account(self.accounts, message.get("args"), time.time_ns() // 1_000_000)
        except WsAuthRefused as exc:
            self._reply(conn, message, "auth", False, str(exc))
            return
        conn.account = account
        log.info("Bybit private client authenticated", extra={"account": account.name})
        self._reply(conn, message, "auth", True, "")

    def _subscribe(self, conn: PrivateConnection, message: dict[str, Any], op: str) -> None:
        if conn.account is None:
            self._reply(conn, message, op, False, "Request not authorized")
            return
        args = message.get("args")
        if not isinstance(args, list) or not args or not all(isinstance(a, str) for a in args):
            self._reply(conn, message, op, False, "error:args must be a list of topics")
            return
        unknown = [a for a in args if a not in TOPICS]
        if unknown:
            self._reply(conn, message, op, False, f"error:handler not found,topic:{unknown[0]}")
            return
        if op == "subscribe":
            conn.topics.update(args)
        else:
            conn.topics.difference_update(args)
        self._reply(conn, message, op, True, "")

    def _reply(
        self, conn: PrivateConnection, message: dict[str, Any], op: str, success: bool, msg: str
    ) -> None:
        answer = {"success": success, "ret_msg": msg, "op": op, "conn_id": conn.conn_id}
        self._send(conn, message, answer)

    @staticmethod
    def _send(conn: PrivateConnection, message: dict[str, Any], answer: dict[str, Any]) -> None:
        req_id = message.get("req_id")
        if isinstance(req_id, str):
            answer = {"req_id": req_id, **answer}
        conn.send(_encode(answer).decode())


def _malformed(frame: str, topic: str, variant: int) -> str:
    """A push a careful client must reject: cut short (even) or with a broken item (odd)."""
    if variant % 2 == 0:
        return frame[: max(1, len(frame) // 2)]
    bad = {"id": "broken", "topic": topic, "creationTime": 0, "data": [{"symbol": None}]}
    return _encode(bad).decode()
