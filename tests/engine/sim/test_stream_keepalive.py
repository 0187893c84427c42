"""Client keep-alive pings on the local venue's market streams are answered, and data flows on.

aiohttp hands a received ping's payload over as a ``bytearray``; the stream's writer only sends
``bytes``, so a pong queued as it came killed the writer and the stream went silent after the
client's first keep-alive ping (20 s with websockets' defaults), until the client gave up.
"""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import connect

from engine.core.config import load_config
from engine.sim.server import SimVenue

pytestmark = pytest.mark.integration


async def test_client_pings_are_answered_and_frames_keep_coming():
    """Three pings, each answered; frames arrive after every one of them."""
    venue = SimVenue(load_config(None, {}).instrument_list(), seed=3, depth_interval_ms=100)
    await venue.start()
    try:
        url = venue.ws_url + "/stream?streams=btcusdt@depth@100ms/btcusdt@trade"
        async with connect(url, ping_interval=None, compression=None) as ws:
            for payload in (b"one", b"two", b"three"):
                pong = await ws.ping(payload)
                await asyncio.wait_for(pong, 5)
                await asyncio.wait_for(ws.recv(), 5)  # the stream still flows
    finally:
        await venue.stop()
