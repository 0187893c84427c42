"""Bybit reconciliation calls: execution-list pages decoded, and order status and fills end to end.

The end-to-end tests run the gateway against the local venue on 127.0.0.1 (a still market, one
funded account), as :mod:`tests.engine.venues.bybit.test_gateway` does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest

from engine.core.commands import CancelOrder
from engine.core.events import Side
from engine.core.instruments import Instrument
from engine.errors import VenueGarbage
from engine.sim.server import SimVenue
from engine.venues.bybit import history
from engine.venues.bybit.answers import order_record
from engine.venues.bybit.gateway import BybitLinearGateway
from engine.venues.bybit.history import executions_page
from engine.venues.bybit.orders import BybitMarket, executions_query, order_history_query
from engine.venues.bybit.private import ExecutionItem, PrivateParser
from tests.engine.venues.bybit.test_gateway import (
    NAME,
    K,
    Recorder,
    limit,
    make_gateway,
    market,
    until,
)
from tests.engine.venues.bybit.test_gateway import venue as venue

MARKET = BybitMarket(
    Instrument(venue="bybit", symbol="BTCUSDT", tick_size="0.10", lot_size="0.001")
)
PARSER = PrivateParser({"BTCUSDT": MARKET})


def raw(obj: object) -> msgspec.Raw:
    """JSON for a ``result``."""
    return msgspec.Raw(msgspec.json.encode(obj))


def record(**kw: Any) -> dict[str, Any]:
    """One ``/v5/execution/list`` record with Bybit's field names (no ``category``)."""
    return {
        "symbol": "BTCUSDT",
        "orderId": "5cf98598-39a7-459e-97bf-76ca765ee020",
        "orderLinkId": "mm-3",
        "side": "Buy",
        "orderPrice": "65000.1",
        "orderQty": "0.020",
        "leavesQty": "0.012",
        "orderType": "Limit",
        "execId": "7e2ae69c-4edf-5800-a352-893d52b446aa",
        "execPrice": "65000.0",
        "execQty": "0.008",
        "execValue": "520",
        "execFee": "0.312",
        "feeRate": "0.0006",
        "execType": "Trade",
        "execTime": "1672364174443",
        "isMaker": False,
        "seq": 4688002127,
    } | kw


def test_an_execution_record_is_the_streams_fill():
    """A record reads as the same fill the execution topic gives, with its cursor."""
    result = raw({"category": "linear", "list": [record()], "nextPageCursor": "abc%3A1"})
    (fill,), cursor = executions_page(PARSER, result, {}, 9)
    pushed = PARSER.fill(msgspec.convert(record(), ExecutionItem), 9)
    assert fill == pushed
    assert cursor == "abc%3A1"
    assert (fill.trade_id, fill.price, fill.size, fill.fee) == (
        "7e2ae69c-4edf-5800-a352-893d52b446aa",
        650000,
        8,
        31_200_000,
    )
    assert fill.exch_ts == 1672364174443 * 1_000_000


def test_funding_and_foreign_records_are_left_out_and_unnamed_ones_named():
    """Funding and other symbols are not fills; a record without orderLinkId is named by id."""
    items = [
        record(execType="Funding", execId="f-1"),
        record(symbol="ETHUSDT", execId="e-1"),
        record(orderLinkId="", execId="t-1"),
    ]
    names = {"5cf98598-39a7-459e-97bf-76ca765ee020": "ours-1"}
    fills, cursor = executions_page(PARSER, raw({"list": items}), names, 0)
    assert [(f.trade_id, f.client_order_id) for f in fills] == [("t-1", "ours-1")]
    assert cursor == ""


@pytest.mark.parametrize("field", ["execId", "execPrice", "execQty", "execTime", "side"])
def test_a_bad_record_is_garbage_naming_the_field(field):
    """A malformed field raises VenueGarbage naming it."""
    bad = record(**{field: "x.y"}) if field != "execId" else record(execId="")
    with pytest.raises(VenueGarbage, match=field):
        executions_page(PARSER, raw({"list": [bad]}), {}, 0)


