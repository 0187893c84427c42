"""The local venue's Binance USD-M REST API on real sockets: signing, orders, answers, faults."""

from __future__ import annotations

import pytest

from engine.sim.server import SimVenue
from tests.engine.sim.traders import OTHER_KEY, OTHER_SECRET, price_text, size_text
from tests.engine.sim.usdm_traders import FuturesTrader

pytestmark = pytest.mark.integration


def touch(venue: SimVenue) -> tuple[tuple[int, int], tuple[int, int]]:
    """The true book's best bid and best ask as (ticks, lots)."""
    bids, asks, _ = venue.true_book("BTCUSDT")
    return bids[0], asks[0]


async def test_time_is_unsigned_and_every_answer_carries_the_weight(trading_venue):
    """``/fapi/v1/time`` needs no signature; ``X-MBX-USED-WEIGHT-1M`` counts every call."""
    async with FuturesTrader(trading_venue) as alice:
        reply = await alice.raw("GET", "/fapi/v1/time", "")
        second = await alice.raw("GET", "/fapi/v1/ping", "")
    assert reply.status == 200
    assert isinstance(reply.body["serverTime"], int)
    assert (
        int(second.headers["X-MBX-USED-WEIGHT-1M"])
        == int(reply.headers["X-MBX-USED-WEIGHT-1M"]) + 1
    )


async def test_a_resting_limit_order_answers_the_order_object_and_counts(trading_venue, btc):
    """A passive GTC order: status NEW, exact grid text, the order counts in its headers."""
    (bid, _), _ = touch(trading_venue)
    price = price_text(btc, bid - 10)
    async with FuturesTrader(trading_venue) as alice:
        reply = await alice.limit("BUY", "0.00100", price, newClientOrderId="f-1")
        listed = await alice.get("/fapi/v1/openOrders", symbol="BTCUSDT")
        queried = await alice.get("/fapi/v1/order", symbol="BTCUSDT", origClientOrderId="f-1")
    assert reply.status == 200, reply
    body = reply.body
    assert (body["status"], body["clientOrderId"], body["price"], body["origQty"]) == (
        "NEW",
        "f-1",
        price,
        "0.00100",
    )
    assert (body["executedQty"], body["positionSide"], body["reduceOnly"]) == ("0", "BOTH", False)
    assert (reply.headers["X-MBX-ORDER-COUNT-10S"], reply.headers["X-MBX-ORDER-COUNT-1M"]) == (
        "1",
        "1",
    )
    assert [o["orderId"] for o in listed.body] == [body["orderId"]]
    assert queried.body["orderId"] == body["orderId"]


async def test_a_crossing_order_fills_and_reports_its_state_in_result(trading_venue, btc):
    """RESULT after a fill through the ask: FILLED, executed and cumQuote exact; ACK says NEW."""
    _, (ask, ask_size) = touch(trading_venue)
    lots = min(ask_size, 500)
    async with FuturesTrader(trading_venue) as alice:
        filled = await alice.limit(
            "BUY", size_text(btc, lots), price_text(btc, ask), newOrderRespType="RESULT"
        )
        acked = await alice.limit("BUY", "0.00100", price_text(btc, ask + 50))
    assert filled.body["status"] == "FILLED"
    assert filled.body["executedQty"] == size_text(btc, lots)
    assert filled.body["avgPrice"] == price_text(btc, ask).rstrip("0").rstrip(".")
    assert acked.body["status"] == "NEW", acked
    assert acked.body["executedQty"] == "0"


async def test_gtx_that_would_take_is_refused_and_not_recorded(trading_venue, btc):
    """Post-only through the book: 400 -5022 with Binance's sentence; no order exists."""
    _, (ask, _) = touch(trading_venue)
    async with FuturesTrader(trading_venue) as alice:
        reply = await alice.limit(
            "BUY", "0.00100", price_text(btc, ask), "GTX", newClientOrderId="g-1"
        )
        query = await alice.get("/fapi/v1/order", symbol="BTCUSDT", origClientOrderId="g-1")
    assert (reply.status, reply.code) == (400, -5022)
    assert reply.body["msg"].startswith("Due to the order could not be executed as maker")
    assert query.code == -2013


