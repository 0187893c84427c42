"""Bybit REST answers decoded: envelope, acks, open orders, positions, wallet, server time."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
import pytest

from engine.core.commands import TimeInForce
from engine.core.events import Side
from engine.core.instruments import Instrument
from engine.errors import VenueGarbage
from engine.venues.base import VenueOrder, VenuePosition
from engine.venues.bybit.answers import (
    ack_of,
    cancel_all_acks,
    envelope_of,
    open_orders_page,
    positions_page,
    server_time_ms,
    wallet_answer,
)
from engine.venues.bybit.orders import BybitMarket

MARKETS = {
    "BTCUSDT": BybitMarket(
        Instrument(venue="bybit", symbol="BTCUSDT", tick_size="0.10", lot_size="0.001")
    )
}


def raw(obj: object) -> msgspec.Raw:
    """JSON for a ``result``."""
    return msgspec.Raw(msgspec.json.encode(obj))


def open_order(**kw: Any) -> dict[str, Any]:
    """One ``/v5/order/realtime`` entry as Bybit prints it."""
    return {
        "orderId": "fd4300ae-7847-404e-b947-b46980a4d140",
        "orderLinkId": "mm-7",
        "symbol": "BTCUSDT",
        "price": "65000.10",
        "qty": "0.020",
        "side": "Sell",
        "orderStatus": "PartiallyFilled",
        "cumExecQty": "0.005",
        "orderType": "Limit",
        "timeInForce": "PostOnly",
        "avgPrice": "65000.1",
        "createdTime": "1672364262444",
    } | kw


def test_envelope_and_ack():
    """The envelope keeps retCode, retMsg, result and time; an ack names the order."""
    body = msgspec.json.encode(
        {
            "retCode": 0,
            "retMsg": "OK",
            "result": {"orderId": "abc", "orderLinkId": "mm-1"},
            "retExtInfo": {},
            "time": 1672211918471,
        }
    )
    envelope = envelope_of(body, "create answer")
    assert (envelope.ret_code, envelope.ret_msg, envelope.time) == (0, "OK", 1672211918471)
    ack = ack_of(envelope.result, "create answer")
    assert (ack.order_id, ack.order_link_id) == ("abc", "mm-1")


def test_ack_without_order_id_is_garbage_naming_it():
    """An ack missing orderId is VenueGarbage that names the field."""
    with pytest.raises(VenueGarbage, match="orderId"):
        ack_of(raw({"orderLinkId": "mm-1"}), "create answer")
    with pytest.raises(VenueGarbage, match="create answer"):
        envelope_of(b"<html>", "create answer")


def test_cancel_all_lists_each_order():
    """cancel-all answers one ack per order cancelled."""
    acks = cancel_all_acks(raw({"list": [{"orderId": "1", "orderLinkId": "a"}], "success": "1"}))
    assert [(a.order_id, a.order_link_id) for a in acks] == [("1", "a")]


def test_open_orders_page_keeps_working_orders_of_our_symbols():
    """Open orders become VenueOrders; finished ones and other symbols are left out."""
    result = raw(
        {
            "list": [
                open_order(),
                open_order(orderStatus="Filled"),
                open_order(symbol="ETHUSDT"),
            ],
            "nextPageCursor": "page_2",
            "category": "linear",
        }
    )
    orders, cursor = open_orders_page(MARKETS, result)
    assert cursor == "page_2"
    assert orders == [
        VenueOrder(
            instrument=0,
            client_order_id="mm-7",
            venue_order_id="fd4300ae-7847-404e-b947-b46980a4d140",
            side=Side.SELL,
            price_ticks=650001,
            size_lots=20,
            filled_lots=5,
            time_in_force=TimeInForce.POST_ONLY,
        )
    ]


@pytest.mark.parametrize("field", ["cumExecQty", "qty", "side"])
def test_open_order_with_a_bad_field_is_garbage_naming_it(field):
    """A malformed open order names the field."""
    bad = {"cumExecQty": "0.0005", "qty": "x", "side": "BUY"}[field]
    with pytest.raises(VenueGarbage, match=field):
        open_orders_page(MARKETS, raw({"list": [open_order(**{field: bad})]}))


def test_positions_are_signed_net_lots():
    """Buy is long, Sell short, an empty side flat."""
    for side, size, net in (("Buy", "0.010", 10), ("Sell", "0.004", -4), ("", "0", 0)):
        result = raw({"list": [{"symbol": "BTCUSDT", "side": side, "size": size}]})
        positions, cursor = positions_page(MARKETS, result)
        assert positions == [VenuePosition(instrument=0, net_lots=net)]
        assert cursor == ""


def test_wallet_coins_are_exact_decimals():
    """Wallet coins keep their exact decimal text as Decimal."""
    result = raw(
        {
            "list": [
                {
                    "accountType": "UNIFIED",
                    "coin": [
                        {
                            "coin": "USDT",
                            "walletBalance": "1000.12345678",
                            "equity": "1001.5",
                            "unrealisedPnl": "1.37654322",
                            "locked": "0",
                        }
                    ],
                }
            ]
        }
    )
    (usdt,) = wallet_answer(result)
    assert usdt.coin == "USDT"
    assert usdt.wallet_balance == Decimal("1000.12345678")
    assert usdt.unrealised_pnl == Decimal("1.37654322")
    with pytest.raises(VenueGarbage, match="walletBalance"):
        wallet_answer(raw({"list": [{"coin": [{"coin": "USDT", "walletBalance": "lots"}]}]}))


def test_server_time_reads_time_nano():
    """The server time comes from timeNano, in ms."""
    result = raw({"timeSecond": "1688639403", "timeNano": "1688639403423213947"})
    assert server_time_ms(result) == 1688639403423
    with pytest.raises(VenueGarbage, match="timeNano"):
        server_time_ms(raw({"timeNano": "-1"}))
