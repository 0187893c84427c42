from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from websockets.exceptions import ConnectionClosed

from engine.sim import SimError
from engine.sim.server import SimVenue
from tests.engine.sim.helpers import STEP_NS, next_event, open_stream, recv_json, send_request

pytestmark = pytest.mark.integration

DEPTH = "btcusdt@depth@100ms"


async def _depth_snapshot(venue: SimVenue, **params: str) -> tuple[int, dict[str, str], Any]:
    query = {"symbol": "BTCUSDT", **params}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{venue.rest_url}/api/v3/depth", params=query) as response,
    ):
        return response.status, dict(response.headers), await response.json()


async def test_gap_makes_the_next_diff_skip_update_ids(venue):
    """After gap_next the next diff starts ``missing`` ids late; later diffs connect again."""
    async with open_stream(f"{venue.ws_url}/stream?streams={DEPTH}") as ws:
        await venue.step(STEP_NS)
        first = await next_event(ws, "depthUpdate")
        venue.faults.gap_next("BTCUSDT", missing=3)
        await venue.step(STEP_NS)
        gapped = await next_event(ws, "depthUpdate")
        await venue.step(STEP_NS)
        after = await next_event(ws, "depthUpdate")
    assert gapped["U"] == first["u"] + 1 + 3
    assert after["U"] == gapped["u"] + 1


async def test_a_gap_leaves_the_true_book_whole_for_a_resync(venue, btc):
    """The skipped changes are real: a fresh snapshot after a gap still equals the true book."""
    async with open_stream(f"{venue.ws_url}/stream?streams={DEPTH}") as ws:
        venue.faults.gap_next("BTCUSDT", missing=5)
        await venue.step(STEP_NS)
        await next_event(ws, "depthUpdate")
    _, _, snap = await _depth_snapshot(venue, limit="1000")
    bids, _, update_id = venue.true_book("BTCUSDT")
    assert snap["lastUpdateId"] == update_id
    price, size = btc.price_grid(), btc.size_grid()
    assert [(price.to_int(p), size.to_int(q)) for p, q in snap["bids"]] == bids


async def test_disconnect_all_cuts_streams_without_a_close_frame(venue):
    """disconnect_all drops every client abruptly; a new connection works at once."""
    async with open_stream(f"{venue.ws_url}/ws/{DEPTH}") as ws:
        await send_request(ws, "LIST_SUBSCRIPTIONS", None, 1)
        assert venue.faults.disconnect_all() == 1
        with pytest.raises(ConnectionClosed) as info:
            await recv_json(ws)
    assert info.value.rcvd is None
    async with open_stream(f"{venue.ws_url}/ws/{DEPTH}") as ws:
        await venue.step(STEP_NS)
        assert (await recv_json(ws))["e"] == "depthUpdate"


async def test_malformed_frames_precede_the_real_ones(venue):
    """malformed_next(2) puts cut-off JSON, then a wrong-shaped frame, ahead of real diffs."""
    async with open_stream(f"{venue.ws_url}/stream?streams={DEPTH}") as ws:
        venue.faults.malformed_next(2)
        await venue.step(STEP_NS)
        await venue.step(STEP_NS)
        broken = await ws.recv()
        real = await recv_json(ws)
        wrong = await recv_json(ws)
        following = await recv_json(ws)
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken)
    assert real["data"]["e"] == "depthUpdate"
    assert wrong["stream"] == DEPTH
    assert not isinstance(wrong["data"]["U"], int)
    assert following["data"]["U"] == real["data"]["u"] + 1
    assert venue.faults.armed().malformed == 0


async def test_rate_limit_answers_429_with_retry_after(venue):
    """rate_limit_next answers 429, Retry-After and Binance's -1003 body, then recovers."""
    venue.faults.rate_limit_next(count=2, retry_after_s=3)
    answers = [await _depth_snapshot(venue) for _ in range(3)]
    for status, headers, body in answers[:2]:
        assert status == 429
        assert headers["Retry-After"] == "3"
        assert body["code"] == -1003
        assert "request weight" in body["msg"]
    assert answers[2][0] == 200


async def test_spending_the_weight_budget_gets_429(venue):
    """More than 6000 request weight in a minute is answered with 429 and -1003."""
    statuses = []
    for _ in range(60):
        status, headers, body = await _depth_snapshot(venue, limit="5000")
        statuses.append(status)
        if status == 429:
            assert body["code"] == -1003
            assert int(headers["Retry-After"]) >= 1
            break
    assert statuses[-1] == 429
    assert statuses[0] == 200


async def test_slow_rest_holds_the_answer(venue):
    """A slow answer outlasts a short client timeout; the next answer is prompt again."""
    venue.faults.slow_rest(0.3, count=1)
    async with aiohttp.ClientSession() as http:
        with pytest.raises(TimeoutError):
            async with http.get(
                f"{venue.rest_url}/api/v3/ping", timeout=aiohttp.ClientTimeout(total=0.05)
            ):
                pass
        async with http.get(
            f"{venue.rest_url}/api/v3/ping", timeout=aiohttp.ClientTimeout(total=5)
        ) as response:
            assert response.status == 200


async def test_stale_snapshot_is_older_than_the_buffered_diffs(venue, btc):
    """A stale snapshot's lastUpdateId precedes the first buffered diff, and it is a real book."""
    async with open_stream(f"{venue.ws_url}/stream?streams={DEPTH}") as ws:
        await venue.step(STEP_NS)
        await venue.step(STEP_NS)
        first = await next_event(ws, "depthUpdate")
    venue.faults.stale_snapshot_next()
    _, _, stale = await _depth_snapshot(venue, limit="1000")
    _, _, fresh = await _depth_snapshot(venue, limit="1000")
    assert stale["lastUpdateId"] < first["U"]
    assert fresh["lastUpdateId"] == venue.true_book("BTCUSDT")[2]
    then = venue.model("BTCUSDT").book_at(stale["lastUpdateId"])
    price, size = btc.price_grid(), btc.size_grid()
    assert [(price.to_int(p), size.to_int(q)) for p, q in stale["asks"]] == then.asks


def test_fault_arguments_are_checked(venue):
    """Unknown symbols and counts, delays or gaps out of range raise SimError."""
    faults = venue.faults
    with pytest.raises(SimError, match="unknown symbol"):
        faults.gap_next("DOGEUSDT")
    with pytest.raises(SimError):
        faults.gap_next("BTCUSDT", missing=0)
    with pytest.raises(SimError):
        faults.malformed_next(0)
    with pytest.raises(SimError):
        faults.rate_limit_next(count=1, retry_after_s=-1)
    with pytest.raises(SimError):
        faults.slow_rest(-0.1)


def test_armed_faults_are_reported_and_cleared(venue):
    """armed() shows what is waiting to fire, and clear() disarms it."""
    faults = venue.faults
    faults.malformed_next(2)
    faults.rate_limit_next(1, retry_after_s=4)
    faults.slow_rest(0.2, count=3)
    faults.stale_snapshot_next()
    armed = faults.armed()
    assert (armed.malformed, armed.rate_limited, armed.retry_after_s) == (2, 1, 4)
    assert (armed.slow, armed.slow_delay_s, armed.stale_snapshot) == (3, 0.2, True)
    faults.clear()
    cleared = faults.armed()
    assert (cleared.malformed, cleared.rate_limited, cleared.slow) == (0, 0, 0)
    assert cleared.stale_snapshot is False
