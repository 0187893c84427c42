"""The local venue's USD-M market streams and /fapi/v1/depth, on a stepped market."""

from __future__ import annotations

import itertools

import pytest

from engine.core.events import Side
from engine.sim.server import SimVenue
from tests.engine.sim.helpers import STEP_NS, get_json, next_event, open_stream

pytestmark = pytest.mark.integration


async def test_public_combined_stream_sends_pu_linked_diffs(venue: SimVenue):
    """Each diff's pu is the u of the one before it, and U starts there."""
    url = f"{venue.ws_url}/public/stream?streams=btcusdt@depth@100ms/btcusdt@trade"
    async with open_stream(url) as ws:
        diffs = []
        for _ in range(3):
            await venue.step(STEP_NS)
            diffs.append(await next_event(ws, "depthUpdate"))
    assert all(set(d) >= {"T", "pu", "U", "u"} for d in diffs)
    for before, after in itertools.pairwise(diffs):
        assert after["pu"] == before["u"] == after["U"]
    assert diffs[-1]["u"] == venue.true_book("BTCUSDT")[2]


async def test_gap_fault_shows_as_a_pu_mismatch(venue: SimVenue):
    """A gap loses a whole diff: the next one's pu is a u the client never saw."""
    async with open_stream(f"{venue.ws_url}/public/ws/btcusdt@depth@100ms") as ws:
        await venue.step(STEP_NS)
        first = await next_event(ws, "depthUpdate")
        venue.faults.gap_next("BTCUSDT", missing=1)
        await venue.step(STEP_NS)
        second = await next_event(ws, "depthUpdate")
    assert second["pu"] != first["u"]


async def test_trades_on_trade_and_agg_trade(venue: SimVenue):
    """A sweep prints on @trade and @aggTrade, futures text unpadded."""
    url = f"{venue.ws_url}/market/stream?streams=btcusdt@aggTrade/btcusdt@trade"
    async with open_stream(url) as ws:
        venue.market_order("BTCUSDT", Side.SELL, 100)
        seen = {(await next_event(ws, kind))["e"] for kind in ("trade", "aggTrade")}
    assert seen == {"trade", "aggTrade"}


async def test_fapi_depth_snapshot_and_its_refusals(venue: SimVenue):
    """lastUpdateId, E, T and levels; a limit USD-M does not take and an unknown symbol refused."""
    status, headers, body = await get_json(f"{venue.rest_url}/fapi/v1/depth?symbol=BTCUSDT&limit=5")
    assert status == 200
    assert set(body) == {"lastUpdateId", "E", "T", "bids", "asks"}
    assert len(body["bids"]) == 5
    assert body["lastUpdateId"] == venue.true_book("BTCUSDT")[2]
    assert headers["X-MBX-USED-WEIGHT-1M"] == "2"
    status, _, body = await get_json(f"{venue.rest_url}/fapi/v1/depth?symbol=BTCUSDT&limit=7")
    assert (status, body["code"]) == (400, -1130)
    status, _, body = await get_json(f"{venue.rest_url}/fapi/v1/depth?symbol=NOPE&limit=5")
    assert (status, body["code"]) == (400, -1121)
    venue.faults.rate_limit_next(1, retry_after_s=2)
    status, headers, body = await get_json(f"{venue.rest_url}/fapi/v1/depth?symbol=BTCUSDT")
    assert (status, body["code"], headers["Retry-After"]) == (429, -1003, "2")
