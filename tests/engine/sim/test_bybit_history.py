"""The local venue's Bybit execution list and order history on real sockets, from its records."""

from __future__ import annotations

import pytest

from engine.sim.bybit_history import WEEK_MS, time_span
from engine.sim.bybit_wire import BybitError
from engine.sim.server import SimVenue
from tests.engine.sim.bybit_traders import BybitTrader, PrivateClient, now_ms
from tests.engine.sim.traders import price_text, size_text


def touch(venue: SimVenue) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The true book's bids and asks, best first."""
    bids, asks, _ = venue.true_book("BTCUSDT")
    return bids, asks


async def test_execution_list_has_the_pushed_exec_ids_newest_first(trading_venue, btc):
    """Each fill is listed with the execId, price, qty and fee the execution topic pushed."""
    _, asks = touch(trading_venue)
    async with BybitTrader(trading_venue) as alice, PrivateClient(trading_venue) as stream:
        await stream.auth()
        await stream.subscribe("execution")
        lots = asks[0][1] + 2
        reply = await alice.create(
            side="Buy",
            orderType="Limit",
            qty=size_text(btc, lots),
            price=price_text(btc, asks[1][0]),
            orderLinkId="x-1",
        )
        pushed = [(await stream.push("execution"))["data"][0] for _ in range(2)]
        listed = await alice.get("/v5/execution/list", symbol="BTCUSDT")
    assert reply.code == 0
    assert listed.code == 0, listed
    items = listed.result["list"]
    assert [i["execId"] for i in items] == [p["execId"] for p in reversed(pushed)]
    for item, push in zip(items, reversed(pushed), strict=True):
        for field in ("execPrice", "execQty", "execFee", "execTime", "isMaker", "leavesQty"):
            assert item[field] == push[field]
        assert item["orderLinkId"] == "x-1"
        assert item["execType"] == "Trade"
        assert "category" not in item
    assert listed.result["category"] == "linear"
    assert listed.result["nextPageCursor"] == ""
    assert items[-1]["leavesQty"] == size_text(btc, 2)


async def test_execution_list_pages_with_the_cursor(trading_venue):
    """With limit 1 every fill comes on its own page and the last page has no cursor."""
    async with BybitTrader(trading_venue) as alice:
        for n in range(3):
            await alice.create(side="Buy", orderType="Market", qty="0.00100", orderLinkId=f"m-{n}")
        seen: list[str] = []
        cursor = ""
        pages = 0
        while True:
            query = {"symbol": "BTCUSDT", "limit": "1"}
            if cursor:
                query["cursor"] = cursor
            reply = await alice.get("/v5/execution/list", **query)
            assert reply.code == 0, reply
            seen += [i["orderLinkId"] for i in reply.result["list"]]
            pages += 1
            cursor = reply.result["nextPageCursor"]
            if not cursor:
                break
    assert seen == ["m-2", "m-1", "m-0"]
    assert pages == 3


async def test_execution_list_filters_by_time_and_order(trading_venue):
    """A startTime after the fills lists none; orderLinkId lists only that order's fills."""
    async with BybitTrader(trading_venue) as alice:
        await alice.create(side="Buy", orderType="Market", qty="0.00100", orderLinkId="f-1")
        await alice.create(side="Sell", orderType="Market", qty="0.00100", orderLinkId="f-2")
        later = await alice.get("/v5/execution/list", startTime=str(now_ms() + 60_000))
        one = await alice.get("/v5/execution/list", orderLinkId="f-2")
        every = await alice.get("/v5/execution/list", startTime=str(now_ms() - 60_000))
        funding = await alice.get("/v5/execution/list", execType="Funding")
    assert later.result["list"] == []
    assert [i["orderLinkId"] for i in one.result["list"]] == ["f-2"]
    assert one.result["list"][0]["side"] == "Sell"
    assert [i["orderLinkId"] for i in every.result["list"]] == ["f-2", "f-1"]
    assert funding.result["list"] == []


async def test_history_lists_finished_orders_only(trading_venue, btc):
    """A cancelled and a filled order are in the history; a working one is not."""
    bids, _ = touch(trading_venue)
    async with BybitTrader(trading_venue) as alice:
        await alice.create(
            side="Buy",
            orderType="Limit",
            qty="0.00100",
            price=price_text(btc, bids[0][0] - 10),
            orderLinkId="h-rest",
        )
        await alice.create(
            side="Buy",
            orderType="Limit",
            qty="0.00100",
            price=price_text(btc, bids[0][0] - 20),
            orderLinkId="h-cxl",
        )
        await alice.post("/v5/order/cancel", symbol="BTCUSDT", orderLinkId="h-cxl")
        await alice.create(side="Buy", orderType="Market", qty="0.00100", orderLinkId="h-fill")
        history = await alice.get("/v5/order/history", symbol="BTCUSDT")
        one = await alice.get("/v5/order/history", orderLinkId="h-cxl")
        working = await alice.get("/v5/order/history", orderLinkId="h-rest")
        filled = await alice.get("/v5/order/history", orderStatus="Filled")
    assert history.code == 0, history
    statuses = {i["orderLinkId"]: i["orderStatus"] for i in history.result["list"]}
    assert statuses == {"h-cxl": "Cancelled", "h-fill": "Filled"}
    assert [i["orderLinkId"] for i in one.result["list"]] == ["h-cxl"]
    assert one.result["list"][0]["cancelType"] == "CancelByUser"
    assert working.result["list"] == []
    assert [i["orderLinkId"] for i in filled.result["list"]] == ["h-fill"]


async def test_history_refuses_a_span_over_a_week_and_a_bad_limit(trading_venue):
    """A span over 7 days, a limit over the page size or a bad category is retCode 10001."""
    now = now_ms()
    async with BybitTrader(trading_venue) as alice:
        wide = await alice.get(
            "/v5/execution/list", startTime=str(now - WEEK_MS - 1), endTime=str(now)
        )
        big = await alice.get("/v5/order/history", limit="51")
        spot = await alice.get("/v5/execution/list", category="spot")
        words = await alice.get("/v5/order/history", startTime="yesterday")
    assert wide.code == 10001
    assert "7 days" in wide.msg
    assert big.code == 10001
    assert spot.code == 10001
    assert words.code == 10001
    assert "startTime" in words.msg


def test_time_span_follows_bybits_defaults():
    """No times: the last week; one time: a week from it; both: as given."""
    assert time_span({}, 10 * WEEK_MS) == (9 * WEEK_MS, 10 * WEEK_MS)
    assert time_span({"startTime": "5"}, 0) == (5, 5 + WEEK_MS)
    assert time_span({"endTime": str(WEEK_MS + 3)}, 0) == (3, WEEK_MS + 3)
    assert time_span({"startTime": "1", "endTime": "9"}, 0) == (1, 9)


def test_time_span_refuses_an_end_before_the_start():
    """An endTime before the startTime is a parameter error naming it."""
    with pytest.raises(BybitError, match="endTime") as caught:
        time_span({"startTime": "9", "endTime": "1"}, 0)
    assert caught.value.ret_code == 10001