def test_queries_are_sorted_and_name_the_span():
    """Execution and history queries are Bybit's sorted query strings."""
    assert executions_query(MARKET, 1, 2, "c%3A5", 100) == (
        "category=linear&cursor=c%3A5&endTime=2&limit=100&startTime=1&symbol=BTCUSDT"
    )
    assert order_history_query(MARKET, "mm-1") == (
        "category=linear&limit=50&orderLinkId=mm-1&symbol=BTCUSDT"
    )


def test_order_record_reports_finished_orders_closed():
    """A finished order is found with open False; another id is None."""
    item = {
        "orderId": "o-1",
        "orderLinkId": "mm-9",
        "symbol": "BTCUSDT",
        "price": "65000.10",
        "qty": "0.020",
        "side": "Sell",
        "orderStatus": "Filled",
        "cumExecQty": "0.020",
        "orderType": "Limit",
        "timeInForce": "GTC",
    }
    found = order_record(MARKET, raw({"list": [item]}), "mm-9")
    assert found is not None
    assert (found.open, found.filled_lots, found.side) == (False, 20, Side.SELL)
    assert order_record(MARKET, raw({"list": [item]}), "mm-8") is None


# ---- end to end ------------------------------------------------------------------------------


@pytest.fixture
async def gateway(venue: SimVenue) -> AsyncIterator[tuple[BybitLinearGateway, Recorder]]:
    """A started gateway and its listener."""
    listener = Recorder()
    gw = make_gateway(venue, listener)
    await gw.start()
    yield gw, listener
    await gw.stop()


@pytest.mark.integration
async def test_order_status_finds_working_finished_and_unknown_orders(gateway, venue):
    """A resting order is open, a cancelled one closed, an unknown id None."""
    gw, listener = gateway
    bids, _, _ = venue.true_book("BTCUSDT")
    gw.submit(limit("s-1", Side.BUY, bids[2][0], 100))
    gw.submit(limit("s-2", Side.BUY, bids[2][0] - 1, 100))
    await until(lambda: listener.kinds("s-2") == ["accepted"], "the acks")
    gw.cancel(CancelOrder(client_order_id="s-2", instrument=0))
    await until(lambda: "canceled" in listener.kinds("s-2"), "the cancel")
    working = await gw.order_status(0, "s-1")
    cancelled = await gw.order_status(0, "s-2")
    assert working is not None
    assert (working.open, working.price_ticks, working.size_lots) == (True, bids[2][0], 100)
    assert working.venue_order_id == listener.last("s-1", K.ACCEPTED).venue_order_id
    assert cancelled is not None
    assert (cancelled.open, cancelled.filled_lots) == (False, 0)
    assert await gw.order_status(0, "never-sent") is None


@pytest.mark.integration
async def test_fills_since_are_the_streams_fills_oldest_first(gateway, venue, monkeypatch):
    """Every fill the stream reported comes back with the same trade id, over several pages."""
    monkeypatch.setattr(history, "PAGE", 2)
    gw, listener = gateway
    _, asks, _ = venue.true_book("BTCUSDT")
    since = gw.clock.time_ns()
    gw.submit(limit("f-1", Side.BUY, asks[1][0], asks[0][1] + 5))
    for n in range(3):
        gw.submit(market(f"f-m{n}", Side.SELL, 10))
    await until(lambda: len(listener.fills("f-m2")) == 1, "the fills")
    streamed = [f for cid in ("f-1", "f-m0", "f-m1", "f-m2") for f in listener.fills(cid)]
    before = gw.stats.requests
    found = await gw.fills_since(since - 60_000_000_000)
    assert sorted(f.trade_id for f in found) == sorted(f.trade_id for f in streamed)
    by_id = {f.trade_id: f for f in streamed}
    for fill in found:
        seen = by_id[fill.trade_id]
        assert (fill.venue, fill.client_order_id, fill.side, fill.price, fill.size, fill.fee) == (
            NAME,
            seen.client_order_id,
            seen.side,
            seen.price,
            seen.size,
            seen.fee,
        )
        assert fill.exch_ts == seen.exch_ts
    assert [f.exch_ts for f in found] == sorted(f.exch_ts for f in found)
    assert gw.stats.requests - before == 3  # five fills, two a page
    assert await gw.fills_since(gw.clock.time_ns() + 60_000_000_000) == []
