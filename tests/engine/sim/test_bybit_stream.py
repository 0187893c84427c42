"""The local venue's Bybit private WebSocket: auth, subscribe, ping, pushes with Bybit's fields."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from tests.engine.sim.bybit_traders import BybitTrader, PrivateClient, now_ms
from tests.engine.sim.traders import price_text, size_text


async def test_auth_subscribe_and_ping(trading_venue):
    """A signed auth succeeds, subscribe then succeeds, and ping answers the private pong."""
    async with PrivateClient(trading_venue) as stream:
        auth = await stream.auth()
        sub = await stream.subscribe()
        await stream.send({"req_id": "p-1", "op": "ping"})
        pong = await stream.answer("pong")
    assert (auth["success"], auth["op"], auth["req_id"]) == (True, "auth", "auth-1")
    assert auth["conn_id"]
    assert (sub["success"], sub["req_id"]) == (True, "sub-1")
    assert pong["req_id"] == "p-1"
    assert abs(int(pong["args"][0]) - now_ms()) < 60_000


@pytest.mark.parametrize(
    ("client", "expires", "words"),
    [
        ({"secret": "wrong"}, None, "error sign"),
        ({"key": "unknownKey"}, None, "Invalid apikey"),
        ({}, 1, "expires is in the past"),
    ],
)
async def test_auth_is_refused_for_a_bad_signature_key_or_expiry(
    trading_venue, client, expires, words
):
    """A wrong secret, an unknown key or a past expiry fails auth with a reason."""
    async with PrivateClient(trading_venue, **client) as stream:
        auth = await stream.auth(expires)
    assert auth["success"] is False
    assert words in auth["ret_msg"]


async def test_subscribe_needs_auth_and_known_topics(trading_venue):
    """Subscribing before auth, or to a topic the venue lacks, fails."""
    async with PrivateClient(trading_venue) as stream:
        early = await stream.subscribe("order")
        await stream.auth()
        unknown = await stream.subscribe("orderbook.50.BTCUSDT")
        await stream.send("not json")
        garbled = await stream.frame()
    assert (early["success"], early["ret_msg"]) == (False, "Request not authorized")
    assert unknown["success"] is False
    assert "orderbook.50.BTCUSDT" in unknown["ret_msg"]
    assert garbled["success"] is False


async def test_a_fill_pushes_order_execution_position_and_wallet(trading_venue, btc):
    """A crossing order pushes New, its execution, Filled, the position and the wallet."""
    _, asks, _ = trading_venue.true_book("BTCUSDT")
    lots = min(asks[0][1], 200)
    async with BybitTrader(trading_venue) as alice, PrivateClient(trading_venue) as stream:
        await stream.auth()
        await stream.subscribe()
        await alice.create(
            side="Buy",
            orderType="Limit",
            qty=size_text(btc, lots),
            price=price_text(btc, asks[0][0]),
            orderLinkId="s-1",
        )
        new, filled = await stream.orders(2)
        execution = (await stream.push("execution"))["data"][0]
        position = (await stream.push("position"))["data"][0]
        wallet = (await stream.push("wallet"))["data"][0]
    assert (new["orderStatus"], new["category"], new["orderLinkId"]) == ("New", "linear", "s-1")
    assert filled["orderStatus"] == "Filled"
    assert filled["cumExecQty"] == size_text(btc, lots)
    assert execution["execType"] == "Trade"
    assert execution["isMaker"] is False
    assert (execution["execPrice"], execution["execQty"]) == (
        price_text(btc, asks[0][0]),
        size_text(btc, lots),
    )
    assert execution["orderId"] == new["orderId"]
    assert execution["execFee"] != "0"
    assert execution["feeRate"] == "0.001"
    assert (position["side"], position["size"]) == ("Buy", size_text(btc, lots))
    assert position["entryPrice"] == price_text(btc, asks[0][0])
    assert wallet["accountType"] == "UNIFIED"
    assert {c["coin"] for c in wallet["coin"]} >= {"USDT"}


async def test_cancel_pushes_cancelled_by_user(trading_venue, btc):
    """A cancelled order is pushed Cancelled with cancelType CancelByUser."""
    bids, _, _ = trading_venue.true_book("BTCUSDT")
    async with BybitTrader(trading_venue) as alice, PrivateClient(trading_venue) as stream:
        await stream.auth()
        await stream.subscribe("order")
        await alice.create(
            side="Buy",
            orderType="Limit",
            qty="0.00100",
            price=price_text(btc, bids[0][0] - 10),
            orderLinkId="s-2",
        )
        await alice.post("/v5/order/cancel", symbol="BTCUSDT", orderLinkId="s-2")
        new, cancelled = await stream.orders(2)
    assert new["orderStatus"] == "New"
    assert (cancelled["orderStatus"], cancelled["cancelType"]) == ("Cancelled", "CancelByUser")


async def test_pushes_go_only_to_the_accounts_own_subscribed_streams(trading_venue, btc):
    """Bob's stream hears nothing of alice's orders; unsubscribed topics are not pushed."""
    bids, _, _ = trading_venue.true_book("BTCUSDT")
    async with (
        BybitTrader(trading_venue) as alice,
        PrivateClient(trading_venue, key="simKey0002", secret="simSecret0002") as bob,
        PrivateClient(trading_venue) as mine,
    ):
        await bob.auth()
        await bob.subscribe()
        await mine.auth()
        await mine.subscribe("execution")
        await alice.create(
            side="Buy", orderType="Limit", qty="0.00100", price=price_text(btc, bids[0][0] - 10)
        )
        with pytest.raises(TimeoutError):
            await bob.frame(within_s=0.3)
        with pytest.raises(TimeoutError):
            await mine.frame(within_s=0.3)


async def test_drop_all_cuts_connections_without_a_close_frame(trading_venue):
    """Dropping the private streams ends every connection at once."""
    async with PrivateClient(trading_venue) as stream:
        await stream.auth()
        assert trading_venue.bybit.drop_private_streams() == 1
        assert stream.ws is not None
        msg = await asyncio.wait_for(stream.ws.receive(), 5)
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)


async def test_a_malformed_frame_can_go_ahead_of_a_push(trading_venue, btc):
    """The malformed-frame fault sends a broken frame before the next push."""
    bids, _, _ = trading_venue.true_book("BTCUSDT")
    async with BybitTrader(trading_venue) as alice, PrivateClient(trading_venue) as stream:
        await stream.auth()
        await stream.subscribe("order")
        trading_venue.faults.trading.malformed_user_stream_next()
        await alice.create(
            side="Buy", orderType="Limit", qty="0.00100", price=price_text(btc, bids[0][0] - 10)
        )
        broken = await stream.frame()
        good = await stream.frame()
    assert isinstance(broken, str)
    assert good["topic"] == "order"


async def test_pings_can_be_left_unanswered(trading_venue):
    """With the fault armed the next ping gets no pong; the one after is answered again."""
    async with PrivateClient(trading_venue) as stream:
        trading_venue.bybit.streams.skip_pongs_next()
        await stream.send({"req_id": "p-1", "op": "ping"})
        with pytest.raises(TimeoutError):
            await stream.frame(within_s=0.3)
        await stream.send({"req_id": "p-2", "op": "ping"})
        pong = await stream.answer("pong")
    assert pong["req_id"] == "p-2"
