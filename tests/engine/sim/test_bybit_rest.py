"""The local venue's Bybit v5 linear REST API on real sockets: signing, orders, answers, faults."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.core.events import Side
from engine.sim.server import SimVenue
from tests.engine.sim.bybit_traders import BybitTrader, PrivateClient, now_ms
from tests.engine.sim.traders import OTHER_KEY, accounts, price_text, size_text


def touch(venue: SimVenue) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The true book's bids and asks, best first."""
    bids, asks, _ = venue.true_book("BTCUSDT")
    return bids, asks


async def test_market_time_is_unsigned_and_exact(trading_venue):
    """``/v5/market/time`` answers timeSecond and timeNano without a signature."""
    async with BybitTrader(trading_venue) as alice:
        assert alice._http is not None
        async with alice._http.get(f"{trading_venue.rest_url}/v5/market/time") as response:
            body = await response.json()
    assert body["retCode"] == 0
    assert body["result"]["timeNano"].startswith(body["result"]["timeSecond"])
    assert abs(int(body["result"]["timeNano"]) // 1_000_000 - now_ms()) < 60_000


async def test_a_resting_limit_order_is_acked_and_listed(trading_venue, btc):
    """A passive limit order answers only its ids; realtime lists it New with exact text."""
    bids, _ = touch(trading_venue)
    price = price_text(btc, bids[0][0] - 5)
    async with BybitTrader(trading_venue) as alice:
        reply = await alice.create(
            side="Buy", orderType="Limit", qty="0.00100", price=price, orderLinkId="b-1"
        )
        listed = await alice.open_orders()
    assert reply.status == 200
    assert reply.code == 0
    assert reply.msg == "OK"
    assert set(reply.result) == {"orderId", "orderLinkId"}
    assert reply.result["orderLinkId"] == "b-1"
    assert (reply.headers["X-Bapi-Limit"], reply.headers["X-Bapi-Limit-Status"]) == ("10", "9")
    (order,) = listed
    assert order["orderId"] == reply.result["orderId"]
    assert order["orderStatus"] == "New"
    assert (order["price"], order["qty"], order["leavesQty"]) == (price, "0.00100", "0.00100")
    assert (order["timeInForce"], order["orderType"], order["side"]) == ("GTC", "Limit", "Buy")


async def test_a_crossing_order_fills_and_nets_into_the_position(trading_venue, btc):
    """A buy through two ask levels fills, leaves the book, and is a long position."""
    _, asks = touch(trading_venue)
    lots = asks[0][1] + 3
    async with BybitTrader(trading_venue) as alice:
        reply = await alice.create(
            side="Buy",
            orderType="Limit",
            qty=size_text(btc, lots),
            price=price_text(btc, asks[1][0]),
            orderLinkId="b-2",
        )
        (order,) = await alice.open_orders(orderLinkId="b-2")
        position = await alice.get("/v5/position/list", symbol="BTCUSDT")
    assert reply.code == 0
    assert order["orderStatus"] == "Filled"
    assert order["cumExecQty"] == size_text(btc, lots)
    value = Decimal(asks[0][0] * asks[0][1] + asks[1][0] * 3) * Decimal("0.0000001")
    assert Decimal(order["cumExecValue"]) == value
    (held,) = position.result["list"]
    assert (held["side"], held["size"]) == ("Buy", size_text(btc, lots))
    _, after = touch(trading_venue)
    assert after[0] == (asks[1][0], asks[1][1] - 3)


async def test_post_only_that_would_take_is_created_then_cancelled(trading_venue, btc):
    """A crossing PostOnly order answers retCode 0, then is Cancelled with Bybit's reason."""
    _, asks = touch(trading_venue)
    async with BybitTrader(trading_venue) as alice, PrivateClient(trading_venue) as stream:
        await stream.auth()
        await stream.subscribe("order")
        reply = await alice.create(
            side="Buy",
            orderType="Limit",
            qty="0.00100",
            price=price_text(btc, asks[0][0]),
            timeInForce="PostOnly",
            orderLinkId="po-1",
        )
        (pushed,) = await stream.orders(1)
        assert await alice.open_orders() == []
    assert reply.code == 0
    assert pushed["orderStatus"] == "Cancelled"
    assert pushed["rejectReason"] == "EC_PostOnlyWillTakeLiquidity"
    assert pushed["orderLinkId"] == "po-1"


async def test_reduce_only_needs_a_position_and_is_cut_to_it(trading_venue, btc):
    """Reduce-only with no position is 110017; larger than the position it is cut down to it."""
    bids, asks = touch(trading_venue)
    async with BybitTrader(trading_venue) as alice:
        flat = await alice.create(side="Sell", orderType="Market", qty="0.00100", reduceOnly=True)
        await alice.create(side="Buy", orderType="Market", qty="0.00200")
        cut = await alice.create(
            side="Sell",
            orderType="Limit",
            qty="0.00500",
            price=price_text(btc, asks[0][0] + 50),
            reduceOnly=True,
            orderLinkId="ro-1",
        )
        (order,) = await alice.open_orders()
        wrong_way = await alice.create(
            side="Buy",
            orderType="Limit",
            qty="0.00100",
            price=price_text(btc, bids[0][0] - 50),
            reduceOnly=True,
        )
    assert flat.code == 110017
    assert "reduce-only" in flat.msg
    assert cut.code == 0
    assert (order["qty"], order["reduceOnly"]) == ("0.00200", True)
    assert wrong_way.code == 110017


async def test_amend_changes_price_and_qty_keeping_the_ids(trading_venue, btc):
    """Amend keeps orderId and orderLinkId and lists the new price and qty."""
    bids, _ = touch(trading_venue)
    async with BybitTrader(trading_venue) as alice:
        created = await alice.create(
            side="Buy",
            orderType="Limit",
            qty="0.00100",
            price=price_text(btc, bids[0][0] - 10),
            orderLinkId="am-1",
        )
        amended = await alice.post(
            "/v5/order/amend",
            symbol="BTCUSDT",
            orderLinkId="am-1",
            qty="0.00300",
            price=price_text(btc, bids[0][0] - 20),
        )
        unchanged = await alice.post(
            "/v5/order/amend", symbol="BTCUSDT", orderLinkId="am-1", qty="0.00300"
        )
        (order,) = await alice.open_orders()
    assert amended.code == 0
    assert amended.result == created.result
    assert (order["qty"], order["price"]) == ("0.00300", price_text(btc, bids[0][0] - 20))
    assert unchanged.code == 10001


async def test_cancel_then_cancel_again_is_110001(trading_venue, btc):
    """A cancel answers the ids; the order is gone; a second cancel is 110001."""
    bids, _ = touch(trading_venue)
    async with BybitTrader(trading_venue) as alice:
        created = await alice.create(
            side="Buy",
            orderType="Limit",
            qty="0.00100",
            price=price_text(btc, bids[0][0] - 10),
            orderLinkId="c-1",
        )
        first = await alice.post("/v5/order/cancel", symbol="BTCUSDT", orderLinkId="c-1")
        again = await alice.post(
            "/v5/order/cancel", symbol="BTCUSDT", orderId=created.result["orderId"]
        )
        amend = await alice.post(
            "/v5/order/amend", symbol="BTCUSDT", orderLinkId="c-1", qty="0.00200"
        )
        (order,) = await alice.open_orders(orderLinkId="c-1")
    assert first.code == 0
    assert first.result == created.result
    assert (again.code, again.msg) == (110001, "order not exists or too late to cancel")
    assert amend.code == 110001
    assert (order["orderStatus"], order["cancelType"]) == ("Cancelled", "CancelByUser")


async def test_cancel_all_lists_every_cancelled_order(trading_venue, btc):
    """cancel-all cancels each working order and lists them; with none it lists nothing."""
    bids, _ = touch(trading_venue)
    async with BybitTrader(trading_venue) as alice:
        for n in range(3):
            await alice.create(
                side="Buy",
                orderType="Limit",
                qty="0.00100",
                price=price_text(btc, bids[0][0] - 10 - n),
                orderLinkId=f"ca-{n}",
            )
        done = await alice.post("/v5/order/cancel-all", symbol="BTCUSDT")
        again = await alice.post("/v5/order/cancel-all", settleCoin="USDT")
        left = await alice.open_orders()
    assert done.code == 0
    assert [o["orderLinkId"] for o in done.result["list"]] == ["ca-0", "ca-1", "ca-2"]
    assert done.result["success"] == "1"
    assert again.result["list"] == []
    assert left == []


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        ({"category": "spot"}, 10001, "category"),
        ({"symbol": "DOGEUSDT"}, 10001, "symbol"),
        ({"side": "BUY"}, 10001, "side"),
        ({"orderType": "Stop"}, 10001, "orderType"),
        ({"qty": "0.000001"}, 10001, "qty"),
        ({"qty": 0.001}, 10001, "qty must be a string"),
        ({"price": "1.001"}, 10001, "price"),
        ({"timeInForce": "GTD"}, 10001, "timeInForce"),
        ({"orderLinkId": "bad id!"}, 10001, "orderLinkId"),
        ({"positionIdx": 1}, 10001, "position idx"),
        ({"qty": "0.00001", "price": "100.00"}, 110094, "minimum order value"),
        ({"qty": "1000.00000"}, 110007, "ab not enough"),
    ],
)
async def test_bad_orders_get_bybits_codes(trading_venue, btc, change, code, words):
    """Each malformed or impossible order is refused with Bybit's retCode and a clear retMsg."""
    bids, _ = touch(trading_venue)
    body = {
        "symbol": "BTCUSDT",
        "side": "Buy",
        "orderType": "Limit",
        "qty": "0.00100",
        "price": price_text(btc, bids[0][0] - 10),
    } | change
    async with BybitTrader(trading_venue) as alice:
        reply = await alice.post("/v5/order/create", **body)
    assert reply.status == 200
    assert reply.code == code
    assert words in reply.msg


