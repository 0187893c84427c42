from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from engine.sim import SimError
from engine.sim.server import SimVenue
from engine.venues.binance.signing import encode_params, sign_rest
from tests.engine.sim.traders import KEY, SECRET, Trader, UserStream, now_ms, price_text

pytestmark = pytest.mark.integration


async def _control(venue: SimVenue, method: str, path: str, **params: str) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, f"{venue.rest_url}{path}", params=params) as response,
    ):
        return response.status, await response.json()


async def _bid(alice: Trader, venue: SimVenue, btc, client_id: str = "f-1"):
    bids, _, _ = venue.true_book("BTCUSDT")
    return await alice.order(
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.00100",
        price=price_text(btc, bids[0][0] - 4),
        newClientOrderId=client_id,
    )


async def test_order_rate_limit_answers_429_or_418_with_retry_after(trading_venue, btc):
    """Order entry answers 429 (-1003) or, banned, 418; nothing is placed; then it recovers."""
    faults = trading_venue.faults.trading
    async with Trader(trading_venue) as alice:
        faults.order_rate_limit_next(retry_after_s=7)
        limited = await _bid(alice, trading_venue, btc)
        faults.order_rate_limit_next(retry_after_s=120, banned=True)
        banned = await _bid(alice, trading_venue, btc)
        queries = await alice.call("GET", "/api/v3/openOrders")
        recovered = await _bid(alice, trading_venue, btc)
    assert (limited.status, limited.code, limited.headers["Retry-After"]) == (429, -1003, "7")
    assert (banned.status, banned.code, banned.headers["Retry-After"]) == (418, -1003, "120")
    assert "IP banned until" in banned.body["msg"]
    assert queries.status == 200  # queries are not order entry
    assert queries.body == []
    assert recovered.status == 200


async def test_status_unknown_after_placing_leaves_a_real_order(trading_venue, btc):
    """A -1007 timeout (408) can come after the order was placed: it is open on the venue."""
    trading_venue.faults.trading.status_unknown_next(placed=True, answer="timeout")
    async with Trader(trading_venue) as alice:
        reply = await _bid(alice, trading_venue, btc, "unknown-1")
        found = await alice.call(
            "GET", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="unknown-1"
        )
    assert (reply.status, reply.code) == (408, -1007)
    assert "execution status unknown" in reply.body["msg"]
    assert found.body["status"] == "NEW"


async def test_status_unknown_without_placing_leaves_nothing(trading_venue, btc):
    """A 503 can also mean the order never arrived: the venue has no such order."""
    trading_venue.faults.trading.status_unknown_next(placed=False, answer="unavailable")
    async with Trader(trading_venue) as alice:
        reply = await _bid(alice, trading_venue, btc, "unknown-2")
        found = await alice.call(
            "GET", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="unknown-2"
        )
    assert reply.status == 503
    assert found.code == -2013


async def test_garbage_bodies_are_not_json_but_the_order_happened(trading_venue, btc):
    """The next answers are an HTML page and JSON cut short; the orders behind them stand."""
    trading_venue.faults.trading.garbage_rest_next(2)
    async with Trader(trading_venue) as alice:
        html = await _bid(alice, trading_venue, btc, "garbled-1")
        cut = await _bid(alice, trading_venue, btc, "garbled-2")
        listed = await alice.call("GET", "/api/v3/openOrders", symbol="BTCUSDT")
    assert html.body is None
    assert html.headers["Content-Type"].startswith("text/html")
    assert cut.body is None
    assert cut.text.startswith('{"symbol":"BTCUSDT"')
    assert {o["clientOrderId"] for o in listed.body} == {"garbled-1", "garbled-2"}


async def test_garbage_reaches_market_data_answers_too(trading_venue):
    """A garbage fault applies to any REST answer, the depth snapshot included."""
    trading_venue.faults.trading.garbage_rest_next()
    async with Trader(trading_venue) as alice:
        reply = await alice.raw("GET", "/api/v3/depth", "symbol=BTCUSDT&limit=5")
    assert reply.status == 200
    assert reply.body is None


