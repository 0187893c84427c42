from __future__ import annotations

import json

import pytest

from engine.core.events import Side
from tests.engine.sim.traders import (
    OTHER_KEY,
    OTHER_SECRET,
    Trader,
    UserStream,
    now_ms,
    price_text,
    size_text,
)

pytestmark = pytest.mark.integration

EXECUTION_FIELDS = ["e", *"EscSofqpPFgCxXrilzLnNTtIwmMOZYQWV"]
"""The single-letter fields of an executionReport, in Binance's order."""


async def test_subscribing_with_a_signature_returns_a_subscription_id(trading_venue):
    """Subscribing with a signature answers 200 with ``subscriptionId`` and rate limits."""
    async with UserStream(trading_venue) as stream:
        reply = await stream.subscribe()
        listed = await stream.request("session.subscriptions")
    assert reply["status"] == 200
    assert reply["result"] == {"subscriptionId": 0}
    assert reply["rateLimits"][0]["rateLimitType"] == "REQUEST_WEIGHT"
    assert listed["result"] == [{"subscriptionId": 0}]


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"secret": "wrong"}, 400, -1022),
        ({"apiKey": "nobody"}, 401, -2015),
        ({"apiKey": ""}, 400, -1102),
        ({"timestamp": 1_000_000_000_000}, 400, -1021),
        ({"recvWindow": 70_000}, 400, -1131),
    ],
)
async def test_bad_subscriptions_are_refused_with_binances_codes(
    trading_venue, change, status, code
):
    """A wrong signature, key, timestamp or window is answered with the REST API's codes."""
    async with UserStream(trading_venue) as stream:
        secret = change.pop("secret", None)
        params = stream.signed_params(secret=secret, **change)
        reply = await stream.request("userDataStream.subscribe.signature", params)
    assert (reply["status"], reply["error"]["code"]) == (status, code)
    assert "result" not in reply  # an error answer carries no result


async def test_one_subscription_per_account_per_connection(trading_venue):
    """A second subscription of the same account on one connection gets -2035."""
    async with UserStream(trading_venue) as stream:
        await stream.subscribe()
        again = await stream.subscribe()
    assert (again["status"], again["error"]["code"]) == (400, -2035)


async def test_unsubscribing_ends_the_stream_with_event_stream_terminated(trading_venue):
    """``userDataStream.unsubscribe`` answers ``{}`` and then sends ``eventStreamTerminated``."""
    async with UserStream(trading_venue) as stream:
        await stream.subscribe()
        reply = await stream.request("userDataStream.unsubscribe", {"subscriptionId": 0})
        ended = await stream.frame()
        unknown = await stream.request("userDataStream.unsubscribe", {"subscriptionId": 7})
        listed = await stream.request("session.subscriptions")
    assert (reply["status"], reply["result"]) == (200, {})
    assert ended["subscriptionId"] == 0
    assert ended["event"]["e"] == "eventStreamTerminated"
    assert unknown["error"]["code"] == -2036
    assert listed["result"] == []


async def test_a_sweep_reports_new_partial_and_filled_with_every_field(trading_venue, btc):
    """A buy through two levels reports NEW, TRADE partially filled, TRADE filled, then balances."""
    _, asks, _ = trading_venue.true_book("BTCUSDT")
    lots = asks[0][1] + 9
    async with UserStream(trading_venue) as stream, Trader(trading_venue) as alice:
        await stream.subscribe()
        placed = await alice.order(
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity=size_text(btc, lots),
            price=price_text(btc, asks[1][0]),
            newClientOrderId="sweep-1",
        )
        new, first, last = await stream.reports(3)
        position = await stream.event("outboundAccountPosition")
    assert list(new) == EXECUTION_FIELDS
    assert [r["x"] for r in (new, first, last)] == ["NEW", "TRADE", "TRADE"]
    assert [r["X"] for r in (new, first, last)] == ["NEW", "PARTIALLY_FILLED", "FILLED"]
    assert {r["i"] for r in (new, first, last)} == {placed.body["orderId"]}
    assert {r["c"] for r in (new, first, last)} == {"sweep-1"}
    assert new["t"] == -1
    assert new["N"] is None
    assert [first["t"], last["t"]] == [f["tradeId"] for f in placed.body["fills"]]
    assert new["I"] < first["I"] < last["I"]
    grid, sizes = btc.price_grid(), btc.size_grid()
    assert (grid.to_int(first["L"]), sizes.to_int(first["l"])) == asks[0]
    assert (grid.to_int(last["L"]), sizes.to_int(last["l"])) == (asks[1][0], 9)
    assert sizes.to_int(last["z"]) == lots
    assert last["Z"] == placed.body["cummulativeQuoteQty"]
    assert first["N"] == "BTC"
    assert first["m"] is False
    assert last["w"] is False
    assert first["S"] == "BUY"
    assert (first["o"], first["f"], first["V"]) == ("LIMIT", "GTC", "EXPIRE_MAKER")
    assert {b["a"] for b in position["B"]} == {"USDT", "BTC"}


