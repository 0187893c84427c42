"""Helpers for local-venue tests: stream clients, frame readers and control requests."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from websockets.asyncio.client import ClientConnection, connect

STEP_NS = 100_000_000  # one 100 ms batch


def open_stream(url: str) -> connect:
    """A websockets client that buffers without limit, so unread frames never stall its close."""
    return connect(url, max_queue=None, close_timeout=2)


async def get_json(url: str) -> tuple[int, dict[str, str], Any]:
    """GET ``url``: status, headers and the parsed JSON body."""
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, dict(response.headers), await response.json()


async def recv_json(ws: ClientConnection, within_s: float = 5.0) -> Any:
    """The next frame, parsed."""
    return json.loads(await asyncio.wait_for(ws.recv(), within_s))


async def next_event(ws: ClientConnection, kind: str, within_s: float = 5.0) -> dict[str, Any]:
    """The ``data`` of the next combined-stream event of type ``kind``, skipping others."""
    while True:
        frame = await recv_json(ws, within_s)
        data = frame.get("data", frame)
        if isinstance(data, dict) and data.get("e") == kind:
            return data


async def send_request(ws: ClientConnection, method: str, params: Any, request_id: Any) -> Any:
    """Send a live control request and return the reply carrying its id."""
    message: dict[str, Any] = {"method": method, "id": request_id}
    if params is not None:
        message["params"] = params
    await ws.send(json.dumps(message))
    while True:
        reply = await recv_json(ws)
        if reply.get("id") == request_id and ("result" in reply or "error" in reply):
            return reply
