from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from engine.sim.server import SimVenue
from tests.engine.sim.helpers import next_event, open_stream

pytestmark = pytest.mark.integration


async def _call(venue: SimVenue, method: str, path: str, **params: str) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, f"{venue.rest_url}{path}", params=params) as response,
    ):
        return response.status, await response.json()


async def test_book_over_http_is_the_true_book_as_text(venue, btc):
    """``GET /sim/book`` returns the true book as text with its update id."""
    status, body = await _call(venue, "GET", "/sim/book", symbol="BTCUSDT")
    bids, asks, update_id = venue.true_book("BTCUSDT")
    assert status == 200
    assert body["lastUpdateId"] == update_id
    price, size = btc.price_grid(), btc.size_grid()
    assert [(price.to_int(p), size.to_int(q)) for p, q in body["bids"]] == bids
    assert [(price.to_int(p), size.to_int(q)) for p, q in body["asks"]] == asks
    _, top = await _call(venue, "GET", "/sim/book", symbol="BTCUSDT", limit="3")
    assert len(top["bids"]) == len(top["asks"]) == 3


async def test_pause_step_and_resume_over_http(live_venue):
    """Pause freezes the book, step moves it by one batch, resume lets it run."""
    status, paused = await _call(live_venue, "POST", "/sim/pause")
    assert (status, paused) == (200, {"paused": True})
    frozen = live_venue.true_book("BTCUSDT")[2]
    _, stepped = await _call(live_venue, "POST", "/sim/step", ms="50")
    assert stepped["updateIds"]["BTCUSDT"] > frozen
    assert live_venue.true_book("BTCUSDT")[2] == stepped["updateIds"]["BTCUSDT"]
    _, resumed = await _call(live_venue, "POST", "/sim/resume")
    assert resumed == {"paused": False}


async def test_status_reports_the_market_and_armed_faults(venue):
    """``GET /sim/status`` shows pause state, per-symbol touch and ids, and armed faults."""
    await _call(venue, "POST", "/sim/faults/malformed", count="2")
    status, body = await _call(venue, "GET", "/sim/status")
    assert status == 200
    assert body["paused"] is False
    assert body["autorun"] is False
    btc = body["symbols"]["BTCUSDT"]
    assert btc["lastUpdateId"] == venue.true_book("BTCUSDT")[2]
    assert float(btc["bestBid"]) < float(btc["bestAsk"])
    assert body["faults"]["malformed"] == 2


async def test_faults_can_be_armed_over_http(venue):
    """Every fault route answers ok and arms the matching fault."""
    for path, params in [
        ("/sim/faults/rate-limit", {"count": "2", "retry_after_s": "5"}),
        ("/sim/faults/slow-rest", {"delay_s": "0.25", "count": "1"}),
        ("/sim/faults/stale-snapshot", {}),
    ]:
        assert await _call(venue, "POST", path, **params) == (200, {"ok": True})
    armed = venue.faults.armed()
    assert (armed.rate_limited, armed.retry_after_s) == (2, 5)
    assert (armed.slow, armed.slow_delay_s, armed.stale_snapshot) == (1, 0.25, True)
    assert await _call(venue, "POST", "/sim/faults/clear") == (200, {"ok": True})
    assert venue.faults.armed().rate_limited == 0


async def test_gap_and_disconnect_over_http(venue):
    """The gap route skips ids on the next diff; the disconnect route reports what it cut."""
    async with open_stream(f"{venue.ws_url}/stream?streams=btcusdt@depth@100ms") as ws:
        await _call(venue, "POST", "/sim/step")
        first = await next_event(ws, "depthUpdate")
        assert await _call(venue, "POST", "/sim/faults/gap", symbol="BTCUSDT", missing="2") == (
            200,
            {"ok": True},
        )
        await _call(venue, "POST", "/sim/step", ns="100000000")
        gapped = await next_event(ws, "depthUpdate")
        assert gapped["U"] == first["u"] + 3
        assert await _call(venue, "POST", "/sim/faults/disconnect") == (200, {"disconnected": 1})


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("GET", "/sim/book", {}),
        ("GET", "/sim/book", {"symbol": "DOGEUSDT"}),
        ("POST", "/sim/faults/gap", {"symbol": "BTCUSDT", "missing": "none"}),
        ("POST", "/sim/faults/malformed", {"count": "0"}),
        ("POST", "/sim/faults/slow-rest", {}),
        ("POST", "/sim/faults/slow-rest", {"delay_s": "nan"}),
        ("POST", "/sim/step", {"ms": "-5"}),
    ],
)
async def test_bad_control_arguments_get_400(venue, method, path, params):
    """A bad or missing argument gets HTTP 400 and an error message."""
    status, body = await _call(venue, method, path, **params)
    assert status == 400
    assert body["error"]