async def test_duplicate_order_link_id_is_110072(trading_venue, btc):
    """An orderLinkId the venue remembers is refused with 110072."""
    bids, _ = touch(trading_venue)
    order = {"side": "Buy", "orderType": "Limit", "qty": "0.00100"}
    order["price"] = price_text(btc, bids[0][0] - 10)
    async with BybitTrader(trading_venue) as alice:
        first = await alice.create(orderLinkId="dup-1", **order)
        second = await alice.create(orderLinkId="dup-1", **order)
    assert first.code == 0
    assert (second.code, second.msg) == (110072, "OrderLinkedID is duplicate")


async def test_signature_key_and_timestamp_are_checked(trading_venue):
    """A wrong secret is 10004 ``error sign!``, an unknown key 10003, a stale stamp 10002."""
    async with BybitTrader(trading_venue) as alice:
        good = await alice.send("GET", "/v5/order/realtime", "category=linear&symbol=BTCUSDT")
        wrong = await alice.send(
            "GET", "/v5/order/realtime", "category=linear&symbol=BTCUSDT", secret="nope"
        )
        unknown = await alice.send("GET", "/v5/order/realtime", "category=linear", key="nokey")
        stale = await alice.send(
            "GET", "/v5/order/realtime", "category=linear", timestamp=now_ms() - 10_000
        )
        ahead = await alice.send(
            "GET", "/v5/order/realtime", "category=linear", timestamp=now_ms() + 5_000
        )
        body = '{"category":"linear","symbol":"BTCUSDT","orderLinkId":"x"}'
        tampered = await alice.send("POST", "/v5/order/cancel", body, signature=("0" * 64))
    assert good.code == 0
    assert (wrong.status, wrong.code, wrong.msg) == (200, 10004, "error sign!")
    assert (unknown.code, unknown.msg) == (10003, "API key is invalid.")
    assert stale.code == 10002
    assert "req_timestamp" in stale.msg
    assert ahead.code == 10002
    assert tampered.code == 10004
    assert "simSecret" not in wrong.text + unknown.text


