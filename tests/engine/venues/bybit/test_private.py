"""Bybit private-stream frames: requests, answers, and order/execution/position pushes as events."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from engine.core.events import Fill, OrderUpdate, OrderUpdateKind, Side
from engine.core.instruments import Instrument
from engine.errors import VenueGarbage
from engine.venues.base import VenuePosition
from engine.venues.bybit.orders import BybitMarket
from engine.venues.bybit.private import (
    OpAnswer,
    OtherTopic,
    PositionReport,
    PrivateParser,
    ping_frame,
    subscribe_frame,
)

BTC = Instrument(venue="bybit", symbol="BTCUSDT", tick_size="0.10", lot_size="0.001")
RECV = 123


@pytest.fixture
def parser() -> PrivateParser:
    """A parser for BTCUSDT linear."""
    return PrivateParser({"BTCUSDT": BybitMarket(BTC)})


def push(topic: str, *items: dict[str, Any]) -> bytes:
    """A private push as Bybit frames it."""
    frame = {"id": "5923240c", "topic": topic, "creationTime": 1672364262474, "data": list(items)}
    return msgspec.json.encode(frame)


def order_item(**kw: Any) -> dict[str, Any]:
    """One ``order`` item with Bybit's field names."""
    return {
        "category": "linear",
        "symbol": "BTCUSDT",
        "orderId": "5cf98598-39a7-459e-97bf-76ca765ee020",
        "orderLinkId": "mm-3",
        "side": "Buy",
        "price": "65000.1",
        "qty": "0.020",
        "orderStatus": "New",
        "cumExecQty": "0.000",
        "leavesQty": "0.020",
        "orderType": "Limit",
        "timeInForce": "GTC",
        "rejectReason": "EC_NoError",
        "cancelType": "UNKNOWN",
        "reduceOnly": False,
        "createdTime": "1672364262444",
        "updatedTime": "1672364262457",
    } | kw


