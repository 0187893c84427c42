"""The local venue's Bybit v5 public streams, ``/v5/public/linear`` and ``/v5/public/spot``.

Served from the same market models as every other stream of the venue. A client sends
``{"op":"subscribe","args":[...]}`` (at most 10 args a request, Bybit spot's limit) and
``unsubscribe``, each answered ``{"success":..,"ret_msg":..,"conn_id":..,"req_id":..,"op":..}``,
and ``{"op":"ping"}``, answered with ``ret_msg`` ``pong``. Topics:

- ``orderbook.{depth}.{symbol}`` (depth 1, 50, 200, 500, 1000): one state per category and
  topic, shared by its subscribers: the top ``depth`` levels last published and their ``u``.
  Subscribing sends that image as a ``snapshot``; every push interval of the depth (10, 20,
  100, 100, 200 ms) the top levels now are compared with it and the differences go out as one
  ``delta`` with ``u + 1`` (levels leaving the top get size 0, as Bybit's do);
- ``publicTrade.{symbol}``: each print at once, ``S`` the taker's side.

Faults armed on the venue apply: a gap loses the next deltas (``u`` still advances, so the next
one a client sees jumps), duplicated and reordered deltas, malformed and oversized frames ahead
of real ones, disconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import msgspec
from aiohttp import WSCloseCode, WSMsgType, web

from engine.sim.push_connection import PushConnection

if TYPE_CHECKING:
    from engine.core.instruments import Instrument
    from engine.sim.faults import FaultInjector
    from engine.sim.market import Level, LevelChange, MarketModel, TradePrint

log = logging.getLogger("engine.sim")

_encode = msgspec.json.Encoder().encode
CATEGORIES = ("linear", "spot")
"""The public sockets served."""
PUSH_MS = {1: 10, 50: 20, 200: 100, 500: 100, 1000: 200}
"""Push interval of each orderbook depth, ms (venues.md §3.3)."""
ARGS_PER_REQUEST = 10
_FIRST_U = 1000  # a topic's first snapshot id (u == 1 would mean a venue restart)
_MAX_QUEUED = 10_000  # frames a client may have waiting before it is cut off


class _Book:
    """One orderbook topic of one category: the image last published and its ``u``."""

    __slots__ = ("asks", "bids", "depth", "due", "interval_s", "lost", "name", "symbol", "u")

    def __init__(self, name: str, symbol: str, depth: int, model: MarketModel) -> None:
        self.name = name
        self.symbol = symbol
        self.depth = depth
        self.interval_s = PUSH_MS[depth] / 1000
        self.due = 0.0
        self.bids: dict[int, int] = dict(model.bids(depth))
        self.asks: dict[int, int] = dict(model.asks(depth))
        self.u = _FIRST_U
        self.lost = 0


class _Client(PushConnection):
    """One public socket: its category and its topics."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, category: str) -> None:
        super().__init__(ws, request)
        self.category = category
        self.topics: set[str] = set()
        self.conn_id = ""

    def push(self, text: str) -> None:
        """Queue a frame, cutting off a client that fell too far behind."""
        if self._queue.qsize() >= _MAX_QUEUED:
            log.warning("dropping a public client that fell behind", extra={"peer": self.peer})
            self.abort()
            return
        self.send(text)