async def test_the_endpoint_limit_answers_10006_with_its_reset_time(btc):
    """Past its per-second limit an endpoint answers 10006 with X-Bapi-Limit headers."""
    venue = SimVenue([btc], seed=3, autorun=False, accounts=accounts())
    await venue.start()
    try:
        venue.bybit.limits.limits["/v5/order/realtime"] = 2
        async with BybitTrader(venue) as alice:
            replies = [await alice.get("/v5/order/realtime", symbol="BTCUSDT") for _ in range(3)]
    finally:
        await venue.stop()
    assert [r.code for r in replies[:2]] == [0, 0]
    assert [r.headers["X-Bapi-Limit-Status"] for r in replies[:2]] == ["1", "0"]
    limited = replies[2]
    assert (limited.code, limited.msg) == (10006, "Too many visits!")
    assert limited.headers["X-Bapi-Limit-Status"] == "0"
    assert int(limited.headers["X-Bapi-Limit-Reset-Timestamp"]) > now_ms() - 1000


async def test_order_faults_answer_rate_limit_and_status_unknown(trading_venue, btc):
    """Armed faults answer 10006 with a reset time, and 10016 after placing the order."""
    bids, _ = touch(trading_venue)
    price = price_text(btc, bids[0][0] - 10)
    faults = trading_venue.faults.trading
    async with BybitTrader(trading_venue) as alice:
        faults.order_rate_limit_next(retry_after_s=2)
        limited = await alice.create(side="Buy", orderType="Limit", qty="0.00100", price=price)
        faults.status_unknown_next(placed=True)
        unknown = await alice.create(
            side="Buy", orderType="Limit", qty="0.00100", price=price, orderLinkId="su-1"
        )
        faults.garbage_rest_next()
        garbage = await alice.get("/v5/order/realtime", symbol="BTCUSDT")
        listed = await alice.open_orders()
    assert limited.code == 10006
    assert int(limited.headers["X-Bapi-Limit-Reset-Timestamp"]) >= now_ms() + 500
    assert unknown.code == 10016
    assert garbage.body is None
    assert [o["orderLinkId"] for o in listed] == ["su-1"]


