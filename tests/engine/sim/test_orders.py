from __future__ import annotations

from decimal import Decimal

import pytest

from engine.sim.server import SimVenue
from engine.sim.wire import padded
from engine.venues.binance.signing import encode_params, sign_rest
from tests.engine.sim.helpers import open_stream, recv_json
from tests.engine.sim.traders import SECRET, Trader, accounts, now_ms, price_text, size_text

pytestmark = pytest.mark.integration

ORDER = "/api/v3/order"


def _touch(venue: SimVenue) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    bids, asks, _ = venue.true_book("BTCUSDT")
    return bids, asks


async def test_a_resting_limit_order_is_new_and_listed_open(trading_venue, btc):
    """A passive LIMIT GTC answers FULL with status NEW, no fills and the order-count headers."""
    bids, _ = _touch(trading_venue)
    price = price_text(btc, bids[0][0] - 5)
    async with Trader(trading_venue) as alice:
        new = await alice.order(
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity="0.00100",
            price=price,
            newClientOrderId="rest-1",
        )
        listed = await alice.call("GET", "/api/v3/openOrders", symbol="BTCUSDT")
        by_id = await alice.call("GET", ORDER, symbol="BTCUSDT", orderId=str(new.body["orderId"]))
        by_client = await alice.call("GET", ORDER, symbol="BTCUSDT", origClientOrderId="rest-1")
    assert new.status == 200
    assert new.body["status"] == "NEW"
    assert new.body["fills"] == []
    assert new.body["clientOrderId"] == "rest-1"
    assert new.body["origQty"] == "0.00100000"
    assert new.body["price"] == f"{price}000000"
    assert (new.headers["X-MBX-ORDER-COUNT-10S"], new.headers["X-MBX-ORDER-COUNT-1D"]) == ("1", "1")
    assert [o["orderId"] for o in listed.body] == [new.body["orderId"]]
    assert by_id.body == by_client.body
    assert by_id.body["isWorking"] is True
    assert by_id.body["status"] == "NEW"


async def test_a_crossing_order_fills_across_levels_with_full_fills(trading_venue, btc):
    """A buy through three ask levels gets one fill per level at its price, best first."""
    _, asks = _touch(trading_venue)
    lots = asks[0][1] + asks[1][1] + 7
    async with Trader(trading_venue) as alice:
        reply = await alice.order(
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity=size_text(btc, lots),
            price=price_text(btc, asks[2][0]),
        )
    body = reply.body
    assert body["status"] == "FILLED"
    assert body["executedQty"] == f"{size_text(btc, lots)}000"
    fills = body["fills"]
    prices = [btc.price_grid().to_int(f["price"]) for f in fills]
    sizes = [btc.size_grid().to_int(f["qty"]) for f in fills]
    assert prices == [asks[0][0], asks[1][0], asks[2][0]]
    assert sizes == [asks[0][1], asks[1][1], 7]
    assert {f["commissionAsset"] for f in fills} == {"BTC"}
    assert len({f["tradeId"] for f in fills}) == 3
    quote = sum(p * s for p, s in zip(prices, sizes, strict=True))
    exact = Decimal(quote) * Decimal(btc.tick_size) * Decimal(btc.lot_size)
    assert body["cummulativeQuoteQty"] == padded(exact)
    _, after = _touch(trading_venue)
    assert after[0] == (asks[2][0], asks[2][1] - 7)


async def test_the_liquidity_an_order_takes_prints_public_trades(trading_venue, btc):
    """Each level an order takes prints one public trade, the taker the buyer (m false)."""
    _, asks = _touch(trading_venue)
    lots = asks[0][1] + 3
    async with (
        open_stream(f"{trading_venue.ws_url}/ws/btcusdt@trade") as ws,
        Trader(trading_venue) as alice,
    ):
        reply = await alice.order(
            side="BUY",
            type="LIMIT",
            timeInForce="IOC",
            quantity=size_text(btc, lots),
            price=price_text(btc, asks[1][0]),
        )
        trades = [await recv_json(ws), await recv_json(ws)]
    fill_ids = [f["tradeId"] for f in reply.body["fills"]]
    assert [t["t"] for t in trades] == fill_ids
    assert [btc.size_grid().to_int(t["q"]) for t in trades] == [asks[0][1], 3]
    assert all(t["m"] is False for t in trades)


