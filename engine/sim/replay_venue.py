"""A local Binance spot market-data venue that replays a captured session at a chosen speed.

:class:`ReplayVenue` serves ``GET /api/v3/depth`` and the combined stream ``/stream`` on
127.0.0.1 from a :class:`~engine.bench.captures.Session` (the hftbacktest BTCUSDT capture, or its
seeded synthetic stand-in). Its market clock runs at ``speed`` times the recorded pace (frames go
out when their receive time, scaled, is due); speed ``0`` pauses it and :data:`MAX_SPEED` sends
back to back, as fast as the venue can. Connections hear the frames released after they
connected, as on a live venue, and the REST snapshot is the book as of the last released diff
(the venue applies the diffs it released when a snapshot is asked for), so a client cut off can
resync and carry on.

Each connection has its own outgoing queue drained by one writer; a client whose queue reaches
``queue_limit`` frames is cut off, as :mod:`engine.sim.streams` does (and Binance does). The
venue counts what it released, the deepest queue, cut-offs and snapshots served
(:meth:`ReplayVenue.stats`).

``python -m engine.sim.replay_venue`` runs one in its own process: it prints one JSON line with
its URLs and takes ``POST /replay/speed?x=<speed>[&for_s=<recorded seconds>][&queue_limit=<n>]``
(``max`` for :data:`MAX_SPEED`; ``&sndbuf=<bytes>`` sets the sockets' send buffer) and
``GET /replay/stats`` (``?reset=1`` starts a new peak-queue window).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import json
import socket
import sys
import time
from collections import deque
from typing import Any

import msgspec
from aiohttp import WSMsgType, web

from engine.bench.captures import Session, spot_session

MAX_SPEED = -1.0
"""The speed that sends every frame back to back, unpaced."""
QUEUE_LIMIT = 10_000
"""Frames a connection may have waiting before it is cut off (as :mod:`engine.sim.streams`)."""
_CHUNK = 256
"""Frames released per loop turn at :data:`MAX_SPEED` before yielding."""
_TICK_S = 0.001


class _Levels(msgspec.Struct):
    U: int
    u: int
    b: list[tuple[str, str]]
    a: list[tuple[str, str]]


class _Depth(msgspec.Struct):
    data: _Levels


class _Snapshot(msgspec.Struct):
    lastUpdateId: int  # noqa: N815 (Binance's field name)
    bids: list[tuple[str, str]]
    asks: list[tuple[str, str]]


_DEPTH = msgspec.json.Decoder(_Depth)
_SNAPSHOT = msgspec.json.Decoder(_Snapshot)
_encode = msgspec.json.Encoder().encode


class _Connection:
    """One client: its queue of frames and the writer draining it."""

    def __init__(
        self, venue: ReplayVenue, ws: web.WebSocketResponse, transport: asyncio.Transport | None
    ) -> None:
        self.venue = venue
        self.ws = ws
        self.transport = transport
        self.queue: deque[bytes] = deque()
        self.wake = asyncio.Event()
        self.cut = False

    def set_sndbuf(self, size: int) -> None:
        sock = self.transport.get_extra_info("socket") if self.transport is not None else None
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size)

    def put(self, frame: bytes) -> None:
        if self.cut:
            return
        queue = self.queue
        if len(queue) >= self.venue.queue_limit:
            self.cut = True
            self.venue.cutoffs += 1
            self.queue.clear()
            if self.transport is not None:
                self.transport.abort()
            self.wake.set()
            return
        queue.append(frame)
        if len(queue) > self.venue.peak_queue:
            self.venue.peak_queue = len(queue)
        self.wake.set()

    async def write_loop(self) -> None:
        queue, ws = self.queue, self.ws
        while not self.cut and not ws.closed:
            if not queue:
                self.wake.clear()
                await self.wake.wait()
                continue
            await ws.send_bytes(queue.popleft())
            self.venue.written += 1


class ReplayVenue:
    """Serves one session on 127.0.0.1 at a settable speed (see the module docstring).

    Args:
        session: the snapshot, diffs and trades to replay.
        queue_limit: frames a connection may have waiting before it is cut off.
        host: the address to listen on.
    """

    def __init__(
        self, session: Session, queue_limit: int = QUEUE_LIMIT, host: str = "127.0.0.1"
    ) -> None:
        self.session = session
        self.queue_limit = queue_limit
        self.host = host
        self.speed = 0.0
        """Market-clock rate: 0 paused, 1 as recorded, :data:`MAX_SPEED` unpaced."""
        self.released = 0
        """Frames released to the connections so far (depth and trades)."""
        self.released_depth = 0
        """Depth diffs released so far (an index into ``session.depth``)."""
        self.written = 0
        """Frames written to sockets."""
        self.cutoffs = 0
        """Connections cut off for falling too far behind."""
        self.peak_queue = 0
        """Deepest connection queue since the last :meth:`stats` reset."""
        self.connections_total = 0
        self.snapshots = 0
        self.sndbuf: int | None = None
        """The kernel send buffer asked for on each connection's socket (None: the system's)."""
        self._conns: set[_Connection] = set()
        self._timeline = _timeline(session)
        self._clock_ns = 0
        self._stop_at_ns: int | None = None
        self._last_ns = 0
        self._ids = [_DEPTH.decode(f).data.u for f in session.depth]
        snap = _SNAPSHOT.decode(session.snapshot)
        self._bids = dict(snap.bids)
        self._asks = dict(snap.asks)
        self._book_u = snap.lastUpdateId
        self._applied = 0
        self._runner: web.AppRunner | None = None
        self._pacer: asyncio.Task[None] | None = None
        self._port = 0

    # ---- addresses and control ----------------------------------------------------------------

    @property
    def ws_url(self) -> str:
        """The WebSocket base (the feed adds ``/stream?streams=...``)."""
        return f"ws://{self.host}:{self._port}"

    @property
    def rest_url(self) -> str:
        """The REST base."""
        return f"http://{self.host}:{self._port}"

    @property
    def exhausted(self) -> bool:
        """Every frame of the session was released."""
        return self.released >= len(self._timeline)

    @property
    def capture_s(self) -> float:
        """How far into the session the market clock is, in recorded seconds."""
        return self._clock_ns / 1e9

    def update_id_index(self, update_id: int) -> int:
        """How many of the session's diffs end at or before ``update_id``."""
        return bisect.bisect_right(self._ids, update_id)

    def diff_time_s(self, index: int) -> float:
        """Recorded seconds from the first diff to diff ``index`` (clamped to the session)."""
        times = self.session.depth_recv_ns
        if not times:
            return 0.0
        i = min(max(index, 0), len(times) - 1)
        return (times[i] - times[0]) / 1e9

    def set_speed(self, speed: float, for_s: float | None = None) -> None:
        """Run the market clock at ``speed`` from now (0 pauses, :data:`MAX_SPEED` unpaced).

        With ``for_s`` the clock pauses itself once it has advanced that many recorded seconds
        (so a fast stage ends where it should, however late its caller looks).
        """
        self._stop_at_ns = None if for_s is None else self._clock_ns + int(for_s * 1e9)
        self._last_ns = time.monotonic_ns()  # the new speed counts from now, not the last tick
        self.speed = speed

    def set_sndbuf(self, size: int) -> None:
        """Ask for a ``size``-byte kernel send buffer on every connection, now and later.

        A small one makes a slow reader push back on the venue's queue sooner, as a venue that
        keeps little in flight per client does; loopback's autotuned buffers hold megabytes.
        """
        self.sndbuf = size
        for conn in self._conns:
            conn.set_sndbuf(size)

    def stats(self, reset: bool = False) -> dict[str, Any]:
        """What the venue did; ``reset`` starts a new peak-queue window after reading."""
        doc = {
            "speed": self.speed,
            "capture_s": round(self.capture_s, 3),
            "released": self.released,
            "released_depth": self.released_depth,
            "released_update_id": self._ids[self.released_depth - 1] if self.released_depth else 0,
            "written": self.written,
            "exhausted": self.exhausted,
            "connections": len(self._conns),
            "connections_total": self.connections_total,
            "queues": sorted((len(c.queue) for c in self._conns), reverse=True),
            "peak_queue": self.peak_queue,
            "queue_limit": self.queue_limit,
            "cutoffs": self.cutoffs,
            "snapshots": self.snapshots,
        }
        if reset:
            self.peak_queue = max((len(c.queue) for c in self._conns), default=0)
        return doc

    # ---- lifecycle ----------------------------------------------------------------------------

    async def start(self, port: int = 0) -> None:
        """Listen (on a free port by default) and start the market clock, paused."""
        app = web.Application()
        app.router.add_get("/api/v3/depth", self._depth)
        app.router.add_get("/stream", self._stream)
        app.router.add_post("/replay/speed", self._speed)
        app.router.add_get("/replay/stats", self._stats)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, port)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        self._pacer = asyncio.create_task(self._pace())

    async def stop(self) -> None:
        """Stop the clock, close every connection and stop listening."""
        if self._pacer is not None:
            self._pacer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pacer
            self._pacer = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ---- the market clock ---------------------------------------------------------------------

    async def _pace(self) -> None:
        timeline = self._timeline
        self._last_ns = time.monotonic_ns()
        while True:
            now = time.monotonic_ns()
            last, self._last_ns = self._last_ns, now
            speed = self.speed
            stop_at = self._stop_at_ns
            if speed == MAX_SPEED:
                end = min(self.released + _CHUNK, len(timeline))
                if stop_at is not None:
                    end = self._due_by(stop_at, end)
                    if end == self.released:
                        self._clock_ns, self.speed = stop_at, 0.0
                if self.released < end:
                    self._clock_ns = max(self._clock_ns, timeline[end - 1][0])
                self._release_until(end)
                await asyncio.sleep(0)
                continue
            if speed > 0:
                self._clock_ns += int((now - last) * speed)
                if stop_at is not None and self._clock_ns >= stop_at:
                    self._clock_ns, self.speed = stop_at, 0.0
                self._release_until(self._due_by(self._clock_ns, len(timeline)))
            await asyncio.sleep(_TICK_S)

    def _due_by(self, clock_ns: int, limit: int) -> int:
        """The end of the frames due by ``clock_ns``, at most ``limit``."""
        timeline, end = self._timeline, self.released
        while end < limit and timeline[end][0] <= clock_ns:
            end += 1
        return end

    def _release_until(self, end: int) -> None:
        timeline, session = self._timeline, self.session
        conns = list(self._conns)
        for k in range(self.released, end):
            _, is_depth, index = timeline[k]
            if is_depth:
                frame = session.depth[index]
                self.released_depth = index + 1
            else:
                frame = session.trades[index]
            for conn in conns:
                conn.put(frame)
        self.released = max(self.released, end)

    # ---- the book behind the REST snapshot ----------------------------------------------------

    def _catch_up(self) -> None:
        bids, asks = self._bids, self._asks
        for frame in self.session.depth[self._applied : self.released_depth]:
            levels = _DEPTH.decode(frame).data
            for side, changes in ((bids, levels.b), (asks, levels.a)):
                for price, qty in changes:
                    if float(qty) == 0.0:
                        side.pop(price, None)
                    else:
                        side[price] = qty
            self._book_u = levels.u
        self._applied = max(self._applied, self.released_depth)

    def snapshot(self, limit: int) -> bytes:
        """The REST depth body: the book as of the last released diff, ``limit`` levels a side."""
        self._catch_up()
        bids = sorted(self._bids.items(), key=lambda kv: -float(kv[0]))[:limit]
        asks = sorted(self._asks.items(), key=lambda kv: float(kv[0]))[:limit]
        return _encode({"lastUpdateId": self._book_u, "bids": bids, "asks": asks})

    # ---- HTTP and WebSocket handlers ----------------------------------------------------------

    async def _depth(self, request: web.Request) -> web.Response:
        try:
            limit = int(request.query.get("limit", "1000"))
        except ValueError:
            return web.json_response({"code": -1100, "msg": "limit is not a number"}, status=400)
        self.snapshots += 1
        return web.Response(body=self.snapshot(limit), content_type="application/json")

    async def _speed(self, request: web.Request) -> web.Response:
        text = request.query.get("x", "")
        budget = request.query.get("for_s")
        limit = request.query.get("queue_limit")
        sndbuf = request.query.get("sndbuf")
        try:
            speed = MAX_SPEED if text == "max" else float(text)
            for_s = None if budget is None else float(budget)
            if limit is not None:
                self.queue_limit = max(1, int(limit))
            if sndbuf is not None:
                self.set_sndbuf(int(sndbuf))
        except ValueError:
            return web.json_response(
                {"error": f"speed {text!r} is not a number or max, or for_s {budget!r} no number"},
                status=400,
            )
        if speed < 0 and speed != MAX_SPEED:
            return web.json_response({"error": f"speed {text!r} is negative"}, status=400)
        self.set_speed(speed, for_s)
        return web.json_response({"speed": speed})

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats(reset=request.query.get("reset") == "1"))

    async def _stream(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        conn = _Connection(self, ws, request.transport)
        if self.sndbuf is not None:
            conn.set_sndbuf(self.sndbuf)
        self._conns.add(conn)
        self.connections_total += 1
        writer = asyncio.create_task(conn.write_loop())
        try:
            async for msg in ws:
                if msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                    break
        finally:
            self._conns.discard(conn)
            conn.cut = True
            conn.wake.set()
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await writer
        return ws


def _timeline(session: Session) -> list[tuple[int, bool, int]]:
    """Every depth diff and trade as (recorded ns since the first diff, is depth, index)."""
    origin = session.depth_recv_ns[0] if session.depth_recv_ns else 0
    out = [(t - origin, True, i) for i, t in enumerate(session.depth_recv_ns)]
    out += [(t - origin, False, i) for i, t in enumerate(session.trades_recv_ns) if t >= origin]
    out.sort(key=lambda item: (item[0], not item[1]))
    return out


async def _serve(args: argparse.Namespace) -> None:
    session = spot_session(limit=args.frames)
    venue = ReplayVenue(session, queue_limit=args.queue_limit)
    await venue.start(args.port)
    line = {
        "ws": venue.ws_url,
        "rest": venue.rest_url,
        "source": session.source,
        "seconds": session.seconds,
    }
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()
    try:
        await asyncio.Event().wait()
    finally:
        await venue.stop()


def main(argv: list[str] | None = None) -> None:
    """``python -m engine.sim.replay_venue``: serve the capture until killed."""
    parser = argparse.ArgumentParser(prog="python -m engine.sim.replay_venue")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--frames", type=int, default=None, help="at most this many of each")
    parser.add_argument("--queue-limit", type=int, default=QUEUE_LIMIT)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
