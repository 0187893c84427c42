from __future__ import annotations

import time

import pytest

from engine.sim.server import SimVenue
from tests.engine.sim.helpers import STEP_NS, get_json

pytestmark = pytest.mark.integration


async def test_depth_snapshot_matches_the_true_book(venue, btc):
    """``GET /api/v3/depth`` returns the true book's top levels as padded text with its id."""
    await venue.step(STEP_NS)
    status, headers, body = await get_json(f"{venue.rest_url}/api/v3/depth?symbol=BTCUSDT&limit=5")
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    assert list(body) == ["lastUpdateId", "bids", "asks"]
    bids, asks, update_id = venue.true_book("BTCUSDT")
    assert body["lastUpdateId"] == update_id
    price, size = btc.price_grid(), btc.size_grid()
    assert [(price.to_int(p), size.to_int(q)) for p, q in body["bids"]] == bids[:5]
    assert [(price.to_int(p), size.to_int(q)) for p, q in body["asks"]] == asks[:5]
    for p, q in body["bids"] + body["asks"]:
        assert len(p.split(".")[1]) == 8
        assert len(q.split(".")[1]) == 8


async def test_depth_limit_defaults_to_100_and_large_limits_hold_the_whole_book(venue):
    """No limit gives 100 levels a side; limit 1000 (or above 5000) gives the whole book."""
    _, _, default = await get_json(f"{venue.rest_url}/api/v3/depth?symbol=BTCUSDT")
    assert len(default["bids"]) == len(default["asks"]) == 100
    bids, asks, _ = venue.true_book("BTCUSDT")
    for limit in (1000, 9999):
        _, _, full = await get_json(f"{venue.rest_url}/api/v3/depth?symbol=BTCUSDT&limit={limit}")
        assert (len(full["bids"]), len(full["asks"])) == (len(bids), len(asks))


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", -1102),
        ("?symbol=btcusdt", -1100),
        ("?symbol=DOGEUSDT", -1121),
        ("?symbol=BTCUSDT&limit=ten", -1100),
    ],
)
async def test_depth_errors_answer_like_binance(venue, query, code):
    """Bad depth requests get HTTP 400 with Binance's code and message."""
    status, _, body = await get_json(f"{venue.rest_url}/api/v3/depth{query}")
    assert status == 400
    assert body["code"] == code
    assert isinstance(body["msg"], str)


async def test_used_weight_header_counts_request_weight(venue):
    """Each answer carries X-MBX-USED-WEIGHT-1M, growing by the endpoint's weight."""
    _, first, _ = await get_json(f"{venue.rest_url}/api/v3/depth?symbol=BTCUSDT")
    _, second, _ = await get_json(f"{venue.rest_url}/api/v3/depth?symbol=BTCUSDT&limit=1000")
    before, after = int(first["X-MBX-USED-WEIGHT-1M"]), int(second["X-MBX-USED-WEIGHT-1M"])
    assert before >= 5
    assert after in (before + 50, 50)  # 50 alone when a new minute began in between


async def test_exchange_info_lists_filters_and_rate_limits(btc, eth):
    """The exchangeInfo answer carries tick, step and notional filters and the rate limits."""
    sim = SimVenue([btc, eth], autorun=False)
    await sim.start()
    try:
        status, _, info = await get_json(f"{sim.rest_url}/api/v3/exchangeInfo")
        _, _, one = await get_json(f"{sim.rest_url}/api/v3/exchangeInfo?symbol=ETHUSDT")
        _, _, both = await get_json(
            f'{sim.rest_url}/api/v3/exchangeInfo?symbols=["BTCUSDT","ETHUSDT"]'
        )
        bad_status, _, bad = await get_json(f"{sim.rest_url}/api/v3/exchangeInfo?symbol=XRPUSDT")
    finally:
        await sim.stop()
    assert status == 200
    assert info["timezone"] == "UTC"
    assert {r["rateLimitType"] for r in info["rateLimits"]} == {
        "REQUEST_WEIGHT",
        "ORDERS",
        "RAW_REQUESTS",
    }
    btc_info = info["symbols"][0]
    assert (btc_info["symbol"], btc_info["baseAsset"], btc_info["quoteAsset"]) == (
        "BTCUSDT",
        "BTC",
        "USDT",
    )
    filters = {f["filterType"]: f for f in btc_info["filters"]}
    assert filters["PRICE_FILTER"]["tickSize"] == "0.01000000"
    assert filters["LOT_SIZE"]["stepSize"] == "0.00001000"
    assert filters["NOTIONAL"]["minNotional"] == "5.00000000"
    assert [s["symbol"] for s in one["symbols"]] == ["ETHUSDT"]
    assert [s["symbol"] for s in both["symbols"]] == ["BTCUSDT", "ETHUSDT"]
    assert (bad_status, bad["code"]) == (400, -1121)


async def test_ping_and_time_answer(venue):
    """``/api/v3/ping`` answers ``{}`` and ``/api/v3/time`` the server time in milliseconds."""
    _, _, ping = await get_json(f"{venue.rest_url}/api/v3/ping")
    _, _, server = await get_json(f"{venue.rest_url}/api/v3/time")
    assert ping == {}
    assert abs(server["serverTime"] - time.time() * 1000) < 60_000
