"""The local OKX stream on its own: subscribe acks, a snapshot, a seqId chain, checksums, faults."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from engine.core.instruments import Instrument
from engine.sim.okx_stream import OkxStreamVenue, okx_checksum, okx_text

pytestmark = pytest.mark.integration

BTC = Instrument(venue="okx", symbol="BTC-USDT", tick_size="0.1", lot_size="0.00001")


def test_okx_text_is_the_shortest_exact_form():
    """Whole prices lose the point, fractions their trailing zeros."""
    from decimal import Decimal

    assert okx_text(Decimal("0.1"), 303160) == "30316"
    assert okx_text(Decimal("0.001"), 5160) == "5.16"
    assert okx_text(Decimal("0.00001"), 8000) == "0.08"


def test_okx_checksum_matches_the_documented_vector():
    """test-vectors.md §8 example 1."""
    assert (
        okx_checksum([("3366.1", "7"), ("3366", "6")], [("3366.8", "9"), ("3368", "8")])
        == -1881014294
    )


@pytest.fixture
async def venue() -> AsyncIterator[OkxStreamVenue]:
    """The stream with 20 ms updates."""
    sim = OkxStreamVenue([BTC], seed=3, events_per_second=1000.0, interval_ms=20)
    await sim.start()
    yield sim
    await sim.stop()


async def frames(ws: aiohttp.ClientWebSocketResponse, n: int) -> list[dict]:
    """The next ``n`` JSON frames."""
    return [json.loads((await asyncio.wait_for(ws.receive(), 5.0)).data) for _ in range(n)]


async def test_subscribe_gives_an_ack_a_snapshot_and_a_chain(venue: OkxStreamVenue):
    """Ack, snapshot (prevSeqId -1), then updates whose prevSeqId is the last seqId."""
    async with aiohttp.ClientSession() as session, session.ws_connect(venue.ws_url) as ws:
        await ws.send_str(
            json.dumps({"op": "subscribe", "args": [{"channel": "books", "instId": "BTC-USDT"}]})
        )
        ack, snap, *updates = await frames(ws, 12)
        assert ack["event"] == "subscribe"
        assert snap["action"] == "snapshot"
        assert snap["data"][0]["prevSeqId"] == -1
        last = snap["data"][0]["seqId"]
        for update in updates:
            data = update["data"][0]
            assert data["prevSeqId"] == last
            assert data["checksum"] != 0
            last = data["seqId"]
        await ws.send_str("ping")
        while (await asyncio.wait_for(ws.receive(), 5.0)).data != "pong":
            pass


async def test_an_injected_gap_breaks_the_chain(venue: OkxStreamVenue):
    """inject_gap makes the next update skip a seqId."""
    async with aiohttp.ClientSession() as session, session.ws_connect(venue.ws_url) as ws:
        await ws.send_str(
            json.dumps({"op": "subscribe", "args": [{"channel": "books", "instId": "BTC-USDT"}]})
        )
        _, snap = await frames(ws, 2)
        last = snap["data"][0]["seqId"]
        venue.inject_gap("BTC-USDT")
        for _ in range(10):  # an update made before the fault may still be on its way
            (update,) = await frames(ws, 1)
            data = update["data"][0]
            if data["prevSeqId"] != last:
                break
            last = data["seqId"]
        else:
            pytest.fail("no update skipped a seqId")
        assert data["prevSeqId"] > last


async def test_unknown_channels_get_an_error(venue: OkxStreamVenue):
    """A channel or instrument it does not list is refused with an error event."""
    async with aiohttp.ClientSession() as session, session.ws_connect(venue.ws_url) as ws:
        await ws.send_str(
            json.dumps({"op": "subscribe", "args": [{"channel": "books", "instId": "X"}]})
        )
        (error,) = await frames(ws, 1)
        assert error["event"] == "error"
