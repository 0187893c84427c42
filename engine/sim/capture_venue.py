"""A local venue that replays a recorded Binance spot session: its frames, as fast as possible.

:class:`CaptureVenue` serves Binance spot's market-data surface on 127.0.0.1 from a capture
(hftbacktest's raw format): ``GET /api/v3/depth`` answers the capture's REST snapshot, and
``/stream`` (the combined stream; the names in the URL are not checked) sends the depth diffs
and trades exactly as recorded. The frames recorded before the snapshot go out at once, so a
feed can sync its book; the rest wait for :meth:`CaptureVenue.release` and then go out
back to back, with no pacing. Orders are not served: this venue is for paper trading, where
orders match in-process, and for replaying a capture through the engine's own network path.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Sequence
from pathlib import Path

from aiohttp import WSMsgType, web


class CaptureSession:
    """One capture split at its snapshot: (frames before, snapshot body, frames after)."""

    def __init__(self, before: list[bytes], snapshot: bytes, after: list[bytes]) -> None:
        self.before = before
        self.snapshot = snapshot
        self.after = after

    @classmethod
    def read(cls, files: Sequence[Path], max_after: int | None = None) -> CaptureSession:
        """Depth and trade frames (bookTickers left out) around the first snapshot.

        Raises:
            ValueError: the capture has no snapshot line.
        """
        before: list[bytes] = []
        after: list[bytes] = []
        snapshot = b""
        for path in files:
            with gzip.open(path, "rb") as f:
                for line in f:
                    _, _, payload = line.rstrip(b"\n").partition(b" ")
                    if payload.startswith(b'{"lastUpdateId"'):
                        snapshot = snapshot or payload
                        continue
                    head = payload[:80]
                    if b"@depth" not in head and b"@trade" not in head:
                        continue
                    target = after if snapshot else before
                    if max_after is not None and snapshot and len(after) >= max_after:
                        return cls(before, snapshot, after)
                    target.append(payload)
        if not snapshot:
            raise ValueError(f"no depth snapshot (lastUpdateId) in {', '.join(map(str, files))}")
        return cls(before, snapshot, after)


class CaptureVenue:
    """Serves one :class:`CaptureSession` on 127.0.0.1 (see the module docstring).

    Args:
        session: the frames and snapshot.
        host: the address to listen on.
    """

    def __init__(self, session: CaptureSession, host: str = "127.0.0.1") -> None:
        self.session = session
        self.host = host
        self.sent = 0
        """Frames sent so far."""
        self.done = asyncio.Event()
        """Set once every frame was sent."""
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port = 0

    @property
    def ws_url(self) -> str:
        """The WebSocket base (the feed adds ``/stream?streams=...``)."""
        return f"ws://{self.host}:{self._port}"

    @property
    def rest_url(self) -> str:
        """The REST base."""
        return f"http://{self.host}:{self._port}"

    async def start(self) -> None:
        """Listen on a free port."""
        app = web.Application()
        app.router.add_get("/api/v3/depth", self._depth)
        app.router.add_get("/stream", self._stream)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def release(self) -> None:
        """Send the frames recorded after the snapshot, back to back."""
        self._release.set()

    async def _depth(self, request: web.Request) -> web.Response:
        return web.Response(body=self.session.snapshot, content_type="application/json")

    async def _stream(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        reader = asyncio.create_task(self._drain(ws))
        try:
            for frame in self.session.before:
                await ws.send_bytes(frame)
                self.sent += 1
            await self._release.wait()
            for frame in self.session.after:
                await ws.send_bytes(frame)
                self.sent += 1
            self.done.set()
            await reader  # keep the connection open until the client goes
        finally:
            reader.cancel()
        return ws

    async def _drain(self, ws: web.WebSocketResponse) -> None:
        async for msg in ws:
            if msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                return