async def test_positions_wallet_and_pnl_after_a_round_trip(trading_venue, btc):
    """A buy then a sell of the same size closes the position; the wallet holds PnL less fees."""
    async with BybitTrader(trading_venue) as alice:
        before = await alice.get("/v5/account/wallet-balance", accountType="UNIFIED", coin="USDT")
        await alice.create(side="Buy", orderType="Market", qty="0.01000")
        opened = await alice.get("/v5/position/list", settleCoin="USDT")
        await alice.create(side="Sell", orderType="Market", qty="0.01000")
        closed = await alice.get("/v5/position/list", settleCoin="USDT")
        one = await alice.get("/v5/position/list", symbol="BTCUSDT")
        after = await alice.get("/v5/account/wallet-balance", accountType="UNIFIED", coin="USDT")
        bad = await alice.get("/v5/account/wallet-balance", accountType="SPOT")
    (long,) = opened.result["list"]
    assert (long["side"], long["size"], long["leverage"]) == ("Buy", "0.01000", "10")
    assert closed.result["list"] == []
    assert (one.result["list"][0]["side"], one.result["list"][0]["size"]) == ("", "0.00000")
    start = Decimal(before.result["list"][0]["coin"][0]["walletBalance"])
    end = Decimal(after.result["list"][0]["coin"][0]["walletBalance"])
    realised = Decimal(one.result["list"][0]["cumRealisedPnl"])
    assert end < start  # the spread and two taker fees
    assert realised <= 0
    assert bad.code == 10001


async def test_open_orders_page_with_a_cursor(trading_venue, btc):
    """Open orders come newest first in pages; the cursor leads to the next page."""
    bids, _ = touch(trading_venue)
    async with BybitTrader(trading_venue) as alice:
        for n in range(3):
            await alice.create(
                side="Buy",
                orderType="Limit",
                qty="0.00100",
                price=price_text(btc, bids[0][0] - 10 - n),
                orderLinkId=f"pg-{n}",
            )
        first = await alice.get("/v5/order/realtime", symbol="BTCUSDT", limit="2")
        cursor = first.result["nextPageCursor"]
        second = await alice.get("/v5/order/realtime", symbol="BTCUSDT", limit="2", cursor=cursor)
        bad = await alice.get("/v5/order/realtime", symbol="BTCUSDT", cursor="elsewhere")
    assert [o["orderLinkId"] for o in first.result["list"]] == ["pg-2", "pg-1"]
    assert second.code == 0, second
    assert [o["orderLinkId"] for o in second.result["list"]] == ["pg-0"]
    assert second.result["nextPageCursor"] == ""
    assert bad.code == 10001


async def test_accounts_trade_apart(trading_venue, btc):
    """One account's orders are not another's: bob sees none of alice's."""
    bids, _ = touch(trading_venue)
    async with (
        BybitTrader(trading_venue) as alice,
        BybitTrader(trading_venue, OTHER_KEY, "simSecret0002") as bob,
    ):
        await alice.create(
            side="Buy", orderType="Limit", qty="0.00100", price=price_text(btc, bids[0][0] - 10)
        )
        assert await bob.open_orders() == []
        assert len(await alice.open_orders()) == 1


async def test_a_resting_order_fills_when_the_market_trades_through(trading_venue, btc):
    """A resting bid fills as a maker when a public market order sweeps through its price."""
    bids, _ = touch(trading_venue)
    price = bids[1][0]
    async with BybitTrader(trading_venue) as alice:
        await alice.create(
            side="Buy",
            orderType="Limit",
            qty="0.00100",
            price=price_text(btc, price),
            orderLinkId="mk-1",
        )
        trading_venue.market_order("BTCUSDT", Side.SELL, bids[0][1] + bids[1][1] + bids[2][1])
        (order,) = await alice.open_orders(orderLinkId="mk-1")
    assert order["orderStatus"] == "Filled"
    assert order["avgPrice"] == price_text(btc, price)
