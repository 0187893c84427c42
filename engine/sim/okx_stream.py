"""A local OKX v5 public WebSocket: ``books`` (with checksums) and ``trades`` from the sim market.

:class:`OkxStreamVenue` serves ``/ws/v5/public`` on 127.0.0.1 for a set of instruments, each
driven by its own seeded :class:`~engine.sim.market.MarketModel`. It speaks the parts of OKX a
market-data client needs (venues.md §6):

- ``{"op":"subscribe","args":[{"channel":"books"|"trades","instId":..}]}`` is acknowledged with
  ``{"event":"subscribe","arg":..,"connId":..}``; ``unsubscribe`` likewise; an unknown channel or
  instrument gets ``{"event":"error","code":"60018",..}``.
- ``books``: a ``snapshot`` (``prevSeqId`` -1) on subscribe, then every ``interval_ms`` an
  ``update`` with the levels that changed (absolute sizes, ``"0"`` deletes), ``prevSeqId`` the
  last ``seqId``, and the signed CRC32 of the top 25 levels a side in OKX's own text; a quiet
  interval sends an empty update with ``prevSeqId == seqId``. Levels are ``[px, sz, "0", n]``.
- ``trades``: one message per print, ``side`` the taker's.
- the text ``ping`` is answered ``pong``.
- ``GET /api/v5/market/books?instId=..`` answers the book now with its ``seqId`` (the REST
  snapshot of the 2026 procedure). With ``ws_snapshots=False`` the stream sends no ``books``
  snapshot on subscribe, as OKX announced for August 2026: only updates, and clients use REST.

Faults, for the client's tests: :meth:`OkxStreamVenue.inject_gap` skips a ``seqId`` on the next
update, :meth:`OkxStreamVenue.inject_bad_checksum` corrupts the next update's checksum,
:meth:`OkxStreamVenue.drop_connections` closes every socket, and
:meth:`OkxStreamVenue.inject_malformed` sends one broken frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
import zlib
from decimal import Decimal

from aiohttp import WSMsgType, web

from engine.core.events import Side
from engine.core.instruments import Instrument
from engine.sim.market import Level, MarketModel

_NS_PER_MS = 1_000_000
CHECKSUM_DEPTH = 25


def okx_text(step: Decimal, steps: int) -> str:
    """OKX's text for a number of steps: the shortest exact decimal (``30316``, ``5.16``)."""
    text = format(step * steps, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def okx_checksum(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> int:
    """The signed CRC32 of the top 25 levels a side, interleaved ``bid:sz:ask:sz:...``."""
    parts: list[str] = []
    bids, asks = bids[:CHECKSUM_DEPTH], asks[:CHECKSUM_DEPTH]
    for i in range(max(len(bids), len(asks))):
        if i < len(bids):
            parts += bids[i]
        if i < len(asks):
            parts += asks[i]
    crc = zlib.crc32(":".join(parts).encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc


class _Book:
    """One instrument's market and what the stream has told about it."""

    def __init__(self, instrument: Instrument, seed: int, events_per_second: float) -> None:
        self.instrument = instrument
        self.tick = Decimal(instrument.tick_size)
        self.lot = Decimal(instrument.lot_size)
        mid = Decimal(100_000) * self.tick
        self.market = MarketModel(
            instrument,
            seed=seed,
            mid_price=format(mid, "f"),
            events_per_second=events_per_second,
            max_levels=60,
            min_levels=30,
        )
        self.seq_id = 1_000
        self.gap = 0
        self.bad_checksum = 0

    def level(self, level: Level) -> list[str]:
        return [okx_text(self.tick, level[0]), okx_text(self.lot, level[1]), "0", "1"]

    def checksum(self) -> int:
        bids = [(okx_text(self.tick, p), okx_text(self.lot, s)) for p, s in self.market.bids(25)]
        asks = [(okx_text(self.tick, p), okx_text(self.lot, s)) for p, s in self.market.asks(25)]
        return okx_checksum(bids, asks)


class _Socket:
    """One client: its subscriptions and its frames in the order they were made."""

    def __init__(self) -> None:
        self.subs: set[tuple[str, str]] = set()
        self.out: asyncio.Queue[str] = asyncio.Queue()


class OkxStreamVenue:
    """The local OKX public stream.

    Args:
        instruments: what it lists, ``symbol`` being the OKX ``instId``.
        seed: the markets' seed.
        events_per_second: book events per second per instrument.
        interval_ms: how often ``books`` updates go out (OKX: 100 ms).
        ws_snapshots: send a ``books`` snapshot on subscribe (False: updates only).
        host: address to listen on.
        port: port to listen on; 0 picks a free one.
    """

    def __init__(
        self,
        instruments: list[Instrument],
        *,
        seed: int = 1,
        events_per_second: float = 500.0,
        interval_ms: int = 100,
        ws_snapshots: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._books = {i.symbol: _Book(i, seed, events_per_second) for i in instruments}
        self.interval_ms = interval_ms
        self.ws_snapshots = ws_snapshots
        self.rest_snapshots = 0
        """REST book snapshots served."""
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._task: asyncio.Task[None] | None = None
        self._sockets: dict[web.WebSocketResponse, _Socket] = {}
        self._conn_ids = itertools.count(1)
        self._malformed = 0
        self._wall_offset_ms = 0
        self.connections = 0
        """Connections accepted so far."""

    @property
    def rest_url(self) -> str:
        """The REST base (``/api/v5/market/books`` lives under it)."""
        return f"http://{self._host}:{self._port}"

    @property
    def ws_url(self) -> str:
        """The public stream's URL (``ts`` fields are model time from the wall clock at start)."""
        return f"ws://{self._host}:{self._port}/ws/v5/public"

    async def start(self) -> None:
        """Listen and start the markets.

        Raises:
            OSError: when the address cannot be bound.
        """
        app = web.Application()
        app.router.add_get("/ws/v5/public", self._handle)
        app.router.add_get("/api/v5/market/books", self._rest_books)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = runner.addresses[0][1]
        self._wall_offset_ms = time.time_ns() // _NS_PER_MS
        self._task = asyncio.create_task(self._run(), name="okx-stream")

    async def stop(self) -> None:
        """Close every socket and stop listening. Idempotent."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.drop_connections()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    # ---- faults --------------------------------------------------------------------------------

    def inject_gap(self, symbol: str) -> None:
        """The next update of ``symbol`` skips a ``seqId``."""
        self._books[symbol].gap += 1

    def inject_bad_checksum(self, symbol: str) -> None:
        """The next update of ``symbol`` carries a wrong checksum."""
        self._books[symbol].bad_checksum += 1

    def inject_malformed(self) -> None:
        """One broken ``books`` frame goes to every socket with the next updates."""
        self._malformed += 1

    async def drop_connections(self) -> None:
        """Close every socket now."""
        for ws in list(self._sockets):
            await ws.close()

    # ---- the socket --------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=1 << 20)
        await ws.prepare(request)
        self.connections += 1
        sock = self._sockets[ws] = _Socket()
        conn_id = f"{next(self._conn_ids):08x}"
        writer = asyncio.create_task(self._write(ws, sock), name="okx-stream-writer")
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                if msg.data == "ping":
                    sock.out.put_nowait("pong")
                    continue
                self._on_request(sock, conn_id, msg.data)
        finally:
            self._sockets.pop(ws, None)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        return ws

    @staticmethod
    async def _write(ws: web.WebSocketResponse, sock: _Socket) -> None:
        """Send the socket's frames in order (every frame is queued where it is made)."""
        while True:
            frame = await sock.out.get()
            try:
                await ws.send_str(frame)
            except (ConnectionResetError, RuntimeError):
                return

    def _on_request(self, sock: _Socket, conn_id: str, text: str) -> None:
        """Answer one request; its acks and snapshots are queued at once, in order."""
        try:
            request = json.loads(text)
            op, args = request["op"], request["args"]
        except (ValueError, KeyError, TypeError):
            error = {"event": "error", "code": "60012", "msg": f"Invalid request: {text}"}
            sock.out.put_nowait(json.dumps(error))
            return
        for arg in args:
            channel, symbol = arg.get("channel"), arg.get("instId")
            if channel not in ("books", "trades") or symbol not in self._books:
                error = {"event": "error", "code": "60018", "msg": f"{channel} doesn't exist"}
                sock.out.put_nowait(json.dumps(error))
                continue
            if op == "subscribe":
                sock.subs.add((channel, symbol))
                sock.out.put_nowait(
                    json.dumps({"event": "subscribe", "arg": arg, "connId": conn_id})
                )
                if channel == "books" and self.ws_snapshots:
                    sock.out.put_nowait(self._snapshot(self._books[symbol]))
            elif op == "unsubscribe":
                sock.subs.discard((channel, symbol))
                ack = {"event": "unsubscribe", "arg": arg, "connId": conn_id}
                sock.out.put_nowait(json.dumps(ack))

    async def _rest_books(self, request: web.Request) -> web.Response:
        book = self._books.get(request.query.get("instId", ""))
        if book is None:
            return web.json_response(
                {"code": "51001", "msg": "Instrument ID doesn't exist", "data": []}
            )
        self.rest_snapshots += 1
        data = self._book_data(book)
        del data["checksum"], data["prevSeqId"]
        return web.json_response({"code": "0", "msg": "", "data": [data]})

    def _snapshot(self, book: _Book) -> str:
        return json.dumps(
            {
                "arg": {"channel": "books", "instId": book.instrument.symbol},
                "action": "snapshot",
                "data": [self._book_data(book)],
            }
        )

    def _book_data(self, book: _Book) -> dict[str, object]:
        market = book.market
        data: dict[str, object] = {
            "asks": [book.level(lv) for lv in market.asks()],
            "bids": [book.level(lv) for lv in market.bids()],
            "ts": str(self._wall_offset_ms + market.now_ns // _NS_PER_MS),
            "checksum": book.checksum(),
            "prevSeqId": -1,
            "seqId": book.seq_id,
        }
        return data

    # ---- the market ----------------------------------------------------------------------------

    async def _run(self) -> None:
        dt_ns = self.interval_ms * _NS_PER_MS
        while True:
            await asyncio.sleep(self.interval_ms / 1000)
            frames: dict[tuple[str, str], list[str]] = {}
            for symbol, book in self._books.items():
                update, trades = self._advance(book, dt_ns)
                frames[("books", symbol)] = [update]
                frames[("trades", symbol)] = trades
            broken, self._malformed = self._malformed, 0
            for sock in self._sockets.values():
                for _ in range(broken):
                    sock.out.put_nowait('{"arg":{"channel":"books","instId":')
                for key in sorted(sock.subs):
                    for frame in frames.get(key, ()):
                        sock.out.put_nowait(frame)

    def _advance(self, book: _Book, dt_ns: int) -> tuple[str, list[str]]:
        activity = book.market.advance(dt_ns)
        changed: dict[tuple[Side, int], int] = {}
        for change in activity.changes:
            changed[(change.side, change.price)] = change.size
        bids = [
            [okx_text(book.tick, p), okx_text(book.lot, s), "0", "1" if s else "0"]
            for (side, p), s in sorted(changed.items(), key=lambda kv: -kv[0][1])
            if side is Side.BUY
        ]
        asks = [
            [okx_text(book.tick, p), okx_text(book.lot, s), "0", "1" if s else "0"]
            for (side, p), s in sorted(changed.items(), key=lambda kv: kv[0][1])
            if side is Side.SELL
        ]
        prev = book.seq_id
        if changed:
            book.seq_id += 1
        if book.gap:  # the update that should have come between is never sent
            book.gap -= 1
            prev = book.seq_id + 1
            book.seq_id += 2
        checksum = book.checksum()
        if book.bad_checksum:
            book.bad_checksum -= 1
            checksum = checksum + 1 if checksum != -1 else 1
        ts = str(self._wall_offset_ms + book.market.now_ns // _NS_PER_MS)
        update = json.dumps(
            {
                "arg": {"channel": "books", "instId": book.instrument.symbol},
                "action": "update",
                "data": [
                    {
                        "asks": asks,
                        "bids": bids,
                        "ts": ts,
                        "checksum": checksum,
                        "prevSeqId": prev,
                        "seqId": book.seq_id,
                    }
                ],
            }
        )
        trades = [
            json.dumps(
                {
                    "arg": {"channel": "trades", "instId": book.instrument.symbol},
                    "data": [
                        {
                            "instId": book.instrument.symbol,
                            "tradeId": str(t.trade_id),
                            "px": okx_text(book.tick, t.price),
                            "sz": okx_text(book.lot, t.size),
                            "side": "sell" if t.buyer_is_maker else "buy",
                            "ts": str(self._wall_offset_ms + t.time_ns // _NS_PER_MS),
                        }
                    ],
                }
            )
            for t in activity.trades
        ]
        return update, trades
