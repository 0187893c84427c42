from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from engine.sim.server import SimVenue
from tests.engine.sim.helpers import STEP_NS, get_json, open_stream, recv_json, send_request

pytestmark = pytest.mark.integration


async def test_raw_stream_path_sends_unwrapped_events(venue):
    """``/ws/<stream>`` sends the event itself, without the combined wrapper."""
    async with open_stream(f"{venue.ws_url}/ws/btcusdt@depth@100ms") as ws:
        await venue.step(STEP_NS)
        frame = await recv_json(ws)
    assert "stream" not in frame
    assert frame["e"] == "depthUpdate"


async def test_live_subscribe_unsubscribe_and_list(venue):
    """SUBSCRIBE and UNSUBSCRIBE answer ``{"result":null,"id":..}`` and change what flows."""
    async with open_stream(f"{venue.ws_url}/ws") as ws:
        streams = ["btcusdt@trade", "btcusdt@depth@100ms"]
        assert await send_request(ws, "SUBSCRIBE", streams, 1) == {"result": None, "id": 1}
        assert await send_request(ws, "UNSUBSCRIBE", ["btcusdt@trade"], "x2") == {
            "result": None,
            "id": "x2",
        }
        listed = await send_request(ws, "LIST_SUBSCRIPTIONS", None, 3)
        assert listed == {"result": ["btcusdt@depth@100ms"], "id": 3}
        await venue.step(STEP_NS)
        frame = await recv_json(ws)
    assert frame["e"] == "depthUpdate"


async def test_combined_property_switches_framing(venue):
    """SET_PROPERTY combined wraps raw-endpoint frames; GET_PROPERTY reports it."""
    async with open_stream(f"{venue.ws_url}/ws/btcusdt@depth@100ms") as ws:
        assert await send_request(ws, "SET_PROPERTY", ["combined", True], 1) == {
            "result": None,
            "id": 1,
        }
        assert await send_request(ws, "GET_PROPERTY", ["combined"], 2) == {"result": True, "id": 2}
        await venue.step(STEP_NS)
        frame = await recv_json(ws)
    assert frame["stream"] == "btcusdt@depth@100ms"


async def test_bad_control_messages_get_binance_error_codes(venue):
    """Unknown methods, bad JSON, unknown properties and non-boolean values get codes 2, 3, 0, 1."""
    async with open_stream(f"{venue.ws_url}/ws") as ws:
        unknown = await send_request(ws, "FETCH", [], 1)
        assert unknown["error"]["code"] == 2
        await ws.send("{not json")
        assert (await recv_json(ws))["error"]["code"] == 3
        prop = await send_request(ws, "GET_PROPERTY", ["speed"], 2)
        assert prop["error"]["code"] == 0
        value = await send_request(ws, "SET_PROPERTY", ["combined", "yes"], 3)
        assert value["error"]["code"] == 1


async def test_server_pings_and_drops_clients_that_never_answer(btc):
    """Pings arrive every interval; a client that never pongs is closed with 1008."""
    sim = SimVenue([btc], autorun=False, ping_interval_s=0.05, pong_timeout_s=0.2)
    await sim.start()
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(f"{sim.ws_url}/ws", autoping=False) as ws,
        ):
            kinds = []
            while True:
                msg = await asyncio.wait_for(ws.receive(), 5)
                kinds.append(msg.type)
                if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                    break
            assert aiohttp.WSMsgType.PING in kinds
            assert ws.close_code == 1008
    finally:
        await sim.stop()


async def test_clients_that_answer_pings_stay_connected(btc):
    """A client that pongs every ping is still served long after the pong timeout."""
    sim = SimVenue([btc], autorun=False, ping_interval_s=0.02, pong_timeout_s=0.1)
    await sim.start()
    try:
        async with open_stream(f"{sim.ws_url}/ws/btcusdt@depth@100ms") as ws:
            await asyncio.sleep(0.3)
            await sim.step(STEP_NS)
            assert (await recv_json(ws))["e"] == "depthUpdate"
    finally:
        await sim.stop()


async def test_clients_over_the_message_rate_are_disconnected(venue):
    """More than five messages in a second closes the connection, as on Binance."""
    async with open_stream(f"{venue.ws_url}/ws") as ws:
        for n in range(6):
            await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": n}))
        with pytest.raises(ConnectionClosed) as info:
            await _drain(ws)
    assert info.value.rcvd is not None
    assert info.value.rcvd.code == 1008


async def _drain(ws: ClientConnection) -> None:
    while True:
        await recv_json(ws)


async def test_bad_stream_names_in_the_url_are_refused(venue):
    """A stream name Binance would not accept in the URL gets HTTP 400."""
    status, _, body = await get_json(f"{venue.rest_url}/ws/BTCUSDT@trade")
    assert status == 400
    assert body["code"] == -1100