async def test_a_crossing_gtc_rests_its_remainder_partially_filled(trading_venue, btc):
    """A GTC buy larger than the touch takes it and rests the rest as PARTIALLY_FILLED."""
    _, asks = _touch(trading_venue)
    async with Trader(trading_venue) as alice:
        reply = await alice.order(
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity=size_text(btc, asks[0][1] + 500),
            price=price_text(btc, asks[0][0]),
        )
        listed = await alice.call("GET", "/api/v3/openOrders", symbol="BTCUSDT")
    assert reply.body["status"] == "PARTIALLY_FILLED"
    assert btc.size_grid().to_int(reply.body["executedQty"]) == asks[0][1]
    assert listed.body[0]["status"] == "PARTIALLY_FILLED"


async def test_limit_maker_that_would_take_is_rejected(trading_venue, btc):
    """LIMIT_MAKER crossing the book gets -2010; a passive one rests and answers ACK by default."""
    bids, asks = _touch(trading_venue)
    async with Trader(trading_venue) as alice:
        taking = await alice.order(
            side="BUY", type="LIMIT_MAKER", quantity="0.00100", price=price_text(btc, asks[0][0])
        )
        passive = await alice.order(
            side="BUY", type="LIMIT_MAKER", quantity="0.00100", price=price_text(btc, bids[0][0])
        )
    assert (taking.status, taking.code) == (400, -2010)
    assert taking.body["msg"] == "Order would immediately match and take."
    assert passive.status == 200
    assert set(passive.body) == {
        "symbol",
        "orderId",
        "orderListId",
        "clientOrderId",
        "transactTime",
    }


async def test_ioc_fills_what_it_can_and_expires_the_rest(trading_venue, btc):
    """An IOC larger than the touch fills the touch and ends EXPIRED."""
    _, asks = _touch(trading_venue)
    async with Trader(trading_venue) as alice:
        reply = await alice.order(
            side="BUY",
            type="LIMIT",
            timeInForce="IOC",
            quantity=size_text(btc, asks[0][1] + 10),
            price=price_text(btc, asks[0][0]),
        )
        still_open = await alice.call("GET", "/api/v3/openOrders", symbol="BTCUSDT")
    assert reply.body["status"] == "EXPIRED"
    assert btc.size_grid().to_int(reply.body["executedQty"]) == asks[0][1]
    assert still_open.body == []


async def test_fok_fills_all_or_expires_with_nothing(trading_venue, btc):
    """A FOK the touch cannot fill expires with no fill; one that fits fills completely."""
    _, asks = _touch(trading_venue)
    price = price_text(btc, asks[0][0])
    async with Trader(trading_venue) as alice:
        too_big = await alice.order(
            side="BUY",
            type="LIMIT",
            timeInForce="FOK",
            quantity=size_text(btc, asks[0][1] + 1),
            price=price,
        )
        fits = await alice.order(
            side="BUY", type="LIMIT", timeInForce="FOK", quantity=size_text(btc, 100), price=price
        )
    assert too_big.body["status"] == "EXPIRED"
    assert too_big.body["executedQty"] == "0.00000000"
    assert too_big.body["fills"] == []
    assert fits.body["status"] == "FILLED"


async def test_market_orders_fill_by_quantity_or_by_quote(trading_venue, btc):
    """MARKET BUY by quantity fills it; MARKET SELL by quoteOrderQty sells whole lots for it."""
    async with Trader(trading_venue) as alice:
        bought = await alice.order(side="BUY", type="MARKET", quantity="0.01000")
        sold = await alice.order(side="SELL", type="MARKET", quoteOrderQty="100")
    assert bought.body["status"] == "FILLED"
    assert bought.body["executedQty"] == "0.01000000"
    assert sold.body["status"] == "FILLED"
    assert sold.body["origQuoteOrderQty"] == "100.00000000"
    assert 0 < float(sold.body["cummulativeQuoteQty"]) <= 100