def execution_item(**kw: Any) -> dict[str, Any]:
    """One ``execution`` item with Bybit's field names."""
    return {
        "category": "linear",
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


def test_requests():
    """Subscribe names the topics; ping carries its req_id."""
    assert json.loads(subscribe_frame("s1")) == {
        "req_id": "s1",
        "op": "subscribe",
        "args": ["order", "execution", "position", "wallet"],
    }
    assert json.loads(ping_frame("p1")) == {"req_id": "p1", "op": "ping"}


def test_answers_to_auth_subscribe_and_ping(parser):
    """Auth and subscribe answers say success; the private pong is an answer too."""
    ok = b'{"success":true,"ret_msg":"","op":"auth","conn_id":"cejreaspqfh3sjdnldmg-p"}'
    assert parser.parse(ok, RECV) == OpAnswer(op="auth", success=True)
    bad = b'{"success":false,"ret_msg":"error sign","op":"auth","conn_id":"x"}'
    assert parser.parse(bad, RECV) == OpAnswer(op="auth", success=False, ret_msg="error sign")
    pong = b'{"req_id":"p1","op":"pong","args":["1675418560633"],"conn_id":"x"}'
    assert parser.parse(pong, RECV) == OpAnswer(op="pong", req_id="p1")


def test_new_order_is_accepted_with_exact_numbers(parser):
    """A New order becomes ACCEPTED with the venue id, price, size and times."""
    (update,) = parser.parse(push("order", order_item()), RECV)
    assert update == OrderUpdate(
        venue="bybit",
        instrument=0,
        client_order_id="mm-3",
        kind=OrderUpdateKind.ACCEPTED,
        venue_order_id="5cf98598-39a7-459e-97bf-76ca765ee020",
        price_ticks=650001,
        size_lots=20,
        filled_lots=0,
        exch_ts=1672364262457_000_000,
        recv_ts=RECV,
    )


@pytest.mark.parametrize(
    ("fields", "kind", "reason"),
    [
        ({"orderStatus": "Cancelled", "cancelType": "CancelByUser"}, "canceled", ""),
        (
            {"orderStatus": "Cancelled", "rejectReason": "EC_PostOnlyWillTakeLiquidity"},
            "expired",
            "EC_PostOnlyWillTakeLiquidity",
        ),
        (
            {"orderStatus": "Cancelled", "timeInForce": "IOC", "cancelType": "UNKNOWN"},
            "expired",
            "IOC remainder expired (EC_NoError)",
        ),
        ({"orderStatus": "Cancelled", "cancelType": "CancelBySmp"}, "expired", "self-trade"),
        ({"orderStatus": "Cancelled", "cancelType": "CancelByReduceOnly"}, "expired", "reduce"),
        ({"orderStatus": "Cancelled", "cancelType": "CancelByAdmin"}, "canceled", "CancelByAdmin"),
        ({"orderStatus": "Rejected", "rejectReason": "EC_Others"}, "rejected", "EC_Others"),
        ({"orderStatus": "PartiallyFilled", "cumExecQty": "0.008"}, "accepted", ""),
    ],
)
def test_order_statuses_become_our_kinds(parser, fields, kind, reason):
    """Each ending says whether we canceled or the venue ended the order, and why."""
    (update,) = parser.parse(push("order", order_item(**fields)), RECV)
    assert update.kind == kind
    assert update.reason.startswith(reason)


def test_filled_orders_and_foreign_items_give_no_update(parser):
    """Filled is left to the execution topic; other categories and symbols are counted out."""
    frame = push(
        "order",
        order_item(orderStatus="Filled"),
        order_item(category="spot"),
        order_item(symbol="ETHUSDT"),
    )
    assert parser.parse(frame, RECV) == []
    assert parser.foreign == 2


def test_execution_is_a_fill_with_exec_id_fee_units_and_liquidity(parser):
    """A Trade execution is a Fill: execId as trade id, execFee in fee units, isMaker."""
    (fill,) = parser.parse(push("execution", execution_item()), RECV)
    assert fill == Fill(
        venue="bybit",
        instrument=0,
        client_order_id="mm-3",
        venue_order_id="5cf98598-39a7-459e-97bf-76ca765ee020",
        trade_id="7e2ae69c-4edf-5800-a352-893d52b446aa",
        side=Side.BUY,
        price=650000,
        size=8,
        fee=31_200_000,
        liquidity="taker",
        exch_ts=1672364174443_000_000,
        recv_ts=RECV,
    )
    (maker,) = parser.parse(push("execution", execution_item(isMaker=True, execFee="-0.01")), RECV)
    assert (maker.liquidity, maker.fee) == ("maker", -1_000_000)


def test_funding_is_not_a_fill(parser):
    """Funding executions are cash events, not fills."""
    assert parser.parse(push("execution", execution_item(execType="Funding")), RECV) == []


def test_position_and_wallet_pushes(parser):
    """Position pushes give net lots; wallet pushes are left to reconciliation."""
    frame = push(
        "position", {"category": "linear", "symbol": "BTCUSDT", "side": "Sell", "size": "0.5"}
    )
    assert parser.parse(frame, RECV) == PositionReport([VenuePosition(instrument=0, net_lots=-500)])
    assert parser.parse(push("wallet", {"accountType": "UNIFIED"}), RECV) == OtherTopic("wallet")


@pytest.mark.parametrize(
    ("frame", "words"),
    [
        (b"{not json", "private stream frame"),
        (b'{"hello":1}', "neither an answer nor a push"),
        (b'{"topic":"order"}', "without `data`"),
        (push("order", order_item(orderStatus="Sleeping")), "Sleeping"),
        (push("order", {"symbol": "BTCUSDT"}), "orderId"),
        (push("execution", execution_item(execPrice="65000.05")), "execPrice"),
        (push("execution", execution_item(execId="")), "execId"),
        (push("execution", execution_item(isMaker="no")), "isMaker"),
    ],
)
def test_garbage_is_named(parser, frame, words):
    """Malformed frames raise VenueGarbage naming what is wrong."""
    with pytest.raises(VenueGarbage, match=words):
        parser.parse(frame, RECV)
