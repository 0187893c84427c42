"""One private WebSocket client of the local venue: a queue of frames and the task that sends them.

Shared by the spot WebSocket API (:mod:`engine.sim.user_stream`), the USD-M listen-key stream
(:mod:`engine.sim.usdm_stream`) and Bybit's ``/v5/private`` (:mod:`engine.sim.bybit_stream`):
frames are sent in the order they were queued, :meth:`PushConnection.finish` closes politely
once the queue is sent, :meth:`PushConnection.abort` cuts the TCP connection at once.
"""

from __future__ import annotations

import asyncio

from aiohttp import web


class PushConnection:
    """One client: its peer, its frame queue and its writer."""

    close_message = b""
    """The reason sent in the close frame after :meth:`finish`."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request) -> None:
        self.ws = ws
        self.peer = request.remote or "?"
        self._transport = request.transport
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.closing = False

    def send(self, text: str) -> None:
        """Queue one text frame."""
        if not self.closing:
            self._queue.put_nowait(text)

    def finish(self) -> None:
        """Close once the frames queued so far are sent."""
        if not self.closing:
            self._queue.put_nowait(None)
        self.closing = True

    async def write_loop(self) -> None:
        """Send queued frames in order until the connection closes (politely after ``finish``)."""
        while True:
            text = await self._queue.get()
            if self.ws.closed:
                return
            if text is None:
                await self.ws.close(code=1000, message=self.close_message)
                return
            await self.ws.send_str(text)

    def abort(self) -> None:
        """Cut the TCP connection at once: no close frame."""
        self.closing = True
        if self._transport is not None:
            self._transport.abort()
