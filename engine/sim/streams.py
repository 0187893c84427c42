"""The local venue's WebSocket side, as Binance spot runs it.

Clients connect to ``/stream?streams=a/b`` (combined: each frame wrapped as
``{"stream":...,"data":...}``), ``/ws/<stream>`` or ``/ws`` (raw frames), and may change their
streams live with ``SUBSCRIBE`` / ``UNSUBSCRIBE`` / ``LIST_SUBSCRIPTIONS`` / ``SET_PROPERTY`` /
``GET_PROPERTY``, answered ``{"result":...,"id":...}`` or ``{"error":{"code","msg"},"id":...}``.

Each connection has its own outgoing queue drained by one writer task, so a slow client never
holds up the market; a client that falls too far behind is cut off. The server pings every
``ping_interval_s`` and drops a client that has not answered a ping for ``pong_timeout_s``;
a client sending more than ``max_messages_per_s`` frames in a second (pongs to our pings aside)
is disconnected, as Binance does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import msgspec
from aiohttp import WSCloseCode, WSMsgType, web

from engine.sim import wire

log = logging.getLogger("engine.sim")

_encode = msgspec.json.Encoder().encode
_METHODS = ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY")
MAX_STREAMS = 1024
"""Streams one connection may hold, as on Binance."""


class _ControlError(Exception):
    """A control message Binance would answer with ``{"error": {...}}``."""

    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg


class Connection:
    """One client WebSocket: its streams, its outgoing queue and its writer task."""

    def __init__(
        self, hub: StreamHub, ws: web.WebSocketResponse, request: web.Request, combined: bool
    ) -> None:
        self.hub = hub
        self.ws = ws
        self.peer = request.remote or "?"
        self._transport = request.transport
        self.combined = combined
        self.streams: dict[str, None] = {}  # ordered set, as LIST_SUBSCRIPTIONS reports them
        self._queue: asyncio.Queue[tuple[WSMsgType, str | bytes]] = asyncio.Queue()
        self._pings: deque[bytes] = deque(maxlen=16)
        self.last_pong = time.monotonic()
        self.closing = False

    # ---- outgoing -----------------------------------------------------------------------------

    def send(self, stream: str, data: str) -> None:
        """Queue one event of ``stream`` (already JSON text) in this connection's framing."""
        self._put(WSMsgType.TEXT, wire.combined(stream, data) if self.combined else data)

    def send_raw(self, text: str) -> None:
        """Queue a text frame as is."""
        self._put(WSMsgType.TEXT, text)

    def _put(self, kind: WSMsgType, payload: str | bytes) -> None:
        if self.closing:
            return
        if self._queue.qsize() >= self.hub.queue_limit:
            log.warning("dropping a client that fell behind", extra={"peer": self.peer})
            self.abort()
            return
        self._queue.put_nowait((kind, payload))

    async def write_loop(self) -> None:
        """Send queued frames in order until the connection closes."""
        ws = self.ws
        while True:
            kind, payload = await self._queue.get()
            if ws.closed:
                return
            if kind is WSMsgType.TEXT:
                assert isinstance(payload, str)
                await ws.send_str(payload)
            elif kind is WSMsgType.PING:
                assert isinstance(payload, bytes)
                await ws.ping(payload)
            elif kind is WSMsgType.PONG:
                assert isinstance(payload, bytes)
                await ws.pong(payload)

    async def ping_loop(self) -> None:
        """Ping every interval; close when the last matching pong is older than the timeout."""
        while True:
            await asyncio.sleep(self.hub.ping_interval_s)
            if time.monotonic() - self.last_pong > self.hub.pong_timeout_s:
                log.info("closing a client that stopped answering pings", extra={"peer": self.peer})
                await self.ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"pong timeout")
                return
            payload = str(time.time_ns() // 1_000_000).encode()
            self._pings.append(payload)
            self._put(WSMsgType.PING, payload)

    def reply_pong(self, payload: bytes | bytearray) -> None:
        """Answer a client's ping with the same payload (aiohttp hands it over as a bytearray)."""
        self._put(WSMsgType.PONG, bytes(payload))

    def on_pong(self, payload: bytes) -> None:
        """Only a pong echoing one of our pings keeps the connection alive (as on Binance)."""
        if payload in self._pings:
            self._pings.clear()
            self.last_pong = time.monotonic()

    def abort(self) -> None:
        """Cut the TCP connection at once: no close frame, nothing more sent."""
        self.closing = True
        if self._transport is not None:
            self._transport.abort()

    # ---- incoming control messages -------------------------------------------------------------

    def handle_control(self, text: str) -> None:
        """Answer one ``SUBSCRIBE``-style request."""
        request_id: object = None
        try:
            try:
                message = msgspec.json.decode(text)
            except msgspec.DecodeError:
                raise _ControlError(3, "Invalid JSON: expected value at line 1 column 1") from None
            if not isinstance(message, dict):
                raise _ControlError(2, "Invalid request: expected a JSON object")
            request_id = message.get("id")
            result = self._dispatch(message)
        except _ControlError as exc:
            reply = {"error": {"code": exc.code, "msg": exc.msg}, "id": _safe_id(request_id)}
        else:
            reply = {"result": result, "id": request_id}
        self.send_raw(_encode(reply).decode())

    def _dispatch(self, message: dict[str, Any]) -> object:
        request_id = message.get("id")
        if not _valid_id(request_id):
            raise _ControlError(2, "Invalid request: request ID must be an unsigned integer")
        if "method" not in message:
            raise _ControlError(2, "Invalid request: missing field `method`")
        method = message["method"]
        if method not in _METHODS:
            raise _ControlError(
                2,
                f"Invalid request: unknown variant `{method}`, expected one of `SUBSCRIBE`, "
                "`UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`",
            )
        params = message.get("params", [])
        if not isinstance(params, list):
            raise _ControlError(2, "Invalid request: params must be an array")
        if method == "LIST_SUBSCRIPTIONS":
            return list(self.streams)
        if method in ("SET_PROPERTY", "GET_PROPERTY"):
            return self._property(method, params)
        names = _stream_names(params)
        if method == "SUBSCRIBE":
            self.hub.subscribe(self, names)
        else:
            self.hub.unsubscribe(self, names)
        return None

    def _property(self, method: str, params: list[Any]) -> object:
        if not params or not isinstance(params[0], str):
            raise _ControlError(2, "Invalid request: property name must be a string")
        if params[0] != "combined":
            raise _ControlError(0, "Unknown property")
        if method == "GET_PROPERTY":
            return self.combined
        if len(params) != 2 or not isinstance(params[1], bool):
            raise _ControlError(1, "Invalid value type: expected Boolean")
        self.combined = params[1]
        return None


async def _close_going_away(conn: Connection) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(
            conn.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown"), 1.0
        )


def _valid_id(value: object) -> bool:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value is None or -(2**63) <= value < 2**63
    return isinstance(value, str) and 0 < len(value) <= 36 and value.isalnum()


def _safe_id(value: object) -> object:
    return value if _valid_id(value) else None


def _stream_names(params: list[Any]) -> list[str]:
    for name in params:
        if not isinstance(name, str) or not wire.is_valid_stream_name(name):
            raise _ControlError(2, f"Invalid request: invalid stream name {name!r}")
    return list(params)


class StreamHub:
    """Every WebSocket client of the venue and who listens to which stream.

    Args:
        ping_interval_s: seconds between server pings.
        pong_timeout_s: a client silent to pings for this long is closed.
        max_messages_per_s: incoming frames allowed per second per connection.
        is_served: tells whether a stream name carries data here (others are accepted, silent).
        queue_limit: frames a client may have waiting before it is cut off.
    """

    def __init__(
        self,
        *,
        ping_interval_s: float,
        pong_timeout_s: float,
        max_messages_per_s: int,
        is_served: Callable[[str], bool],
        queue_limit: int = 10_000,
    ) -> None:
        self.ping_interval_s = ping_interval_s
        self.pong_timeout_s = pong_timeout_s
        self.max_messages_per_s = max_messages_per_s
        self.queue_limit = queue_limit
        self._is_served = is_served
        self.connections: set[Connection] = set()
        self._subscribers: dict[str, set[Connection]] = {}

    # ---- subscriptions --------------------------------------------------------------------------

    def subscribers(self, stream: str) -> set[Connection]:
        """Connections listening to ``stream`` (empty when none)."""
        return self._subscribers.get(stream, set())

    def subscribe(self, conn: Connection, names: list[str]) -> None:
        """Add streams to a connection.

        Raises:
            _ControlError: when the connection would hold more than 1024 streams.
        """
        if len(set(conn.streams) | set(names)) > MAX_STREAMS:
            raise _ControlError(2, f"Invalid request: too many streams (at most {MAX_STREAMS})")
        for name in names:
            conn.streams[name] = None
            self._subscribers.setdefault(name, set()).add(conn)
            if not self._is_served(name):
                log.warning(
                    "subscribed to a stream this venue does not serve", extra={"stream": name}
                )

    def unsubscribe(self, conn: Connection, names: list[str]) -> None:
        """Remove streams from a connection (unknown names are ignored)."""
        for name in names:
            conn.streams.pop(name, None)
            listeners = self._subscribers.get(name)
            if listeners is not None:
                listeners.discard(conn)
                if not listeners:
                    del self._subscribers[name]

    # ---- publishing -----------------------------------------------------------------------------

    def broadcast(self, stream: str, data: str, garbage: str | None = None) -> None:
        """Queue one event to every subscriber of ``stream``, preceded by ``garbage`` if given."""
        for conn in tuple(self._subscribers.get(stream, ())):
            if garbage is not None:
                conn.send_raw(wire.combined(stream, garbage) if conn.combined else garbage)
            conn.send(stream, data)

    def drop_all(self) -> int:
        """Cut every connection without a close frame; returns how many."""
        conns = tuple(self.connections)
        for conn in conns:
            conn.abort()
        return len(conns)

    async def close_all(self) -> None:
        """Close every connection politely (1001 going away), for shutdown."""
        conns = tuple(self.connections)
        for conn in conns:
            conn.closing = True
        await asyncio.gather(*(_close_going_away(conn) for conn in conns))

    # ---- the endpoint ---------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Serve ``/ws``, ``/ws/<streams>`` and ``/stream?streams=...`` (also under a route)."""
        path = request.path
        combined = path.endswith("/stream")  # /stream, and routed bases' /public/stream
        if combined:
            raw = request.query.get("streams", "")
        else:
            raw = request.match_info.get("streams", "")
        names = [n for n in raw.split("/") if n]
        if not all(wire.is_valid_stream_name(n) for n in names) or len(names) > MAX_STREAMS:
            return web.json_response({"code": -1100, "msg": "Invalid request"}, status=400)
        ws = web.WebSocketResponse(
            timeout=2.0, autoping=False, compress=False, max_msg_size=1 << 16
        )
        conn = Connection(self, ws, request, combined)
        # subscribed before the handshake completes, so nothing published after the client's
        # connect() returns is missed; frames wait in the queue until the writer starts
        self.connections.add(conn)
        self.subscribe(conn, names)
        writer: asyncio.Task[None] | None = None
        pinger: asyncio.Task[None] | None = None
        try:
            await ws.prepare(request)
            log.info(
                "stream client connected",
                extra={"peer": conn.peer, "path": path, "streams": ",".join(names)},
            )
            writer = asyncio.create_task(conn.write_loop(), name="sim-ws-writer")
            pinger = asyncio.create_task(conn.ping_loop(), name="sim-ws-pinger")
            await self._read_loop(conn)
        finally:
            conn.closing = True
            self.connections.discard(conn)
            self.unsubscribe(conn, list(conn.streams))
            tasks = [t for t in (writer, pinger) if t is not None]
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            log.info("stream client gone", extra={"peer": conn.peer})
        return ws

    async def _read_loop(self, conn: Connection) -> None:
        window_start, in_window = time.monotonic(), 0
        async for msg in conn.ws:
            if msg.type is WSMsgType.PONG:
                conn.on_pong(msg.data)  # answers to our own pings are not held against a client
                continue
            now = time.monotonic()
            if now - window_start >= 1.0:
                window_start, in_window = now, 0
            in_window += 1
            if in_window > self.max_messages_per_s:
                log.info("closing a client over the message rate", extra={"peer": conn.peer})
                conn.closing = True
                await conn.ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"too many messages")
                return
            if msg.type is WSMsgType.TEXT:
                conn.handle_control(msg.data)
            elif msg.type is WSMsgType.PING:
                conn.reply_pong(msg.data)