async def test_a_slow_order_answer_comes_after_the_user_stream(trading_venue, btc):
    """With a slow answer the client times out, yet the order is placed and streamed."""
    trading_venue.faults.trading.slow_orders(0.5)
    bids, _, _ = trading_venue.true_book("BTCUSDT")
    async with UserStream(trading_venue) as stream:
        await stream.subscribe()
        async with aiohttp.ClientSession() as http:
            with pytest.raises(TimeoutError):
                await _timed_order(http, trading_venue, btc, bids[0][0] - 4)
        new = await stream.event("executionReport")
    assert (new["x"], new["c"]) == ("NEW", "slow-1")
    assert [r.client_order_id for r in trading_venue.desk.orders()] == ["slow-1"]


async def _timed_order(http: aiohttp.ClientSession, venue: SimVenue, btc, price: int) -> None:
    params = [
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("type", "LIMIT"),
        ("timeInForce", "GTC"),
        ("quantity", "0.00100"),
        ("price", price_text(btc, price)),
        ("newClientOrderId", "slow-1"),
        ("timestamp", str(now_ms())),
    ]
    query = encode_params(params)
    query += "&signature=" + sign_rest(SECRET.encode(), query)
    async with http.post(
        f"{venue.rest_url}/api/v3/order?{query}",
        headers={"X-MBX-APIKEY": KEY},
        timeout=aiohttp.ClientTimeout(total=0.1),
    ):
        pass


async def test_user_streams_can_be_cut_and_resubscribed(trading_venue):
    """Disconnecting cuts the WebSocket API without a close frame; a new one subscribes again."""
    async with UserStream(trading_venue) as stream:
        await stream.subscribe()
        assert trading_venue.faults.trading.disconnect_user_streams() == 1
        with pytest.raises(ConnectionError):
            await stream.frame()
    async with UserStream(trading_venue) as again:
        assert (await again.subscribe())["status"] == 200


async def test_terminating_subscriptions_sends_event_stream_terminated(trading_venue):
    """Terminating ends each subscription with ``eventStreamTerminated``; the connection stays."""
    async with UserStream(trading_venue) as stream:
        await stream.subscribe()
        assert trading_venue.faults.trading.terminate_user_streams() == 1
        ended = await stream.event("eventStreamTerminated")
        listed = await stream.request("session.subscriptions")
    assert isinstance(ended["E"], int)
    assert listed["result"] == []


async def test_malformed_user_stream_frames_precede_the_real_ones(trading_venue, btc):
    """A cut-off frame, then a wrong-shaped one, go ahead of the next real events."""
    trading_venue.faults.trading.malformed_user_stream_next(2)
    async with UserStream(trading_venue) as stream, Trader(trading_venue) as alice:
        await stream.subscribe()
        await _bid(alice, trading_venue, btc)
        frames = [await stream.frame() for _ in range(4)]
    cut, real_new, wrong, real_position = frames
    assert isinstance(cut, str)
    assert real_new["event"]["e"] == "executionReport"
    assert wrong["event"]["E"] == "soon"
    assert real_position["event"]["e"] == "outboundAccountPosition"


def test_trading_fault_arguments_are_checked(trading_venue):
    """Counts below one, negative delays and unknown answers raise SimError."""
    faults = trading_venue.faults.trading
    with pytest.raises(SimError):
        faults.order_rate_limit_next(0)
    with pytest.raises(SimError):
        faults.status_unknown_next(delay_s=-1)
    with pytest.raises(SimError):
        faults.status_unknown_next(answer="maybe")  # type: ignore[arg-type]
    with pytest.raises(SimError):
        faults.slow_orders(-0.5)
    with pytest.raises(SimError):
        faults.garbage_rest_next(0)


def test_armed_trading_faults_are_reported_and_cleared(trading_venue):
    """armed() counts order-side faults; the venue's clear() disarms them with the others."""
    faults = trading_venue.faults.trading
    faults.order_rate_limit_next(2, retry_after_s=3, banned=True)
    faults.status_unknown_next(1)
    faults.garbage_rest_next(3)
    faults.slow_orders(0.2, count=2)
    faults.malformed_user_stream_next(4)
    armed = faults.armed()
    assert (armed.order_rate_limited, armed.order_status, armed.order_retry_after_s) == (2, 418, 3)
    assert (armed.status_unknown, armed.garbage_rest, armed.slow_orders) == (1, 3, 2)
    assert armed.malformed_user_stream == 4
    trading_venue.faults.clear()
    cleared = faults.armed()
    assert (cleared.order_rate_limited, cleared.status_unknown, cleared.garbage_rest) == (0, 0, 0)
    assert (cleared.slow_orders, cleared.malformed_user_stream) == (0, 0)