async def test_reduce_only_is_refused_flat_and_cut_to_the_position(trading_venue, btc):
    """Flat: -2022. Long 300 lots, reduce-only sell 500: 300 fill, the rest expires, flat."""
    (bid, _), (ask, _) = touch(trading_venue)
    async with FuturesTrader(trading_venue) as alice:
        flat = await alice.market("SELL", "0.00300", reduceOnly="true")
        await alice.limit("BUY", "0.00300", price_text(btc, ask))
        cut = await alice.market("SELL", "0.00500", reduceOnly="true", newOrderRespType="RESULT")
        (position,) = (await alice.get("/fapi/v3/positionRisk", symbol="BTCUSDT")).body
    assert (flat.status, flat.code, flat.body["msg"]) == (
        400,
        -2022,
        "ReduceOnly Order is rejected.",
    )
    assert (cut.body["status"], cut.body["executedQty"], cut.body["origQty"]) == (
        "EXPIRED",
        "0.00300",
        "0.00500",
    )
    assert position["positionAmt"] == "0.00000"
    del bid


async def test_modify_keeps_the_order_id_and_cancels_when_nothing_would_be_left(trading_venue, btc):
    """PUT changes price and total quantity under one orderId; the same values are -5027."""
    (bid, _), _ = touch(trading_venue)
    async with FuturesTrader(trading_venue) as alice:
        placed = await alice.limit(
            "BUY", "0.00200", price_text(btc, bid - 20), newClientOrderId="m-1"
        )
        moved = await alice.modify(
            origClientOrderId="m-1", side="BUY", quantity="0.00300", price=price_text(btc, bid - 30)
        )
        same = await alice.modify(
            origClientOrderId="m-1", side="BUY", quantity="0.00300", price=price_text(btc, bid - 30)
        )
        unknown = await alice.modify(
            origClientOrderId="nope", side="BUY", quantity="0.00300", price=price_text(btc, bid)
        )
    assert moved.status == 200, moved
    assert moved.body["orderId"] == placed.body["orderId"]
    assert (moved.body["price"], moved.body["origQty"], moved.body["status"]) == (
        price_text(btc, bid - 30),
        "0.00300",
        "NEW",
    )
    assert "X-MBX-ORDER-COUNT-10S" in moved.headers
    assert same.code == -5027
    assert unknown.code == -2013


async def test_a_gtx_modify_that_would_cross_cancels_the_order(trading_venue, btc):
    """Modifying a post-only order through the book cancels it (venues.md §2.6)."""
    (bid, _), (ask, _) = touch(trading_venue)
    async with FuturesTrader(trading_venue) as alice:
        await alice.limit("BUY", "0.00100", price_text(btc, bid - 5), "GTX", newClientOrderId="x-1")
        crossed = await alice.modify(
            origClientOrderId="x-1", side="BUY", quantity="0.00100", price=price_text(btc, ask)
        )
    assert crossed.status == 200
    assert crossed.body["status"] == "CANCELED"


