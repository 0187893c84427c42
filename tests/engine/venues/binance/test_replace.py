"""Binance spot cancel-replace answers: 200, 400 -2022 and both kinds of 409 -2021."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from engine.core.commands import ReplaceOrder
from engine.core.events import Fill, OrderUpdate, OrderUpdateKind, Side
from engine.core.instruments import Instrument
from engine.errors import ClockSkew, RateLimited, VenueGarbage
from engine.venues.binance.orders import BinanceMarket
from engine.venues.binance.replace import replace_outcome

BTC = Instrument(
    venue="binance", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001", instrument_id=0
)
MARKET = BinanceMarket(BTC)
REPLACE = ReplaceOrder(client_order_id="desk-1", instrument=0, price_ticks=6_400_000, size_lots=500)
RECV = 99


def cancel_half() -> dict[str, Any]:
    """The cancel half: the old order 28 had 100 lots filled."""
    return {
        "symbol": "BTCUSDT",
        "origClientOrderId": "desk-1",
        "orderId": 28,
        "orderListId": -1,
        "clientOrderId": "xyz",
        "transactTime": 10,
        "price": "65000.00000000",
        "origQty": "0.00300000",
        "executedQty": "0.00100000",
        "cummulativeQuoteQty": "65.00000000",
        "status": "CANCELED",
        "timeInForce": "GTC",
        "type": "LIMIT",
        "side": "BUY",
    }


def new_half(**fields: Any) -> dict[str, Any]:
    """The new order half: order 31 for the 400 lots left, resting."""
    body = {
        "symbol": "BTCUSDT",
        "orderId": 31,
        "orderListId": -1,
        "clientOrderId": "desk-1",
        "transactTime": 11,
        "price": "64000.00000000",
        "origQty": "0.00400000",
        "executedQty": "0.00000000",
        "cummulativeQuoteQty": "0.00000000",
        "status": "NEW",
        "timeInForce": "GTC",
        "type": "LIMIT",
        "side": "BUY",
        "fills": [],
    }
    return body | fields


def outcome(status: int, body: Any, filled_before: int = 0, retry_after: str | None = None):
    """The outcome of one answer."""
    raw = msgspec.json.encode(body)
    return replace_outcome(MARKET, status, raw, Side.BUY, REPLACE, filled_before, RECV, retry_after)


def test_a_successful_replace_is_replaced_with_the_new_order_id_and_sizes():
    """200: REPLACED for the new venue order, sizes counting the lots filled before."""
    body = {
        "cancelResult": "SUCCESS",
        "newOrderResult": "SUCCESS",
        "cancelResponse": cancel_half(),
        "newOrderResponse": new_half(),
    }
    result = outcome(200, body)
    (update,) = result.events
    assert isinstance(update, OrderUpdate)
    assert update.kind is OrderUpdateKind.REPLACED
    assert (update.venue_order_id, update.price_ticks) == ("31", 6_400_000)
    assert (update.size_lots, update.filled_lots) == (500, 100)
    assert (result.canceled_order_id, result.new_order_id, result.filled_before) == (
        "28",
        "31",
        100,
    )
    assert not result.two_orders


def test_a_replacement_that_takes_liquidity_reports_its_fills():
    """The new order's immediate fills follow the REPLACED update."""
    fills = [
        {
            "price": "64000.00000000",
            "qty": "0.00100000",
            "commission": "0",
            "commissionAsset": "USDT",
            "tradeId": 9,
        }
    ]
    body = {
        "cancelResult": "SUCCESS",
        "newOrderResult": "SUCCESS",
        "cancelResponse": cancel_half(),
        "newOrderResponse": new_half(
            status="PARTIALLY_FILLED", executedQty="0.00100000", fills=fills
        ),
    }
    events = outcome(200, body).events
    assert [type(e) for e in events] == [OrderUpdate, Fill]
    assert events[1].trade_id == "BTCUSDT:9:B"  # type: ignore[union-attr]


def test_a_failed_cancel_is_replace_rejected_with_the_cancels_code():
    """400 -2022: nothing changed; REPLACE_REJECTED carries the cancel half's code and text."""
    body = {
        "code": -2022,
        "msg": "Order cancel-replace failed.",
        "data": {
            "cancelResult": "FAILURE",
            "newOrderResult": "NOT_ATTEMPTED",
            "cancelResponse": {"code": -2011, "msg": "Unknown order sent."},
            "newOrderResponse": None,
        },
    }
    result = outcome(400, body, filled_before=40)
    (update,) = result.events
    assert isinstance(update, OrderUpdate)
    assert update.kind is OrderUpdateKind.REPLACE_REJECTED
    assert (update.code, update.reason) == (-2011, "Unknown order sent.")
    assert result.filled_before == 40


def test_a_cancel_that_worked_with_a_refused_new_order_is_canceled():
    """409 -2021 with the new half refused: the order is gone, CANCELED with the new half's code."""
    body = {
        "code": -2021,
        "msg": "Order cancel-replace partially failed.",
        "data": {
            "cancelResult": "SUCCESS",
            "newOrderResult": "FAILURE",
            "cancelResponse": cancel_half(),
            "newOrderResponse": {"code": -2010, "msg": "Order would immediately match and take."},
        },
    }
    result = outcome(409, body)
    (update,) = result.events
    assert isinstance(update, OrderUpdate)
    assert update.kind is OrderUpdateKind.CANCELED
    assert update.code == -2010
    assert "Order would immediately match and take." in update.reason
    assert update.filled_lots == 100
    assert result.canceled_order_id == "28"


def test_a_new_order_placed_after_a_failed_cancel_asks_for_reconciliation():
    """409 -2021 with the cancel refused but an order placed: both may work; reconcile."""
    body = {
        "code": -2021,
        "msg": "Order cancel-replace partially failed.",
        "data": {
            "cancelResult": "FAILURE",
            "newOrderResult": "SUCCESS",
            "cancelResponse": {"code": -2011, "msg": "Unknown order sent."},
            "newOrderResponse": new_half(),
        },
    }
    result = outcome(409, body)
    assert result.two_orders
    assert result.new_order_id == "31"
    assert result.events[0].kind is OrderUpdateKind.REPLACE_REJECTED  # type: ignore[union-attr]


def test_other_errors_raise_their_gateway_error():
    """A plain error answer (clock, rate limit) raises its class."""
    with pytest.raises(ClockSkew):
        outcome(
            400, {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."}
        )
    with pytest.raises(RateLimited) as caught:
        outcome(429, {"code": -1003, "msg": "Too many requests."}, retry_after="3")
    assert caught.value.retry_after_s == 3


def test_a_success_without_the_new_order_half_is_garbage():
    """A 200 answer missing ``newOrderResponse`` is VenueGarbage naming it."""
    body = {"cancelResult": "SUCCESS", "newOrderResult": "SUCCESS", "cancelResponse": cancel_half()}
    with pytest.raises(VenueGarbage, match="newOrderResponse"):
        outcome(200, body)