async def test_order_faults_can_be_armed_over_http(trading_venue):
    """Each ``/sim/faults/...`` order-side route arms its fault; bad arguments get 400."""
    routes = [
        ("/sim/faults/order-rate-limit", {"count": "2", "banned": "true"}),
        ("/sim/faults/status-unknown", {"placed": "false", "answer": "unavailable"}),
        ("/sim/faults/garbage-rest", {"count": "1"}),
        ("/sim/faults/slow-orders", {"delay_s": "0.2"}),
        ("/sim/faults/malformed-user-stream", {}),
    ]
    for path, params in routes:
        assert (await _control(trading_venue, "POST", path, **params))[0] == 200
    _, status = await _control(trading_venue, "GET", "/sim/status")
    bad = await _control(trading_venue, "POST", "/sim/faults/status-unknown", answer="maybe")
    worse = await _control(trading_venue, "POST", "/sim/faults/order-rate-limit", banned="yes")
    cut = await _control(trading_venue, "POST", "/sim/faults/disconnect-user-streams")
    ended = await _control(trading_venue, "POST", "/sim/faults/terminate-user-streams")
    armed = status["tradingFaults"]
    assert (armed["order_rate_limited"], armed["order_status"]) == (2, 418)
    assert (armed["status_unknown"], armed["garbage_rest"], armed["slow_orders"]) == (1, 1, 1)
    assert bad[0] == worse[0] == 400
    assert cut == (200, {"disconnected": 0})
    assert ended == (200, {"terminated": 0})


async def test_sim_orders_shows_the_venues_true_orders(trading_venue, btc):
    """``GET /sim/orders`` lists every account's orders; filters pick account and open ones."""
    async with Trader(trading_venue) as alice:
        await _bid(alice, trading_venue, btc, "open-1")
        await alice.order(side="BUY", type="MARKET", quantity="0.00100", newClientOrderId="done-1")
    _, every = await _control(trading_venue, "GET", "/sim/orders")
    _, still = await _control(trading_venue, "GET", "/sim/orders", account="alice", open="true")
    _, bobs = await _control(trading_venue, "GET", "/sim/orders", account="bob")
    missing = await _control(trading_venue, "GET", "/sim/orders", account="carol")
    assert [(o["clientOrderId"], o["status"]) for o in every["orders"]] == [
        ("open-1", "NEW"),
        ("done-1", "FILLED"),
    ]
    assert [o["clientOrderId"] for o in still["orders"]] == ["open-1"]
    assert every["orders"][0]["account"] == "alice"
    assert bobs["orders"] == []
    assert missing[0] == 400


async def test_sim_accounts_shows_balances_without_keys(trading_venue):
    """``GET /sim/accounts`` shows each account's balances and never its key or secret."""
    status, body = await _control(trading_venue, "GET", "/sim/accounts")
    assert status == 200
    assert [a["name"] for a in body["accounts"]] == ["alice", "bob"]
    assert body["accounts"][0]["balances"]["USDT"] == {
        "free": "1000000.00000000",
        "locked": "0.00000000",
    }
    assert "simKey" not in str(body)
    assert "simSecret" not in str(body)


async def test_a_public_market_order_can_be_sent_over_http(trading_venue, btc):
    """``POST /sim/market-order`` sweeps the book and answers the trades it printed."""
    _, asks, _ = trading_venue.true_book("BTCUSDT")
    status, body = await _control(
        trading_venue, "POST", "/sim/market-order", symbol="BTCUSDT", side="BUY", quantity="0.001"
    )
    bad = await _control(
        trading_venue, "POST", "/sim/market-order", symbol="BTCUSDT", side="UP", quantity="1"
    )
    assert status == 200
    assert sum(btc.size_grid().to_int(t["qty"]) for t in body["trades"]) == 100
    assert btc.price_grid().to_int(body["trades"][0]["price"]) == asks[0][0]
    assert bad[0] == 400