async def test_response_types_shape_the_answer(trading_venue, btc):
    """ACK carries the ids only, RESULT the state without fills, FULL adds fills."""
    bids, _ = _touch(trading_venue)
    common = {"side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.00100"}
    price = price_text(btc, bids[0][0] - 3)
    async with Trader(trading_venue) as alice:
        ack = await alice.order(**common, price=price, newOrderRespType="ACK")
        result = await alice.order(**common, price=price, newOrderRespType="RESULT")
    assert set(ack.body) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}
    assert "status" in result.body
    assert "fills" not in result.body
    assert result.body["selfTradePreventionMode"] == "EXPIRE_MAKER"


async def test_a_client_id_in_use_by_an_open_order_is_a_duplicate(trading_venue, btc):
    """Reusing an open order's client id gets -2010 Duplicate; once canceled it is free again."""
    bids, _ = _touch(trading_venue)
    order = {
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.00100",
        "price": price_text(btc, bids[0][0] - 4),
        "newClientOrderId": "same-id",
    }
    async with Trader(trading_venue) as alice:
        first = await alice.order(**order)
        again = await alice.order(**order)
        await alice.call("DELETE", ORDER, symbol="BTCUSDT", origClientOrderId="same-id")
        reused = await alice.order(**order)
    assert first.status == 200
    assert (again.status, again.code, again.body["msg"]) == (400, -2010, "Duplicate order sent.")
    assert reused.status == 200
    assert reused.body["orderId"] != first.body["orderId"]


@pytest.mark.parametrize(
    ("change", "code", "msg"),
    [
        ({"price": "65000.001"}, -1013, "Filter failure: PRICE_FILTER"),
        ({"quantity": "0.000001"}, -1013, "Filter failure: LOT_SIZE"),
        ({"quantity": "0.00001", "price": "100.00"}, -1013, "Filter failure: NOTIONAL"),
        ({"quantity": "0.001000001"}, -1111, "Parameter 'quantity' has too much precision."),
        ({"price": None}, -1102, None),
        ({"price": "1e5"}, -1100, None),
        ({"side": "LONG"}, -1117, "Invalid side."),
        ({"type": "ICEBERG"}, -1116, "Invalid orderType."),
        ({"type": "STOP_LOSS"}, -1014, None),
        ({"timeInForce": None}, -1102, None),
        ({"timeInForce": "GTX"}, -1115, "Invalid timeInForce."),
        ({"symbol": "ETHBTC"}, -1121, "Invalid symbol."),
        ({"symbol": "btcusdt"}, -1100, None),
        ({"newClientOrderId": "has space"}, -1100, None),
        ({"newOrderRespType": "ALL"}, -1100, None),
        ({"selfTradePreventionMode": "DECREMENT"}, -1130, None),
    ],
)
async def test_bad_orders_get_binances_codes(trading_venue, change, code, msg):
    """Each malformed or filter-breaking order is refused with HTTP 400 and Binance's code."""
    order = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.00100",
        "price": "60000.00",
    }
    order.update(change)
    params = {k: v for k, v in order.items() if v is not None}
    async with Trader(trading_venue) as alice:
        reply = await alice.call("POST", ORDER, **params)
    assert (reply.status, reply.code) == (400, code)
    if msg is not None:
        assert reply.body["msg"] == msg


async def test_market_orders_refuse_a_price_or_time_in_force(trading_venue):
    """MARKET with ``price`` or ``timeInForce`` gets -1106 naming the parameter."""
    async with Trader(trading_venue) as alice:
        priced = await alice.order(side="BUY", type="MARKET", quantity="0.001", price="1.00")
        timed = await alice.order(side="BUY", type="MARKET", quantity="0.001", timeInForce="GTC")
    assert (priced.code, priced.body["msg"]) == (-1106, "Parameter 'price' sent when not required.")
    assert timed.code == -1106