async def test_a_resting_order_reports_new_then_canceled(trading_venue, btc):
    """A resting order is NEW and working; its cancel reports CANCELED with both client ids."""
    bids, _, _ = trading_venue.true_book("BTCUSDT")
    async with UserStream(trading_venue) as stream, Trader(trading_venue) as alice:
        await stream.subscribe()
        await alice.order(
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity="0.00100",
            price=price_text(btc, bids[0][0] - 3),
            newClientOrderId="rest-2",
        )
        new = await stream.event("executionReport")
        locked = await stream.event("outboundAccountPosition")
        await alice.call(
            "DELETE",
            "/api/v3/order",
            symbol="BTCUSDT",
            origClientOrderId="rest-2",
            newClientOrderId="cancel-2",
        )
        canceled = await stream.event("executionReport")
        released = await stream.event("outboundAccountPosition")
    assert (new["x"], new["X"], new["w"]) == ("NEW", "NEW", True)
    assert (canceled["x"], canceled["X"], canceled["w"]) == ("CANCELED", "CANCELED", False)
    assert (canceled["c"], canceled["C"]) == ("cancel-2", "rest-2")
    assert locked["B"][0]["a"] == "USDT"
    assert float(locked["B"][0]["l"]) > 0
    assert released["B"][0]["l"] == "0.00000000"


async def test_a_public_sweep_fills_a_resting_order_as_maker(trading_venue, btc):
    """A market sell sweeping past our bid fills it as maker (m true), commission in BTC."""
    bids, _, _ = trading_venue.true_book("BTCUSDT")
    async with UserStream(trading_venue) as stream, Trader(trading_venue) as alice:
        await stream.subscribe()
        await alice.order(
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity="0.00100",
            price=price_text(btc, bids[0][0]),
        )
        await stream.event("executionReport")
        trading_venue.market_order("BTCUSDT", Side.SELL, bids[0][1] + bids[1][1])
        fill = await stream.event("executionReport")
        queried = await alice.call("GET", "/api/v3/order", symbol="BTCUSDT", orderId=str(fill["i"]))
    assert (fill["x"], fill["X"], fill["m"]) == ("TRADE", "FILLED", True)
    assert btc.price_grid().to_int(fill["L"]) == bids[0][0]
    assert fill["N"] == "BTC"
    assert queried.body["status"] == "FILLED"


async def test_a_cancel_racing_a_fill_finds_the_order_gone(trading_venue, btc):
    """A cancel sent after the market filled the order gets -2011; the stream has the fill."""
    bids, _, _ = trading_venue.true_book("BTCUSDT")
    async with UserStream(trading_venue) as stream, Trader(trading_venue) as alice:
        await stream.subscribe()
        placed = await alice.order(
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity="0.00100",
            price=price_text(btc, bids[0][0]),
        )
        trading_venue.market_order("BTCUSDT", Side.SELL, bids[0][1] + bids[1][1])
        late = await alice.call(
            "DELETE", "/api/v3/order", symbol="BTCUSDT", orderId=str(placed.body["orderId"])
        )
        kinds = [(r["x"], r["X"]) for r in await stream.reports(2)]
    assert (late.status, late.code) == (400, -2011)
    assert kinds == [("NEW", "NEW"), ("TRADE", "FILLED")]


