"""What every local public market-data WebSocket shares: the server, its sockets and the clock.

:class:`PublicStreamVenue` serves one WebSocket path on 127.0.0.1 (aiohttp), keeps each client's
subscriptions and an ordered queue of its frames (one writer task a socket, so frames go out in
the order they were made), drives one seeded :class:`~engine.sim.market.MarketModel` per
instrument every ``interval_ms`` and can drop every connection or send a broken frame. A venue's
own stream (``okx_stream``, ``kraken_stream``, ``coinbase_stream``, ``hyperliquid_stream``)
fills in the hooks: what a client's request does, the frames of one market step, what a socket
gets on open, and any route besides the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from decimal import Decimal

from aiohttp import WSMsgType, web

from engine.core.instruments import Instrument
from engine.sim.market import MarketActivity, MarketModel

_NS_PER_MS = 1_000_000


class SimBook:
    """One instrument's market, its grids as decimal text, and its pending faults."""

    def __init__(
        self, instrument: Instrument, seed: int, events_per_second: float, *, min_levels: int = 30
    ) -> None:
        self.instrument = instrument
        self.symbol = instrument.symbol
        self.price = instrument.price_grid()
        self.size = instrument.size_grid()
        mid = Decimal(100_000) * Decimal(instrument.tick_size)
        self.market = MarketModel(
            instrument,
            seed=seed,
            mid_price=format(mid, "f"),
            events_per_second=events_per_second,
            max_levels=2 * min_levels,
            min_levels=min_levels,
        )
        self.faults: dict[str, int] = {}
        """Pending faults by name; a venue takes one with :meth:`take_fault`."""

    def take_fault(self, name: str) -> bool:
        """Whether a fault ``name`` is pending; it is used up."""
        left = self.faults.get(name, 0)
        if left:
            self.faults[name] = left - 1
        return bool(left)


class SimSocket:
    """One client: its subscriptions and its frames in the order they were made."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.subs: set[tuple[str, str]] = set()
        """``(channel, symbol)`` pairs."""
        self.out: asyncio.Queue[str] = asyncio.Queue()
        self.sequence = 0
        """A per-connection counter for venues that number their frames."""

    def send(self, frame: str) -> None:
        """Queue one frame."""
        self.out.put_nowait(frame)


class PublicStreamVenue:
    """A local public stream on one path; subclasses speak the venue's protocol.

    Args:
        instruments: what it lists.
        path: the WebSocket path, e.g. ``/v2``.
        seed: the markets' seed.
        events_per_second: book events per second per instrument.
        interval_ms: how often market steps go out.
        min_levels: fewest levels a side the markets keep.
        host: address to listen on.
        port: port to listen on; 0 picks a free one.
    """

    def __init__(
        self,
        instruments: list[Instrument],
        *,
        path: str,
        seed: int = 1,
        events_per_second: float = 500.0,
        interval_ms: int = 100,
        min_levels: int = 30,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.books = {
            i.symbol: SimBook(i, seed, events_per_second, min_levels=min_levels)
            for i in instruments
        }
        self.interval_ms = interval_ms
        self.path = path
        self.connections = 0
        """Connections accepted so far."""
        self.requests: list[str] = []
        """Every text frame clients sent, in order."""
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._task: asyncio.Task[None] | None = None
        self.sockets: dict[web.WebSocketResponse, SimSocket] = {}
        self._malformed = 0
        self._wall_offset_ms = 0
        self.paused = False
        """While True the markets stand still and nothing is sent unasked (for comparisons)."""

    @property
    def url(self) -> str:
        """The stream's ``ws://`` URL."""
        return f"ws://{self._host}:{self._port}{self.path}"

    @property
    def port(self) -> int:
        """The port listened on (known after :meth:`start`)."""
        return self._port

    def wall_ns(self, model_ns: int) -> int:
        """Wall-clock nanoseconds of a model time (the model starts at the wall clock at start)."""
        return self._wall_offset_ms * _NS_PER_MS + model_ns

    async def start(self) -> None:
        """Listen and start the markets.

        Raises:
            OSError: when the address cannot be bound.
        """
        app = web.Application()
        app.router.add_get(self.path, self._handle)
        self.add_routes(app)
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
        self._task = asyncio.create_task(self._run(), name=f"sim-stream{self.path}")

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

    def add_fault(self, symbol: str, name: str) -> None:
        """One more fault ``name`` pending on ``symbol``'s book (its venue takes it when due)."""
        book = self.books[symbol]
        book.faults[name] = book.faults.get(name, 0) + 1

    def inject_malformed(self) -> None:
        """One broken frame goes to every socket with the next market step."""
        self._malformed += 1

    async def drop_connections(self) -> None:
        """Close every socket now."""
        for ws in list(self.sockets):
            await ws.close()

    # ---- what a venue fills in ---------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        """Serve more than the stream (a REST snapshot endpoint; nothing by default)."""

    def on_open(self, sock: SimSocket) -> None:
        """A client connected (a banner, nothing by default)."""

    def on_request(self, sock: SimSocket, text: str) -> None:
        """Answer one text frame from a client; acks and snapshots are queued at once."""
        raise NotImplementedError

    def step(self, book: SimBook, activity: MarketActivity) -> dict[str, list[str]]:
        """The frames of one market step of ``book``, by channel."""
        raise NotImplementedError

    def after_step(self) -> None:
        """Every socket got the step's frames (heartbeats, nothing by default)."""

    def broken_frame(self) -> str:
        """The text of a malformed frame."""
        return '{"channel":"book","data":['

    def deliver(self, sock: SimSocket, channel: str, symbol: str, frames: list[str]) -> None:
        """Queue a step's frames for one subscribed socket (venues that number frames override)."""
        for frame in frames:
            sock.send(frame)

    # ---- the socket and the market --------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=1 << 20)
        await ws.prepare(request)
        self.connections += 1
        sock = self.sockets[ws] = SimSocket(self.connections)
        writer = asyncio.create_task(self._write(ws, sock), name="sim-stream-writer")
        self.on_open(sock)
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    self.requests.append(msg.data)
                    self.on_request(sock, msg.data)
        finally:
            self.sockets.pop(ws, None)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        return ws

    @staticmethod
    async def _write(ws: web.WebSocketResponse, sock: SimSocket) -> None:
        while True:
            frame = await sock.out.get()
            try:
                await ws.send_str(frame)
            except (ConnectionResetError, RuntimeError):
                return

    async def _run(self) -> None:
        dt_ns = self.interval_ms * _NS_PER_MS
        while True:
            await asyncio.sleep(self.interval_ms / 1000)
            if self.paused:
                continue
            frames: dict[tuple[str, str], list[str]] = {}
            for symbol, book in self.books.items():
                for channel, out in self.step(book, book.market.advance(dt_ns)).items():
                    frames[(channel, symbol)] = out
            broken, self._malformed = self._malformed, 0
            for sock in self.sockets.values():
                for _ in range(broken):
                    self.deliver(sock, "", "", [self.broken_frame()])
                for key in sorted(sock.subs):
                    sent = frames.get(key)
                    if sent:
                        self.deliver(sock, key[0], key[1], sent)
            self.after_step()