async def test_cancel_by_either_id_answers_canceled_then_unknown(trading_venue, btc):
    """A cancel answers CANCELED with both client ids; the same cancel again gets -2011."""
    bids, _ = _touch(trading_venue)
    async with Trader(trading_venue) as alice:
        placed = await alice.order(
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity="0.00100",
            price=price_text(btc, bids[0][0] - 2),
            newClientOrderId="to-cancel",
        )
        canceled = await alice.call(
            "DELETE",
            ORDER,
            symbol="BTCUSDT",
            orderId=str(placed.body["orderId"]),
            newClientOrderId="the-cancel",
        )
        again = await alice.call("DELETE", ORDER, symbol="BTCUSDT", origClientOrderId="to-cancel")
        queried = await alice.call("GET", ORDER, symbol="BTCUSDT", origClientOrderId="to-cancel")
        missing = await alice.call("GET", ORDER, symbol="BTCUSDT", orderId="999999")
        neither = await alice.call("DELETE", ORDER, symbol="BTCUSDT")
    assert canceled.body["status"] == "CANCELED"
    assert canceled.body["origClientOrderId"] == "to-cancel"
    assert canceled.body["clientOrderId"] == "the-cancel"
    assert (again.status, again.code, again.body["msg"]) == (400, -2011, "Unknown order sent.")
    assert queried.body["status"] == "CANCELED"
    assert queried.body["isWorking"] is False
    assert (missing.code, missing.body["msg"]) == (-2013, "Order does not exist.")
    assert neither.code == -1102


async def test_cancel_all_cancels_every_open_order_of_the_symbol(trading_venue, btc):
    """DELETE openOrders answers one CANCELED entry per open order, then -2011 when none is left."""
    bids, _ = _touch(trading_venue)
    async with Trader(trading_venue) as alice:
        for n in range(3):
            await alice.order(
                side="BUY",
                type="LIMIT",
                timeInForce="GTC",
                quantity="0.00100",
                price=price_text(btc, bids[0][0] - 2 - n),
            )
        done = await alice.call("DELETE", "/api/v3/openOrders", symbol="BTCUSDT")
        again = await alice.call("DELETE", "/api/v3/openOrders", symbol="BTCUSDT")
        left = await alice.call("GET", "/api/v3/openOrders")
    assert [o["status"] for o in done.body] == ["CANCELED"] * 3
    assert again.code == -2011
    assert left.body == []


async def _resting(alice: Trader, btc, price: int, client_id: str) -> dict:
    reply = await alice.order(
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.00100",
        price=price_text(btc, price),
        newClientOrderId=client_id,
    )
    assert reply.status == 200, reply
    return reply.body


def _replace(mode: str, cancel_id: str, **new: str) -> dict[str, str]:
    return {
        "symbol": "BTCUSDT",
        "cancelReplaceMode": mode,
        "cancelOrigClientOrderId": cancel_id,
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.00200",
        **new,
    }


async def test_cancel_replace_success_answers_both_halves(trading_venue, btc):
    """Both halves succeeding answer 200 with SUCCESS twice and both responses."""
    bids, _ = _touch(trading_venue)
    async with Trader(trading_venue) as alice:
        await _resting(alice, btc, bids[0][0] - 3, "old")
        reply = await alice.call(
            "POST",
            "/api/v3/order/cancelReplace",
            **_replace("STOP_ON_FAILURE", "old", price=price_text(btc, bids[0][0] - 1)),
        )
        listed = await alice.call("GET", "/api/v3/openOrders", symbol="BTCUSDT")
    assert reply.status == 200
    assert (reply.body["cancelResult"], reply.body["newOrderResult"]) == ("SUCCESS", "SUCCESS")
    assert reply.body["cancelResponse"]["status"] == "CANCELED"
    assert reply.body["newOrderResponse"]["status"] == "NEW"
    assert "X-MBX-ORDER-COUNT-10S" in reply.headers
    assert [o["origQty"] for o in listed.body] == ["0.00200000"]


async def test_cancel_replace_of_an_unknown_order_stops_with_2022(trading_venue, btc):
    """STOP_ON_FAILURE with a failed cancel answers 400 -2022 and never tries the new order."""
    bids, _ = _touch(trading_venue)
    async with Trader(trading_venue) as alice:
        reply = await alice.call(
            "POST",
            "/api/v3/order/cancelReplace",
            **_replace("STOP_ON_FAILURE", "nobody", price=price_text(btc, bids[0][0] - 1)),
        )
        listed = await alice.call("GET", "/api/v3/openOrders", symbol="BTCUSDT")
    assert (reply.status, reply.code) == (400, -2022)
    assert reply.body["msg"] == "Order cancel-replace failed."
    data = reply.body["data"]
    assert (data["cancelResult"], data["newOrderResult"]) == ("FAILURE", "NOT_ATTEMPTED")
    assert data["cancelResponse"] == {"code": -2011, "msg": "Unknown order sent."}
    assert data["newOrderResponse"] is None
    assert listed.body == []