async def test_cancel_and_cancel_all_answer_in_usdm_shapes(trading_venue, btc):
    """A cancel answers the order CANCELED; cancel-all answers code 200, also with nothing open."""
    (bid, _), _ = touch(trading_venue)
    async with FuturesTrader(trading_venue) as alice:
        await alice.limit("BUY", "0.00100", price_text(btc, bid - 5), newClientOrderId="c-1")
        await alice.limit("BUY", "0.00100", price_text(btc, bid - 6), newClientOrderId="c-2")
        one = await alice.cancel(origClientOrderId="c-1")
        again = await alice.cancel(origClientOrderId="c-1")
        every = await alice.call("DELETE", "/fapi/v1/allOpenOrders", symbol="BTCUSDT")
        empty = await alice.call("DELETE", "/fapi/v1/allOpenOrders", symbol="BTCUSDT")
        left = await alice.get("/fapi/v1/openOrders")
    assert (one.body["status"], one.body["clientOrderId"]) == ("CANCELED", "c-1")
    assert (again.status, again.code) == (400, -2011)
    assert every.body == {"code": 200, "msg": "The operation of cancel all open order is done."}
    assert empty.body == every.body
    assert left.body == []


async def test_user_trades_list_fills_with_commission_and_realised_pnl(trading_venue, btc):
    """Buy then sell back: two trades, the second realises PnL; a span over 7 days is -1127."""
    (bid, _), (ask, _) = touch(trading_venue)
    async with FuturesTrader(trading_venue) as alice:
        await alice.limit("BUY", "0.00100", price_text(btc, ask))
        await alice.limit("SELL", "0.00100", price_text(btc, bid))
        trades = (await alice.get("/fapi/v1/userTrades", symbol="BTCUSDT")).body
        too_long = await alice.get(
            "/fapi/v1/userTrades", symbol="BTCUSDT", startTime="0", endTime=str(8 * 86_400_000)
        )
    assert [t["side"] for t in trades] == ["BUY", "SELL"]
    assert all(t["commissionAsset"] == "USDT" and float(t["commission"]) > 0 for t in trades)
    assert trades[0]["realizedPnl"] == "0.00000000"
    assert trades[1]["realizedPnl"].startswith("-")  # bought at the ask, sold at the bid
    assert too_long.code == -1127


async def test_account_and_balance_follow_the_futures_wallet(trading_venue, btc):
    """The wallet starts at the account's USDT and pays fees; spot balances are not touched."""
    _, (ask, _) = touch(trading_venue)
    async with FuturesTrader(trading_venue) as alice:
        before = (await alice.get("/fapi/v3/balance")).body
        await alice.limit("BUY", "0.00100", price_text(btc, ask))
        after = (await alice.get("/fapi/v3/balance")).body
        account = (await alice.get("/fapi/v3/account")).body
    assert before[0]["asset"] == "USDT"
    assert before[0]["balance"] == "1000000.00000000"
    assert float(after[0]["balance"]) < 1_000_000
    assert float(account["totalPositionInitialMargin"]) > 0
    assert [p["symbol"] for p in account["positions"]] == ["BTCUSDT"]
    spot = trading_venue.trading.accounts.by_key(alice.key)
    assert spot is not None
    assert spot.balance("USDT").free == 1_000_000 * 10**8


async def test_an_order_beyond_the_margin_is_refused(trading_venue, btc):
    """1000x the wallet at 20x leverage: -2019."""
    (bid, _), _ = touch(trading_venue)
    async with FuturesTrader(trading_venue) as alice:
        reply = await alice.limit("BUY", "1000.00000", price_text(btc, bid - 100))
    assert (reply.code, reply.body["msg"]) == (-2019, "Margin is insufficient.")


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"side": "BUY", "type": "LIMIT", "quantity": "0.001", "price": "1"}, -1102),
        ({"side": "UP", "type": "MARKET", "quantity": "0.001"}, -1117),
        ({"side": "BUY", "type": "STOP_MARKET", "quantity": "0.001"}, -4120),
        (
            {"side": "BUY", "type": "LIMIT", "timeInForce": "GTD", "quantity": "1", "price": "1"},
            -1115,
        ),
        ({"side": "BUY", "type": "MARKET", "quantity": "0.000001"}, -1111),
        ({"side": "BUY", "type": "MARKET", "quantity": "0"}, -4003),
        (
            {
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "quantity": "1",
                "price": "1.001",
            },
            -4014,
        ),
        (
            {
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "quantity": "0.00001",
                "price": "1",
            },
            -4164,
        ),
        ({"side": "BUY", "type": "MARKET", "quantity": "0.001", "positionSide": "LONG"}, -4061),
        ({"side": "BUY", "type": "MARKET", "quantity": "0.001", "price": "1"}, -1106),
    ],
)
async def test_bad_orders_get_usdm_codes(trading_venue, params, code):
    """Each malformed or impossible order gets the code USD-M answers with."""
    async with FuturesTrader(trading_venue) as alice:
        reply = await alice.order(**params)
    assert (reply.status, reply.code) == (400, code), reply