async def test_a_partly_filled_order_cancels_with_its_fills_kept(trading_venue, btc):
    """A GTC that took the touch and rests the rest cancels as CANCELED with executedQty kept."""
    _, asks, _ = trading_venue.true_book("BTCUSDT")
    async with UserStream(trading_venue) as stream, Trader(trading_venue) as alice:
        await stream.subscribe()
        placed = await alice.order(
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity=size_text(btc, asks[0][1] + 300),
            price=price_text(btc, asks[0][0]),
        )
        canceled = await alice.call(
            "DELETE", "/api/v3/order", symbol="BTCUSDT", orderId=str(placed.body["orderId"])
        )
        reports = await stream.reports(3)
    assert [(r["x"], r["X"]) for r in reports] == [
        ("NEW", "NEW"),
        ("TRADE", "PARTIALLY_FILLED"),
        ("CANCELED", "CANCELED"),
    ]
    assert canceled.body["executedQty"] == placed.body["executedQty"]
    assert reports[-1]["z"] == placed.body["executedQty"]


async def test_an_ioc_reports_its_expiry(trading_venue, btc):
    """An IOC that cannot fill all reports NEW, TRADE, then EXPIRED."""
    _, asks, _ = trading_venue.true_book("BTCUSDT")
    async with UserStream(trading_venue) as stream, Trader(trading_venue) as alice:
        await stream.subscribe()
        await alice.order(
            side="BUY",
            type="LIMIT",
            timeInForce="IOC",
            quantity=size_text(btc, asks[0][1] + 1),
            price=price_text(btc, asks[0][0]),
        )
        reports = await stream.reports(3)
    assert [r["x"] for r in reports] == ["NEW", "TRADE", "EXPIRED"]
    assert reports[-1]["X"] == "EXPIRED"


async def test_another_accounts_events_stay_on_its_own_stream(trading_venue, btc):
    """Bob's subscription hears bob's orders only, alice's hears hers."""
    bids, _, _ = trading_venue.true_book("BTCUSDT")
    async with (
        UserStream(trading_venue) as alice_stream,
        UserStream(trading_venue, OTHER_KEY, OTHER_SECRET) as bob_stream,
        Trader(trading_venue, OTHER_KEY, OTHER_SECRET) as bob,
    ):
        await alice_stream.subscribe()
        await bob_stream.subscribe()
        await bob.order(
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity="0.00100",
            price=price_text(btc, bids[0][0] - 2),
            newClientOrderId="bobs",
        )
        heard = await bob_stream.event("executionReport")
        alice_heard = await alice_stream.request("ping")
    assert heard["c"] == "bobs"
    assert alice_stream.pending == []
    assert alice_heard["result"] == {}


async def test_orders_can_be_placed_and_canceled_over_the_websocket_api(trading_venue, btc):
    """``order.place`` answers the REST body with ORDERS counts; ``order.cancel`` cancels."""
    bids, _, _ = trading_venue.true_book("BTCUSDT")
    async with UserStream(trading_venue) as stream:
        placed = await stream.request(
            "order.place",
            stream.signed_params(
                symbol="BTCUSDT",
                side="BUY",
                type="LIMIT",
                timeInForce="GTC",
                quantity="0.00100",
                price=price_text(btc, bids[0][0] - 2),
                newClientOrderId="ws-1",
            ),
        )
        status = await stream.request(
            "order.status", stream.signed_params(symbol="BTCUSDT", origClientOrderId="ws-1")
        )
        canceled = await stream.request(
            "order.cancel", stream.signed_params(symbol="BTCUSDT", origClientOrderId="ws-1")
        )
    assert placed["status"] == 200
    assert placed["result"]["status"] == "NEW"
    intervals = {(r["rateLimitType"], r["interval"]) for r in placed["rateLimits"]}
    assert ("ORDERS", "SECOND") in intervals
    assert status["result"]["clientOrderId"] == "ws-1"
    assert canceled["result"]["status"] == "CANCELED"


async def test_bad_requests_get_errors_not_a_dropped_connection(trading_venue):
    """Invalid JSON, unknown methods and non-object params are answered and the link stays up."""
    async with UserStream(trading_venue) as stream:
        assert stream.ws is not None
        await stream.ws.send_str("{not json")
        garbled = await stream.frame()
        unknown = await stream.request("account.delete")
        await stream.ws.send_str(json.dumps({"id": 5, "method": "ping", "params": [1]}))
        listy = await stream.frame()
        ping = await stream.request("time")
    assert (garbled["status"], garbled["error"]["code"], garbled["id"]) == (400, -1135, None)
    assert unknown["error"]["code"] == -1020
    assert (listy["id"], listy["status"]) == (5, 400)
    assert abs(ping["result"]["serverTime"] - now_ms()) < 60_000