async def test_cancel_replace_with_a_refused_new_order_is_a_409(trading_venue, btc):
    """Cancel done, new order refused (post-only would take): 409 -2021 with both outcomes."""
    bids, asks = _touch(trading_venue)
    async with Trader(trading_venue) as alice:
        await _resting(alice, btc, bids[0][0] - 3, "old")
        params = _replace("STOP_ON_FAILURE", "old", price=price_text(btc, asks[0][0]))
        params["type"] = "LIMIT_MAKER"
        del params["timeInForce"]
        reply = await alice.call("POST", "/api/v3/order/cancelReplace", **params)
    assert (reply.status, reply.code) == (409, -2021)
    data = reply.body["data"]
    assert (data["cancelResult"], data["newOrderResult"]) == ("SUCCESS", "FAILURE")
    assert data["cancelResponse"]["status"] == "CANCELED"
    assert data["newOrderResponse"]["code"] == -2010


async def test_cancel_replace_allowing_failure_reports_each_half(trading_venue, btc):
    """ALLOW_FAILURE: a failed cancel with a placed order is 409; both failing is 400 -2022."""
    bids, asks = _touch(trading_venue)
    async with Trader(trading_venue) as alice:
        placed = await alice.call(
            "POST",
            "/api/v3/order/cancelReplace",
            **_replace("ALLOW_FAILURE", "nobody", price=price_text(btc, bids[0][0] - 1)),
        )
        params = _replace("ALLOW_FAILURE", "nobody", price=price_text(btc, asks[0][0]))
        params["type"] = "LIMIT_MAKER"
        del params["timeInForce"]
        neither = await alice.call("POST", "/api/v3/order/cancelReplace", **params)
    assert (placed.status, placed.code) == (409, -2021)
    assert (placed.body["data"]["cancelResult"], placed.body["data"]["newOrderResult"]) == (
        "FAILURE",
        "SUCCESS",
    )
    assert placed.body["data"]["newOrderResponse"]["status"] == "NEW"
    assert (neither.status, neither.code) == (400, -2022)
    assert neither.body["data"]["newOrderResult"] == "FAILURE"


async def test_open_orders_weigh_6_for_a_symbol_and_80_for_all(trading_venue):
    """``GET /api/v3/openOrders`` costs 6 request weight with a symbol and 80 without."""
    async with Trader(trading_venue) as alice:
        first = await alice.call("GET", "/api/v3/openOrders", symbol="BTCUSDT")
        second = await alice.call("GET", "/api/v3/openOrders")
        third = await alice.call("GET", "/api/v3/openOrders", symbol="BTCUSDT")
    used = [int(r.headers["X-MBX-USED-WEIGHT-1M"]) for r in (first, second, third)]
    assert used[1] in (used[0] + 80, 80)  # 80 alone when a new minute began in between
    assert used[2] in (used[1] + 6, 6)