async def test_signature_key_and_timestamp_are_checked(trading_venue):
    """A wrong secret is -1022, an unknown key -2015, a stale timestamp -1021."""
    async with FuturesTrader(trading_venue) as alice:
        bad_secret = await alice.get("/fapi/v3/balance", secret="wrong")
        bad_key = await alice.get("/fapi/v3/balance", key="nobody")
        stale = await alice.get("/fapi/v3/balance", timestamp=1)
    assert (bad_secret.status, bad_secret.code) == (400, -1022)
    assert (bad_key.status, bad_key.code) == (401, -2015)
    assert stale.code == -1021


async def test_accounts_are_kept_apart(trading_venue, btc):
    """Bob sees none of Alice's orders and cannot cancel them."""
    (bid, _), _ = touch(trading_venue)
    async with (
        FuturesTrader(trading_venue) as alice,
        FuturesTrader(trading_venue, OTHER_KEY, OTHER_SECRET) as bob,
    ):
        await alice.limit("BUY", "0.00100", price_text(btc, bid - 5), newClientOrderId="a-1")
        seen = await bob.get("/fapi/v1/openOrders")
        refused = await bob.cancel(origClientOrderId="a-1")
    assert seen.body == []
    assert refused.code == -2011


async def test_order_faults_answer_429_and_status_unknown(trading_venue, btc):
    """A rate-limit fault is 429 -1003 with Retry-After; status unknown is 408 -1007, placed."""
    (bid, _), _ = touch(trading_venue)
    faults = trading_venue.faults.trading
    async with FuturesTrader(trading_venue) as alice:
        faults.order_rate_limit_next(1, retry_after_s=2)
        limited = await alice.limit("BUY", "0.00100", price_text(btc, bid - 5))
        faults.status_unknown_next(1, placed=True)
        unknown = await alice.limit(
            "BUY", "0.00100", price_text(btc, bid - 5), newClientOrderId="u-1"
        )
        found = await alice.get("/fapi/v1/order", symbol="BTCUSDT", origClientOrderId="u-1")
        faults.garbage_rest_next(1)
        garbage = await alice.get("/fapi/v1/openOrders")
    assert (limited.status, limited.code, limited.headers["Retry-After"]) == (429, -1003, "2")
    assert (unknown.status, unknown.code) == (408, -1007)
    assert found.body["status"] == "NEW"
    assert garbage.body is None


async def test_the_order_count_limit_answers_1015(btc):
    """Over the account's 10-second order count: 429 -1015 naming the limit."""
    from engine.sim.usdm_limits import UsdmLimits
    from tests.engine.sim.traders import accounts

    venue = SimVenue([btc], seed=3, autorun=False, accounts=accounts())
    await venue.start()
    try:
        venue.usdm.limits.orders_per_10s = 2
        (bid, _), _ = touch(venue)
        async with FuturesTrader(venue) as alice:
            replies = [
                await alice.limit("BUY", "0.00100", price_text(btc, bid - 5 - n)) for n in range(3)
            ]
    finally:
        await venue.stop()
    assert [r.status for r in replies] == [200, 200, 429]
    assert replies[2].code == -1015
    assert "10 SECOND" in replies[2].body["msg"]
    assert isinstance(venue.usdm.limits, UsdmLimits)
