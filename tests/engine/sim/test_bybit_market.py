"""The local venue's Bybit v5 public sockets, on a stepped market."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

from engine.core.events import Side
from engine.sim.server import SimVenue
from tests.engine.sim.helpers import STEP_NS, open_stream, recv_json

pytestmark = pytest.mark.integration


async def _request(ws: ClientConnection, op: str, args: list[str] | None = None) -> Any:
    message: dict[str, Any] = {"req_id": op, "op": op}
    if args is not None:
        message["args"] = args
    await ws.send(json.dumps(message))
    while True:
        reply = await recv_json(ws)
        if reply.get("op") == op and "success" in reply:
            return reply


async def _push(ws: ClientConnection, topic: str) -> dict[str, Any]:
    while True:
        frame = await recv_json(ws)
        if frame.get("topic") == topic:
            return frame


async def test_subscribe_gives_a_snapshot_then_u_continuous_deltas(venue: SimVenue):
    """orderbook.50: the snapshot, then deltas u + 1 whose levels track the true top 50."""
    async with open_stream(f"{venue.ws_url}/v5/public/linear") as ws:
        ack = await _request(ws, "subscribe", ["orderbook.50.BTCUSDT"])
        assert ack["success"] is True
        snapshot = await _push(ws, "orderbook.50.BTCUSDT")
        assert snapshot["type"] == "snapshot"
        assert len(snapshot["data"]["b"]) == 50
        u = snapshot["data"]["u"]
        for _ in range(3):
            await venue.step(STEP_NS)
            delta = await _push(ws, "orderbook.50.BTCUSDT")
            assert (delta["type"], delta["data"]["u"]) == ("delta", u + 1)
            u += 1


async def test_ping_pong_and_refused_requests(venue: SimVenue):
    """A ping is answered pong; over 10 args and unknown topics are refused."""
    async with open_stream(f"{venue.ws_url}/v5/public/spot") as ws:
        pong = await _request(ws, "ping")
        assert (pong["success"], pong["ret_msg"]) == (True, "pong")
        many = await _request(ws, "subscribe", [f"publicTrade.BTCUSDT{n}" for n in range(11)])
        assert many["success"] is False
        unknown = await _request(ws, "subscribe", ["orderbook.7.BTCUSDT"])
        assert unknown["success"] is False
        assert "orderbook.7.BTCUSDT" in unknown["ret_msg"]


async def test_public_trades_and_a_lost_delta(venue: SimVenue):
    """A sweep prints publicTrade with the taker side; a gap fault makes u jump."""
    async with open_stream(f"{venue.ws_url}/v5/public/linear") as ws:
        await _request(ws, "subscribe", ["orderbook.50.BTCUSDT", "publicTrade.BTCUSDT"])
        u = (await _push(ws, "orderbook.50.BTCUSDT"))["data"]["u"]
        venue.market_order("BTCUSDT", Side.BUY, 100)
        trades = await _push(ws, "publicTrade.BTCUSDT")
        assert {t["S"] for t in trades["data"]} == {"Buy"}
        venue.faults.gap_next("BTCUSDT", missing=1)
        await venue.step(STEP_NS)  # this delta is lost
        await venue.step(STEP_NS)
        delta = await _push(ws, "orderbook.50.BTCUSDT")
        assert delta["data"]["u"] == u + 2