async def test_the_order_count_limit_refuses_with_1015(btc):
    """Over ``orders_per_10s`` new orders get 429 -1015 with Retry-After; counts are in headers."""
    venue = SimVenue([btc], seed=3, autorun=False, accounts=accounts(), orders_per_10s=3)
    await venue.start()
    try:
        bids, _ = _touch(venue)
        replies = []
        async with Trader(venue) as alice:
            for n in range(8):  # the 10 s interval may roll over once in between
                reply = await alice.order(
                    side="BUY",
                    type="LIMIT",
                    timeInForce="GTC",
                    quantity="0.00100",
                    price=price_text(btc, bids[0][0] - 2 - n),
                )
                replies.append(reply)
                if reply.status == 429:
                    break
            info = await alice.raw("GET", "/api/v3/exchangeInfo", "")
    finally:
        await venue.stop()
    limits = {(r["rateLimitType"], r["interval"]): r["limit"] for r in info.body["rateLimits"]}
    assert limits[("ORDERS", "SECOND")] == 3
    refused = replies[-1]
    assert (refused.status, refused.code) == (429, -1015)
    assert "orders per 10 SECOND" in refused.body["msg"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 10
    assert replies[-2].headers["X-MBX-ORDER-COUNT-10S"] == "3"


async def test_a_filled_order_takes_itself_off_the_order_count(trading_venue, btc):
    """An order that fills is counted and taken back off at once (order count decrement)."""
    bids, _ = _touch(trading_venue)
    async with Trader(trading_venue) as alice:
        resting = await alice.order(
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity="0.00100",
            price=price_text(btc, bids[0][0] - 2),
        )
        filled = await alice.order(side="BUY", type="MARKET", quantity="0.00100")
        counts = await alice.call("GET", "/api/v3/rateLimit/order")
    ten_s = resting.headers["X-MBX-ORDER-COUNT-10S"]
    assert filled.headers["X-MBX-ORDER-COUNT-10S"] in (ten_s, "0")
    assert {c["interval"]: c["limit"] for c in counts.body} == {"SECOND": 100, "DAY": 200000}


async def test_parameters_may_come_in_the_body_and_the_query_wins(trading_venue, btc):
    """A signed form body works, and a key in both query and body takes the query's value."""
    bids, _ = _touch(trading_venue)
    query = encode_params([("symbol", "BTCUSDT"), ("quantity", "0.00200")])
    body = encode_params(
        [
            ("side", "BUY"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "0.00100"),
            ("price", price_text(btc, bids[0][0] - 2)),
            ("timestamp", str(now_ms())),
        ]
    )
    body += "&signature=" + sign_rest(SECRET.encode(), query, body)
    async with Trader(trading_venue) as alice:
        reply = await alice.raw("POST", ORDER, query, body)
        in_body = await alice.call(
            "POST",
            ORDER,
            in_body=True,
            symbol="BTCUSDT",
            side="SELL",
            type="MARKET",
            quantity="0.00100",
        )
    assert reply.status == 200, reply
    assert reply.body["origQty"] == "0.00200000"
    assert in_body.body["status"] == "FILLED"


async def test_test_orders_are_checked_but_never_placed(trading_venue, btc):
    """``POST /api/v3/order/test`` answers ``{}`` for a good order, errors for a bad one."""
    async with Trader(trading_venue) as alice:
        good = await alice.call(
            "POST",
            "/api/v3/order/test",
            symbol="BTCUSDT",
            side="BUY",
            type="MARKET",
            quantity="0.00100",
        )
        bad = await alice.call(
            "POST",
            "/api/v3/order/test",
            symbol="BTCUSDT",
            side="BUY",
            type="MARKET",
            quantity="0.0000001",
        )
        trades = await alice.call("GET", "/api/v3/myTrades", symbol="BTCUSDT")
    assert (good.status, good.body) == (200, {})
    assert bad.code == -1013
    assert trades.body == []


async def test_my_trades_lists_each_fill(trading_venue, btc):
    """``GET /api/v3/myTrades`` lists every fill with price, qty, commission and the buyer flag."""
    _, asks = _touch(trading_venue)
    async with Trader(trading_venue) as alice:
        order = await alice.order(
            side="BUY",
            type="LIMIT",
            timeInForce="IOC",
            quantity=size_text(btc, asks[0][1] + 5),
            price=price_text(btc, asks[1][0]),
        )
        trades = await alice.call("GET", "/api/v3/myTrades", symbol="BTCUSDT")
        one = await alice.call(
            "GET",
            "/api/v3/myTrades",
            symbol="BTCUSDT",
            orderId=str(order.body["orderId"]),
            limit="1",
        )
    assert [t["id"] for t in trades.body] == [f["tradeId"] for f in order.body["fills"]]
    assert all(t["isBuyer"] and not t["isMaker"] for t in trades.body)
    assert [t["id"] for t in one.body] == [order.body["fills"][-1]["tradeId"]]