class BybitMarketStreams:
    """The Bybit public side of the local venue.

    Args:
        instruments: the venue's instruments.
        models: their market models (shared with every other stream).
        faults: the venue's fault injector.
        seed: seeds connection ids.
    """

    def __init__(
        self,
        instruments: list[Instrument],
        models: dict[str, MarketModel],
        faults: FaultInjector,
        *,
        seed: int = 7,
    ) -> None:
        self._instruments = {i.symbol: i for i in instruments}
        self._grids = {i.symbol: (i.price_grid(), i.size_grid()) for i in instruments}
        self._models = models
        self.faults = faults
        self._books: dict[tuple[str, str], _Book] = {}
        self.clients: set[_Client] = set()
        self._conn_ids = itertools.count(seed * 1_000_003)
        self._started = 0.0

    # ---- the venue's calls -----------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        """Mount ``/v5/public/linear`` and ``/v5/public/spot``."""
        for category in CATEGORIES:
            app.router.add_get(f"/v5/public/{category}", self._handler(category))

    def start(self, now: float) -> None:
        """The market task starts at loop time ``now``."""
        self._started = now

    def on_activity(
        self, symbol: str, changes: list[LevelChange], trades: list[TradePrint], event_ms: int
    ) -> None:
        """Trades go out at once; level changes are read from the model at the next push."""
        if not trades:
            return
        topic = f"publicTrade.{symbol}"
        for category in CATEGORIES:
            listeners = [c for c in self.clients if c.category == category and topic in c.topics]
            if not listeners:
                continue
            frame = self._trades(symbol, trades, event_ms)
            for client in listeners:
                self._send(client, frame, topic)

    def flush_due(self, now: float, event_ms: int) -> None:
        """Push a delta for every topic whose interval is up at loop time ``now``."""
        for (category, _), book in self._books.items():
            if now >= book.due:
                self._push_delta(category, book, event_ms)
                book.due = max(book.due + book.interval_s, now)

    def flush_all(self, event_ms: int) -> None:
        """Push every topic's differences now (pause, step)."""
        for (category, _), book in self._books.items():
            self._push_delta(category, book, event_ms)

    def skip_update_ids(self, symbol: str, missing: int) -> None:
        """A gap: the next ``missing`` deltas of every ``symbol`` topic are lost."""
        for book in self._books.values():
            if book.symbol == symbol:
                book.lost += missing

    def snapshot_now(self, symbol: str) -> int:
        """Push a fresh snapshot of every ``symbol`` book topic mid-stream; how many were sent.

        Bybit may do so after a server-side problem; deltas go on from the new ``u``.
        """
        sent = 0
        for (category, _), book in self._books.items():
            if book.symbol != symbol:
                continue
            model = self._models[symbol]
            book.bids, book.asks = dict(model.bids(book.depth)), dict(model.asks(book.depth))
            book.u += 1
            frame = self._snapshot(book)
            for client in self.clients:
                if client.category == category and book.name in client.topics:
                    client.push(frame)
                    sent += 1
        log.info("pushed snapshots mid-stream", extra={"symbol": symbol, "sent": sent})
        return sent

    def drop_connections(self) -> int:
        """Cut every public socket without a close frame; returns how many."""
        clients = tuple(self.clients)
        for client in clients:
            client.abort()
        return len(clients)

    async def close(self) -> None:
        """Close every public socket politely (1001 going away)."""
        for client in tuple(self.clients):
            client.closing = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    client.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown"), 1.0
                )

    # ---- the socket ------------------------------------------------------------------------------

    def _handler(
        self, category: str
    ) -> Callable[[web.Request], Coroutine[Any, Any, web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            return await self._serve(request, category)

        return handle

    async def _serve(self, request: web.Request, category: str) -> web.StreamResponse:
        ws = web.WebSocketResponse(timeout=2.0, compress=False, max_msg_size=1 << 16)
        client = _Client(ws, request, category)
        client.conn_id = f"sim-{next(self._conn_ids):x}"
        await ws.prepare(request)
        self.clients.add(client)
        writer = asyncio.create_task(client.write_loop(), name="sim-bybit-public-writer")
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    self._on_request(client, msg.data)
        finally:
            client.closing = True
            self.clients.discard(client)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer
        return ws

    def _on_request(self, client: _Client, text: str) -> None:
        try:
            request = msgspec.json.decode(text)
        except msgspec.DecodeError:
            self._answer(client, "", "", success=False, message="Invalid JSON")
            return
        if not isinstance(request, dict):
            self._answer(client, "", "", success=False, message="Invalid request")
            return
        op = request.get("op", "")
        req_id = str(request.get("req_id", ""))
        args = request.get("args", [])
        if op == "ping":
            self._answer(client, "ping", req_id, success=True, message="pong")
        elif op in ("subscribe", "unsubscribe") and isinstance(args, list):
            self._subscription(client, op, req_id, [str(a) for a in args])
        else:
            self._answer(client, str(op), req_id, success=False, message=f"unknown op {op!r}")

    def _subscription(self, client: _Client, op: str, req_id: str, args: list[str]) -> None:
        if len(args) > ARGS_PER_REQUEST:
            message = f"args size >{ARGS_PER_REQUEST}"
            self._answer(client, op, req_id, success=False, message=message)
            return
        bad = [a for a in args if not self._known(a)]
        if bad:
            message = f"error:handler not found,topic:{bad[0]}"
            self._answer(client, op, req_id, success=False, message=message)
            return
        if op == "unsubscribe":
            client.topics.difference_update(args)
            self._answer(client, op, req_id, success=True, message="")
            return
        client.topics.update(args)
        self._answer(client, op, req_id, success=True, message="")
        for topic in args:
            if topic.startswith("orderbook."):
                book = self._book(client.category, topic)
                self._send(client, self._snapshot(book), topic)

    def _known(self, topic: str) -> bool:
        parts = topic.split(".")
        if len(parts) == 2 and parts[0] == "publicTrade":
            return parts[1] in self._instruments
        if len(parts) == 3 and parts[0] == "orderbook" and parts[1].isdigit():
            return int(parts[1]) in PUSH_MS and parts[2] in self._instruments
        return False

    def _answer(
        self, client: _Client, op: str, req_id: str, *, success: bool, message: str
    ) -> None:
        doc = {
            "success": success,
            "ret_msg": message,
            "conn_id": client.conn_id,
            "req_id": req_id,
            "op": op,
        }
        client.push(_encode(doc).decode())

    # ---- books and trades ------------------------------------------------------------------------

    def _book(self, category: str, topic: str) -> _Book:
        book = self._books.get((category, topic))
        if book is None:
            _, depth, symbol = topic.split(".")
            book = _Book(topic, symbol, int(depth), self._models[symbol])
            book.due = asyncio.get_running_loop().time() + book.interval_s
            self._books[category, topic] = book
        return book

    def _push_delta(self, category: str, book: _Book, event_ms: int) -> None:
        model = self._models[book.symbol]
        bids = dict(model.bids(book.depth))
        asks = dict(model.asks(book.depth))
        bid_changes = _changes(book.bids, bids, reverse=True)
        ask_changes = _changes(book.asks, asks, reverse=False)
        if not bid_changes and not ask_changes:
            return
        book.bids, book.asks = bids, asks
        book.u += 1
        if book.lost:
            book.lost -= 1  # this delta is lost on its way: the next u a client sees jumps
            return
        listeners = [c for c in self.clients if c.category == category and book.name in c.topics]
        if not listeners:
            return
        frame = self._frame(book, "delta", bid_changes, ask_changes, event_ms)
        for text in self.faults.depth_frames(f"bybit:{category}:{book.name}", frame):
            for client in listeners:
                self._send(client, text, book.name)

    def _snapshot(self, book: _Book) -> str:
        return self._frame(
            book,
            "snapshot",
            sorted(book.bids.items(), reverse=True),
            sorted(book.asks.items()),
            time.time_ns() // 1_000_000,
        )

    def _frame(
        self, book: _Book, kind: str, bids: list[Level], asks: list[Level], event_ms: int
    ) -> str:
        price, size = self._grids[book.symbol]
        doc = {
            "topic": book.name,
            "type": kind,
            "ts": event_ms,
            "data": {
                "s": book.symbol,
                "b": [[price.to_text(p), size.to_text(q)] for p, q in bids],
                "a": [[price.to_text(p), size.to_text(q)] for p, q in asks],
                "u": book.u,
                "seq": book.u,
            },
            "cts": event_ms,
        }
        return _encode(doc).decode()

    def _trades(self, symbol: str, trades: list[TradePrint], event_ms: int) -> str:
        price, size = self._grids[symbol]
        items = [
            {
                "T": event_ms,
                "s": symbol,
                "S": "Sell" if t.buyer_is_maker else "Buy",
                "v": size.to_text(t.size),
                "p": price.to_text(t.price),
                "L": "ZeroPlusTick",
                "i": str(t.trade_id),
                "BT": False,
                "RPI": False,
                "seq": t.trade_id,
            }
            for t in trades
        ]
        doc = {"topic": f"publicTrade.{symbol}", "type": "snapshot", "ts": event_ms, "data": items}
        return _encode(doc).decode()

    def _send(self, client: _Client, text: str, topic: str) -> None:
        oversized = self.faults.take_oversized()
        if oversized is not None:
            client.push(oversized)
        variant = self.faults.take_malformed()
        if variant is not None:
            client.push(_malformed(text, topic, variant))
        client.push(text)


def _changes(before: dict[int, int], after: dict[int, int], *, reverse: bool) -> list[Level]:
    """Levels whose size changed, new ones included and gone ones at 0, best first."""
    changed = [(p, q) for p, q in after.items() if before.get(p) != q]
    changed += [(p, 0) for p in before if p not in after]
    return sorted(changed, reverse=reverse)


def _malformed(text: str, topic: str, variant: int) -> str:
    """Cut-off JSON (even variants) or a push of the right topic with the wrong shape (odd)."""
    if variant % 2 == 0:
        return text[: max(1, len(text) // 2)]
    return _encode({"topic": topic, "type": "delta", "ts": "soon", "data": {"b": "none"}}).decode()
